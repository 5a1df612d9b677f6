CREATE TABLE "chain_cursors" (
	"chain_id" integer PRIMARY KEY NOT NULL,
	"block_number" bigint NOT NULL,
	"block_hash" text NOT NULL,
	"updated_at" timestamp (6) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "payment_history" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"chain_id" integer NOT NULL,
	"event" text NOT NULL,
	"subscription_id" text NOT NULL,
	"seq" integer NOT NULL,
	"window_index" integer NOT NULL,
	"amount" bigint NOT NULL,
	"total_collected" bigint,
	"failure_reason" text,
	"tx_hash" text NOT NULL,
	"block_number" bigint NOT NULL,
	"block_hash" text NOT NULL,
	"log_index" integer NOT NULL,
	"block_time" timestamp (6) with time zone,
	"explorer_url" text
);
--> statement-breakpoint
CREATE TABLE "settlement_batches" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"chain_id" integer NOT NULL,
	"operator" text NOT NULL,
	"status" text NOT NULL,
	"charge_ids" bigint[] NOT NULL,
	"tx_hash" text,
	"tx_hashes" text[] DEFAULT '{}' NOT NULL,
	"gas_used" bigint,
	"created_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (6) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX "payment_history_log_idx" ON "payment_history" USING btree ("chain_id","tx_hash","log_index");--> statement-breakpoint
CREATE INDEX "payment_history_sub_idx" ON "payment_history" USING btree ("subscription_id","seq");--> statement-breakpoint
CREATE INDEX "payment_history_block_idx" ON "payment_history" USING btree ("chain_id","block_number");--> statement-breakpoint
CREATE INDEX "settlement_batches_open_idx" ON "settlement_batches" USING btree ("status") WHERE status in ('intent', 'sent');