ALTER TABLE "billing_accounts" ADD COLUMN "included_units" jsonb;--> statement-breakpoint
ALTER TABLE "billing_accounts" ADD COLUMN "included_units_used" jsonb;--> statement-breakpoint
ALTER TABLE "usage" ADD COLUMN "included_units" integer DEFAULT 0 NOT NULL;;--> statement-breakpoint
ALTER TABLE "billing_accounts" ADD CONSTRAINT "billing_accounts_included_units_check" CHECK ("included_units" is null or jsonb_typeof("included_units") = 'object');--> statement-breakpoint
ALTER TABLE "usage" ADD CONSTRAINT "usage_included_units_check" CHECK ("included_units" >= 0 and "included_units" <= "quantity");
--> statement-breakpoint
-- The cached batch write (WRITE_FUNCTION, see 0013) writes each usage's included units and each
-- account's units drawn this month: its parameters change, so the old function goes and the new
-- one is created (a test keeps it equal to writeFunctionSql()).
DROP FUNCTION tollgate_write_cached_batch(int8[], uuid[], text[], text[], int4[], int8[], int8[], int8[], int8[], int8[], text[], int4[], text[], text[], uuid[], text[], timestamptz[], text[], jsonb[], timestamptz, uuid[], int8[], text[], text[], int8[], int8[], int8[], int8[], int8[], int8[], int8[], int8[], text[], timestamptz[], int8[], timestamptz[], int8[], uuid[], int8[], int8[], int8[], int8[], timestamptz[], int8[], int8[], int8[], int8[], int8[], int8[], timestamptz[], int4[], int8[], timestamptz[], int8[], xid[], xid[]);
--> statement-breakpoint
CREATE OR REPLACE FUNCTION tollgate_write_cached_batch(int8[], uuid[], text[], text[], int4[], int8[], int8[], int8[], int4[], int8[], int8[], text[], int4[], text[], text[], uuid[], text[], timestamptz[], text[], jsonb[], timestamptz, uuid[], int8[], text[], text[], int8[], int8[], int8[], int8[], int8[], int8[], int8[], int8[], text[], timestamptz[], int8[], timestamptz[], int8[], uuid[], int8[], int8[], int8[], int8[], timestamptz[], int8[], int8[], int8[], int8[], int8[], int8[], timestamptz[], int4[], int8[], timestamptz[], int8[], jsonb[], xid[], xid[]) RETURNS text
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
    select unnest($1::int8[]) as id, unnest($2::uuid[]) as org_id, unnest($3::text[]) as subscription_id, unnest($4::text[]) as action, unnest($5::int4[]) as quantity, unnest($6::int8[]) as unit_price, unnest($7::int8[]) as voucher_amount, unnest($8::int8[]) as included_amount, unnest($9::int4[]) as included_units, unnest($10::int8[]) as prepaid_amount, unnest($11::int8[]) as billable_amount, unnest($12::text[]) as rate_version, unnest($13::int4[]) as window_index, unnest($14::text[]) as status, unnest($15::text[]) as free_reason, unnest($16::uuid[]) as key_id, unnest($17::text[]) as idempotency_key, unnest($18::timestamptz[]) as expires_at, unnest($19::text[]) as request_hash, unnest($20::jsonb[]) as outcome
  ), u as (
    insert into usage (id, org_id, subscription_id, action, quantity, unit_price, voucher_amount, included_amount, included_units, prepaid_amount, billable_amount, rate_version, window_index, status, free_reason, key_id, idempotency_key, expires_at, created_at)
    select id, org_id, subscription_id, action, quantity, unit_price, voucher_amount, included_amount, included_units, prepaid_amount, billable_amount, rate_version, window_index, status, free_reason, key_id, idempotency_key, expires_at, $21::timestamptz from v
  ), k as (
    insert into idempotency_keys (org_id, key, request_hash, outcome, usage_id, created_at)
    select org_id, idempotency_key, request_hash, outcome, id, $21::timestamptz
    from v where idempotency_key is not null
  ), e as (
    insert into ledger_entries (org_id, seq, subscription_id, kind, amount, voucher_after, prepaid_after, accrued_after, booked_after, collected_after, usage_id, charge_id, memo, created_at) select unnest($22::uuid[]) as org_id, unnest($23::int8[]) as seq, unnest($24::text[]) as subscription_id, unnest($25::text[]) as kind, unnest($26::int8[]) as amount, unnest($27::int8[]) as voucher_after, unnest($28::int8[]) as prepaid_after, unnest($29::int8[]) as accrued_after, unnest($30::int8[]) as booked_after, unnest($31::int8[]) as collected_after, unnest($32::int8[]) as usage_id, unnest($33::int8[]) as charge_id, unnest($34::text[]) as memo, unnest($35::timestamptz[]) as created_at
  ), b as (
    update budgets b set window_start = v.window_start, spent = v.spent
     from (select unnest($36::int8[]) as id, unnest($37::timestamptz[]) as window_start,
       unnest($38::int8[]) as spent) as v
     where b.id = v.id and b.id = any($36::int8[])
  ), a as (
    update billing_accounts a set voucher = v.voucher, reserved_voucher = v.reserved_voucher,
       prepaid = v.prepaid, reserved_prepaid = v.reserved_prepaid,
       voucher_exhausted_at = v.voucher_exhausted_at, accrued = v.accrued, reserved = v.reserved,
       booked = v.booked, collected = v.collected, written_off = v.written_off, entry_seq = v.entry_seq,
       accrued_since = v.accrued_since, spend_window = v.spend_window, spend_window_spent = v.spend_window_spent,
       included_window_start = v.included_window_start, included_used = v.included_used,
       included_units_used = v.included_units_used,
       updated_at = clock_timestamp()
     from (select unnest($39::uuid[]) as org_id, unnest($40::int8[]) as voucher, unnest($41::int8[]) as reserved_voucher, unnest($42::int8[]) as prepaid, unnest($43::int8[]) as reserved_prepaid, unnest($44::timestamptz[]) as voucher_exhausted_at, unnest($45::int8[]) as accrued, unnest($46::int8[]) as reserved, unnest($47::int8[]) as booked, unnest($48::int8[]) as collected, unnest($49::int8[]) as written_off, unnest($50::int8[]) as entry_seq, unnest($51::timestamptz[]) as accrued_since, unnest($52::int4[]) as spend_window, unnest($53::int8[]) as spend_window_spent, unnest($54::timestamptz[]) as included_window_start, unnest($55::int8[]) as included_used, unnest($56::jsonb[]) as included_units_used, unnest($57::xid[]) as account_version, unnest($58::xid[]) as subscription_version) as v
     where a.org_id = v.org_id and a.org_id = any($39::uuid[])
       and a.xmin = v.account_version
       and exists (select from subscriptions s where s.id = a.subscription_id and s.xmin = v.subscription_version)
     returning a.org_id
  )
  select pg_current_xact_id()::xid::text into written_version
  from (select tollgate_expect_fresh($39::uuid[], array_agg(org_id)) from a) as fresh;
  RETURN written_version;
END
$fn$;
