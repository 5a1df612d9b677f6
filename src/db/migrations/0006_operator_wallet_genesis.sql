DROP INDEX "operator_txs_nonce_idx";--> statement-breakpoint
DROP INDEX "operator_txs_open_idx";--> statement-breakpoint
ALTER TABLE "operator_nonces" DROP CONSTRAINT "operator_nonces_chain_id_address_pk";--> statement-breakpoint
ALTER TABLE "operator_nonces" ADD COLUMN "genesis" text NOT NULL;--> statement-breakpoint
ALTER TABLE "operator_nonces" ADD CONSTRAINT "operator_nonces_chain_id_genesis_address_pk" PRIMARY KEY("chain_id","genesis","address");--> statement-breakpoint
ALTER TABLE "operator_txs" ADD COLUMN "genesis" text NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "operator_txs_nonce_idx" ON "operator_txs" USING btree ("chain_id","genesis","address","nonce");--> statement-breakpoint
CREATE INDEX "operator_txs_open_idx" ON "operator_txs" USING btree ("chain_id","genesis","address") WHERE status in ('signed', 'sent');
