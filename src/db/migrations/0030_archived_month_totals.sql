-- Totals of the months `tollgate partitions detach` took out of usage and ledger_entries, so
-- reconcile still adds up every org's money without them (docs/operations.md#data-growth).
CREATE TABLE "archived_last_entries" (
	"org_id" uuid NOT NULL,
	"month" date NOT NULL,
	"seq" bigint NOT NULL,
	"voucher_after" bigint NOT NULL,
	"prepaid_after" bigint NOT NULL,
	"accrued_after" bigint NOT NULL,
	"booked_after" bigint NOT NULL,
	"collected_after" bigint NOT NULL,
	CONSTRAINT "archived_last_entries_org_id_month_pk" PRIMARY KEY("org_id","month")
);
--> statement-breakpoint
CREATE TABLE "archived_ledger_totals" (
	"org_id" uuid NOT NULL,
	"month" date NOT NULL,
	"kind" text NOT NULL,
	"entries" bigint NOT NULL,
	"amount" bigint NOT NULL,
	"max_seq" bigint NOT NULL,
	CONSTRAINT "archived_ledger_totals_org_id_month_kind_pk" PRIMARY KEY("org_id","month","kind")
);
--> statement-breakpoint
CREATE TABLE "archived_usage_totals" (
	"org_id" uuid NOT NULL,
	"month" date NOT NULL,
	"status" text NOT NULL,
	"rows" bigint NOT NULL,
	"voucher_amount" bigint NOT NULL,
	"prepaid_amount" bigint NOT NULL,
	"billable_amount" bigint NOT NULL,
	CONSTRAINT "archived_usage_totals_org_id_month_status_pk" PRIMARY KEY("org_id","month","status")
);
