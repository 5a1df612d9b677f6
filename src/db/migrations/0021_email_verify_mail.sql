ALTER TABLE "email_settings" ADD COLUMN "verify_mail_sealed" text;--> statement-breakpoint
ALTER TABLE "email_settings" ADD COLUMN "verify_mail_attempts" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "email_settings" ADD COLUMN "verify_mail_next_at" timestamp (6) with time zone;