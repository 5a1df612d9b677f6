CREATE TABLE "billing_accounts" (
	"org_id" uuid PRIMARY KEY NOT NULL,
	"subscription_id" text NOT NULL,
	"voucher" bigint NOT NULL,
	"voucher_exhausted_at" timestamp (6) with time zone,
	"accrued" bigint DEFAULT 0 NOT NULL,
	"reserved" bigint DEFAULT 0 NOT NULL,
	"reserved_voucher" bigint DEFAULT 0 NOT NULL,
	"booked" bigint DEFAULT 0 NOT NULL,
	"collected" bigint DEFAULT 0 NOT NULL,
	"written_off" bigint DEFAULT 0 NOT NULL,
	"entry_seq" bigint DEFAULT 0 NOT NULL,
	"accrued_since" timestamp (6) with time zone,
	"created_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (6) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "charges" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"org_id" uuid NOT NULL,
	"subscription_id" text NOT NULL,
	"seq" integer NOT NULL,
	"window_index" integer NOT NULL,
	"amount" bigint NOT NULL,
	"status" text NOT NULL,
	"failure_reason" text,
	"tx_hash" text,
	"details" jsonb,
	"created_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (6) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "idempotency_keys" (
	"org_id" uuid NOT NULL,
	"key" text NOT NULL,
	"request_hash" text NOT NULL,
	"outcome" jsonb NOT NULL,
	"created_at" timestamp (6) with time zone NOT NULL,
	CONSTRAINT "idempotency_keys_org_id_key_pk" PRIMARY KEY("org_id","key")
);
--> statement-breakpoint
CREATE TABLE "ledger_entries" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"org_id" uuid NOT NULL,
	"seq" bigint NOT NULL,
	"subscription_id" text,
	"kind" text NOT NULL,
	"amount" bigint NOT NULL,
	"voucher_after" bigint NOT NULL,
	"accrued_after" bigint NOT NULL,
	"booked_after" bigint NOT NULL,
	"collected_after" bigint NOT NULL,
	"usage_id" bigint,
	"charge_id" bigint,
	"memo" text,
	"created_at" timestamp (6) with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "subscription_transitions" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"subscription_id" text NOT NULL,
	"from_state" text,
	"to_state" text NOT NULL,
	"cause" text NOT NULL,
	"actor" text,
	"reason" text,
	"at" timestamp (6) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "subscriptions" (
	"id" text PRIMARY KEY NOT NULL,
	"org_id" uuid NOT NULL,
	"owner" text,
	"state" text NOT NULL,
	"state_reason" text,
	"state_changed_at" timestamp (6) with time zone NOT NULL,
	"allowance" bigint DEFAULT 0 NOT NULL,
	"drawn" bigint DEFAULT 0 NOT NULL,
	"monthly_limit" bigint,
	"window_start" timestamp (6) with time zone,
	"window_seconds" integer NOT NULL,
	"spend_window" integer DEFAULT 0 NOT NULL,
	"spend_window_spent" bigint DEFAULT 0 NOT NULL,
	"terms_nonce" integer DEFAULT 0 NOT NULL,
	"last_seq" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp (6) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "usage" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"org_id" uuid NOT NULL,
	"subscription_id" text NOT NULL,
	"action" text NOT NULL,
	"quantity" integer NOT NULL,
	"unit_price" bigint NOT NULL,
	"voucher_amount" bigint NOT NULL,
	"billable_amount" bigint NOT NULL,
	"rate_version" text NOT NULL,
	"window_index" integer,
	"status" text NOT NULL,
	"free_reason" text,
	"idempotency_key" text,
	"expires_at" timestamp (6) with time zone,
	"charge_id" bigint,
	"created_at" timestamp (6) with time zone NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX "charges_sub_seq_idx" ON "charges" USING btree ("subscription_id","seq");--> statement-breakpoint
CREATE INDEX "charges_status_idx" ON "charges" USING btree ("status");--> statement-breakpoint
CREATE INDEX "charges_org_idx" ON "charges" USING btree ("org_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "ledger_entries_org_seq_idx" ON "ledger_entries" USING btree ("org_id","seq");--> statement-breakpoint
CREATE INDEX "subscription_transitions_sub_idx" ON "subscription_transitions" USING btree ("subscription_id","id");--> statement-breakpoint
CREATE INDEX "subscriptions_org_idx" ON "subscriptions" USING btree ("org_id");--> statement-breakpoint
CREATE INDEX "usage_org_idx" ON "usage" USING btree ("org_id","id");--> statement-breakpoint
CREATE INDEX "usage_reserved_idx" ON "usage" USING btree ("expires_at") WHERE status = 'reserved';