CREATE TABLE "public_history" (
	"subscription_id" text PRIMARY KEY NOT NULL,
	"enabled_by" text NOT NULL,
	"enabled_at" timestamp (6) with time zone DEFAULT now() NOT NULL
);
