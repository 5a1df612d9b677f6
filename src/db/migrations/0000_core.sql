CREATE TABLE "process_heartbeats" (
	"name" text PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"pid" integer NOT NULL,
	"started_at" timestamp (6) with time zone NOT NULL,
	"last_seen_at" timestamp (6) with time zone NOT NULL
);
