CREATE TABLE "auto_top_ups" (
	"org_id" uuid PRIMARY KEY NOT NULL,
	"threshold" bigint NOT NULL,
	"amount" bigint NOT NULL,
	"updated_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	"updated_by" text
);
--> statement-breakpoint
ALTER TABLE "charges" ADD COLUMN "kind" text DEFAULT 'usage' NOT NULL;--> statement-breakpoint
ALTER TABLE "charges" ADD COLUMN "idempotency_key" text;--> statement-breakpoint
CREATE UNIQUE INDEX "charges_open_topup_idx" ON "charges" USING btree ("org_id") WHERE kind = 'topup' and status in ('booked', 'submitted', 'failed');--> statement-breakpoint
CREATE UNIQUE INDEX "charges_topup_key_idx" ON "charges" USING btree ("org_id","idempotency_key") WHERE idempotency_key is not null;--> statement-breakpoint
ALTER TABLE "charges" ADD CONSTRAINT "charges_kind_check" CHECK ("kind" in ('usage', 'topup'));--> statement-breakpoint
ALTER TABLE "auto_top_ups" ADD CONSTRAINT "auto_top_ups_amounts_check" CHECK ("threshold" >= 0 and "amount" > 0);
