DROP INDEX "operator_txs_nonce_idx";--> statement-breakpoint
ALTER TABLE "billing_accounts" ADD COLUMN "spend_window" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "billing_accounts" ADD COLUMN "spend_window_spent" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "operator_txs_nonce_idx" ON "operator_txs" USING btree ("chain_id","genesis","address","nonce") WHERE status <> 'dropped';--> statement-breakpoint
-- Carry each account's monthly meter over from its current subscription before the columns go.
UPDATE "billing_accounts" a SET "spend_window" = s."spend_window", "spend_window_spent" = s."spend_window_spent"
FROM "subscriptions" s WHERE s."id" = a."subscription_id";--> statement-breakpoint
ALTER TABLE "subscriptions" DROP COLUMN "spend_window";--> statement-breakpoint
ALTER TABLE "subscriptions" DROP COLUMN "spend_window_spent";