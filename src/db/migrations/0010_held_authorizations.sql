CREATE TABLE "held_authorizations" (
	"subscription_id" text PRIMARY KEY NOT NULL,
	"org_id" uuid NOT NULL,
	"owner" text NOT NULL,
	"permit_value" numeric(78, 0) NOT NULL,
	"permit_deadline" numeric(78, 0) NOT NULL,
	"permit_nonce" numeric(78, 0) NOT NULL,
	"permit_signature" text NOT NULL,
	"terms" jsonb,
	"held_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	"submitted_at" timestamp (6) with time zone,
	"tx_hash" text,
	"dropped_at" timestamp (6) with time zone,
	"dropped_reason" text
);
--> statement-breakpoint
ALTER TABLE "held_authorizations" ADD CONSTRAINT "held_authorizations_subscription_id_subscriptions_id_fk" FOREIGN KEY ("subscription_id") REFERENCES "public"."subscriptions"("id") ON DELETE no action ON UPDATE no action;