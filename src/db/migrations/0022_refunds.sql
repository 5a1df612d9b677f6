CREATE TABLE "refunds" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"org_id" uuid NOT NULL,
	"idempotency_key" text NOT NULL,
	"request_hash" text NOT NULL,
	"charge_id" bigint,
	"usage_ids" bigint[] DEFAULT '{}' NOT NULL,
	"amount" bigint NOT NULL,
	"netted" bigint NOT NULL,
	"owed_onchain" bigint NOT NULL,
	"status" text NOT NULL,
	"reason" text NOT NULL,
	"actor" text NOT NULL,
	"outcome" jsonb NOT NULL,
	"created_at" timestamp (6) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX "refunds_key_idx" ON "refunds" USING btree ("org_id","idempotency_key");--> statement-breakpoint
CREATE INDEX "refunds_charge_idx" ON "refunds" USING btree ("charge_id");