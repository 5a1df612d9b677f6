CREATE TABLE "prepaid_credits" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"org_id" uuid NOT NULL,
	"source" text NOT NULL,
	"reference" text NOT NULL,
	"amount" bigint NOT NULL,
	"balance_after" bigint NOT NULL,
	"entry_seq" bigint NOT NULL,
	"created_at" timestamp (6) with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "billing_accounts" ADD COLUMN "billing_mode" text DEFAULT 'postpaid' NOT NULL;--> statement-breakpoint
ALTER TABLE "billing_accounts" ADD COLUMN "prepaid" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "billing_accounts" ADD COLUMN "reserved_prepaid" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "ledger_entries" ADD COLUMN "prepaid_after" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "usage" ADD COLUMN "prepaid_amount" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "prepaid_credits_source_ref_idx" ON "prepaid_credits" USING btree ("source","reference");--> statement-breakpoint
CREATE INDEX "prepaid_credits_org_idx" ON "prepaid_credits" USING btree ("org_id","id");--> statement-breakpoint
ALTER TABLE "billing_accounts" ADD CONSTRAINT "billing_accounts_mode_check" CHECK ("billing_mode" in ('postpaid', 'prepaid'));--> statement-breakpoint
ALTER TABLE "billing_accounts" ADD CONSTRAINT "billing_accounts_prepaid_check" CHECK ("prepaid" >= "reserved_prepaid" and "reserved_prepaid" >= 0);--> statement-breakpoint
ALTER TABLE "prepaid_credits" ADD CONSTRAINT "prepaid_credits_amount_check" CHECK ("amount" > 0);
--> statement-breakpoint
-- The cached batch write (WRITE_FUNCTION, see 0013) writes each usage's prepaid part, each
-- entry's prepaid balance after and each account's prepaid balance: its parameters change, so
-- the old function goes and the new one is created (a test keeps it equal to writeFunctionSql()).
DROP FUNCTION tollgate_write_cached_batch(int8[], uuid[], text[], text[], int4[], int8[], int8[], int8[], text[], int4[], text[], text[], uuid[], text[], timestamptz[], text[], jsonb[], timestamptz, uuid[], int8[], text[], text[], int8[], int8[], int8[], int8[], int8[], int8[], int8[], text[], timestamptz[], int8[], timestamptz[], int8[], uuid[], int8[], int8[], timestamptz[], int8[], int8[], int8[], int8[], int8[], int8[], timestamptz[], int4[], int8[], xid[], xid[]);
--> statement-breakpoint
CREATE OR REPLACE FUNCTION tollgate_write_cached_batch(int8[], uuid[], text[], text[], int4[], int8[], int8[], int8[], int8[], text[], int4[], text[], text[], uuid[], text[], timestamptz[], text[], jsonb[], timestamptz, uuid[], int8[], text[], text[], int8[], int8[], int8[], int8[], int8[], int8[], int8[], int8[], text[], timestamptz[], int8[], timestamptz[], int8[], uuid[], int8[], int8[], int8[], int8[], timestamptz[], int8[], int8[], int8[], int8[], int8[], int8[], timestamptz[], int4[], int8[], xid[], xid[]) RETURNS text
  LANGUAGE plpgsql
  SET plan_cache_mode = force_generic_plan
  SET enable_seqscan = off
  SET enable_bitmapscan = off
  SET enable_hashjoin = off
  SET enable_mergejoin = off
AS $fn$
DECLARE
  written_version text;
BEGIN
  with v as materialized (
    select unnest($1::int8[]) as id, unnest($2::uuid[]) as org_id, unnest($3::text[]) as subscription_id, unnest($4::text[]) as action, unnest($5::int4[]) as quantity, unnest($6::int8[]) as unit_price, unnest($7::int8[]) as voucher_amount, unnest($8::int8[]) as prepaid_amount, unnest($9::int8[]) as billable_amount, unnest($10::text[]) as rate_version, unnest($11::int4[]) as window_index, unnest($12::text[]) as status, unnest($13::text[]) as free_reason, unnest($14::uuid[]) as key_id, unnest($15::text[]) as idempotency_key, unnest($16::timestamptz[]) as expires_at, unnest($17::text[]) as request_hash, unnest($18::jsonb[]) as outcome
  ), u as (
    insert into usage (id, org_id, subscription_id, action, quantity, unit_price, voucher_amount, prepaid_amount, billable_amount, rate_version, window_index, status, free_reason, key_id, idempotency_key, expires_at, created_at)
    select id, org_id, subscription_id, action, quantity, unit_price, voucher_amount, prepaid_amount, billable_amount, rate_version, window_index, status, free_reason, key_id, idempotency_key, expires_at, $19::timestamptz from v
  ), k as (
    insert into idempotency_keys (org_id, key, request_hash, outcome, usage_id, created_at)
    select org_id, idempotency_key, request_hash, outcome, id, $19::timestamptz
    from v where idempotency_key is not null
  ), e as (
    insert into ledger_entries (org_id, seq, subscription_id, kind, amount, voucher_after, prepaid_after, accrued_after, booked_after, collected_after, usage_id, charge_id, memo, created_at) select unnest($20::uuid[]) as org_id, unnest($21::int8[]) as seq, unnest($22::text[]) as subscription_id, unnest($23::text[]) as kind, unnest($24::int8[]) as amount, unnest($25::int8[]) as voucher_after, unnest($26::int8[]) as prepaid_after, unnest($27::int8[]) as accrued_after, unnest($28::int8[]) as booked_after, unnest($29::int8[]) as collected_after, unnest($30::int8[]) as usage_id, unnest($31::int8[]) as charge_id, unnest($32::text[]) as memo, unnest($33::timestamptz[]) as created_at
  ), b as (
    update budgets b set window_start = v.window_start, spent = v.spent
     from (select unnest($34::int8[]) as id, unnest($35::timestamptz[]) as window_start,
       unnest($36::int8[]) as spent) as v
     where b.id = v.id and b.id = any($34::int8[])
  ), a as (
    update billing_accounts a set voucher = v.voucher, reserved_voucher = v.reserved_voucher,
       prepaid = v.prepaid, reserved_prepaid = v.reserved_prepaid,
       voucher_exhausted_at = v.voucher_exhausted_at, accrued = v.accrued, reserved = v.reserved,
       booked = v.booked, collected = v.collected, written_off = v.written_off, entry_seq = v.entry_seq,
       accrued_since = v.accrued_since, spend_window = v.spend_window, spend_window_spent = v.spend_window_spent,
       updated_at = clock_timestamp()
     from (select unnest($37::uuid[]) as org_id, unnest($38::int8[]) as voucher, unnest($39::int8[]) as reserved_voucher, unnest($40::int8[]) as prepaid, unnest($41::int8[]) as reserved_prepaid, unnest($42::timestamptz[]) as voucher_exhausted_at, unnest($43::int8[]) as accrued, unnest($44::int8[]) as reserved, unnest($45::int8[]) as booked, unnest($46::int8[]) as collected, unnest($47::int8[]) as written_off, unnest($48::int8[]) as entry_seq, unnest($49::timestamptz[]) as accrued_since, unnest($50::int4[]) as spend_window, unnest($51::int8[]) as spend_window_spent, unnest($52::xid[]) as account_version, unnest($53::xid[]) as subscription_version) as v
     where a.org_id = v.org_id and a.org_id = any($37::uuid[])
       and a.xmin = v.account_version
       and exists (select from subscriptions s where s.id = a.subscription_id and s.xmin = v.subscription_version)
     returning a.org_id
  )
  select pg_current_xact_id()::xid::text into written_version
  from (select tollgate_expect_fresh($37::uuid[], array_agg(org_id)) from a) as fresh;
  RETURN written_version;
END
$fn$;
