CREATE TABLE "operator_nonces" (
	"chain_id" integer NOT NULL,
	"address" text NOT NULL,
	"next_nonce" integer NOT NULL,
	"updated_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "operator_nonces_chain_id_address_pk" PRIMARY KEY("chain_id","address")
);
--> statement-breakpoint
CREATE TABLE "operator_txs" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"chain_id" integer NOT NULL,
	"address" text NOT NULL,
	"nonce" integer NOT NULL,
	"purpose" text NOT NULL,
	"to_address" text NOT NULL,
	"data" text NOT NULL,
	"gas" bigint NOT NULL,
	"max_fee_per_gas" bigint NOT NULL,
	"max_priority_fee_per_gas" bigint NOT NULL,
	"raw" text NOT NULL,
	"tx_hashes" text[] NOT NULL,
	"status" text NOT NULL,
	"mined_hash" text,
	"created_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (6) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX "operator_txs_nonce_idx" ON "operator_txs" USING btree ("chain_id","address","nonce");--> statement-breakpoint
CREATE INDEX "operator_txs_open_idx" ON "operator_txs" USING btree ("chain_id","address") WHERE status in ('signed', 'sent');--> statement-breakpoint
CREATE INDEX "operator_txs_purpose_idx" ON "operator_txs" USING btree ("purpose");