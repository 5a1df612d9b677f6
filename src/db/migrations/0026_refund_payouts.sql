ALTER TABLE "refunds" ADD COLUMN "payout_status" text;--> statement-breakpoint
ALTER TABLE "refunds" ADD COLUMN "payout_to" text;--> statement-breakpoint
ALTER TABLE "refunds" ADD COLUMN "payout_tx_hash" text;--> statement-breakpoint
ALTER TABLE "refunds" ADD COLUMN "payout_failure" text;--> statement-breakpoint
ALTER TABLE "refunds" ADD CONSTRAINT "refunds_payout_status_check" CHECK ("payout_status" is null or "payout_status" in ('intent', 'paid', 'failed'));
