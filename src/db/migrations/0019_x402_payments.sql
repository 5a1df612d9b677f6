CREATE TABLE "x402_payments" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"chain_id" integer NOT NULL,
	"token" text NOT NULL,
	"payer" text NOT NULL,
	"payee" text NOT NULL,
	"value" numeric(78, 0) NOT NULL,
	"valid_after" numeric(78, 0) NOT NULL,
	"valid_before" numeric(78, 0) NOT NULL,
	"nonce" text NOT NULL,
	"signature" text NOT NULL,
	"payment_id" text,
	"purpose" text NOT NULL,
	"org_id" uuid,
	"status" text DEFAULT 'recorded' NOT NULL,
	"operator_tx_id" bigint,
	"tx_hash" text,
	"block_number" bigint,
	"failure_reason" text,
	"recorded_block" bigint NOT NULL,
	"credited_at" timestamp (6) with time zone,
	"serving_since" timestamp (6) with time zone,
	"response" jsonb,
	"created_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (6) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX "x402_payments_authorization" ON "x402_payments" USING btree ("chain_id","token","payer","nonce");--> statement-breakpoint
CREATE UNIQUE INDEX "x402_payments_payment_id" ON "x402_payments" USING btree ("payer","payment_id") WHERE "x402_payments"."payment_id" is not null;--> statement-breakpoint
CREATE INDEX "x402_payments_open" ON "x402_payments" USING btree ("status") WHERE "x402_payments"."status" in ('recorded', 'settling') or ("x402_payments"."status" = 'settled' and "x402_payments"."credited_at" is null);--> statement-breakpoint
CREATE INDEX "x402_payments_org" ON "x402_payments" USING btree ("org_id","created_at");