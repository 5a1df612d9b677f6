ALTER TABLE "refunds" ADD COLUMN "payout_block" bigint;--> statement-breakpoint
ALTER TABLE "refunds" ADD COLUMN "payout_at" timestamp (6) with time zone;--> statement-breakpoint
ALTER TABLE "refunds" ADD COLUMN "payout_chain_id" integer;