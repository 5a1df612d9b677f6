ALTER TABLE "usage" ADD COLUMN "key_id" uuid;
--> statement-breakpoint
-- The cached batch write (WRITE_FUNCTION, see 0013) writes usage.key_id too: its parameters
-- change, so the old function goes and the new one is created (a test keeps it equal to
-- writeFunctionSql()).
DROP FUNCTION tollgate_write_cached_batch(int8[], uuid[], text[], text[], int4[], int8[], int8[], int8[], text[], int4[], text[], text[], text[], timestamptz[], text[], jsonb[], timestamptz, uuid[], int8[], text[], text[], int8[], int8[], int8[], int8[], int8[], int8[], int8[], text[], timestamptz[], uuid[], int8[], int8[], timestamptz[], int8[], int8[], int8[], int8[], int8[], int8[], timestamptz[], int4[], int8[], xid[], xid[]);
--> statement-breakpoint
CREATE OR REPLACE FUNCTION tollgate_write_cached_batch(int8[], uuid[], text[], text[], int4[], int8[], int8[], int8[], text[], int4[], text[], text[], uuid[], text[], timestamptz[], text[], jsonb[], timestamptz, uuid[], int8[], text[], text[], int8[], int8[], int8[], int8[], int8[], int8[], int8[], text[], timestamptz[], uuid[], int8[], int8[], timestamptz[], int8[], int8[], int8[], int8[], int8[], int8[], timestamptz[], int4[], int8[], xid[], xid[]) RETURNS text
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
    select unnest($1::int8[]) as id, unnest($2::uuid[]) as org_id, unnest($3::text[]) as subscription_id, unnest($4::text[]) as action, unnest($5::int4[]) as quantity, unnest($6::int8[]) as unit_price, unnest($7::int8[]) as voucher_amount, unnest($8::int8[]) as billable_amount, unnest($9::text[]) as rate_version, unnest($10::int4[]) as window_index, unnest($11::text[]) as status, unnest($12::text[]) as free_reason, unnest($13::uuid[]) as key_id, unnest($14::text[]) as idempotency_key, unnest($15::timestamptz[]) as expires_at, unnest($16::text[]) as request_hash, unnest($17::jsonb[]) as outcome
  ), u as (
    insert into usage (id, org_id, subscription_id, action, quantity, unit_price, voucher_amount, billable_amount, rate_version, window_index, status, free_reason, key_id, idempotency_key, expires_at, created_at)
    select id, org_id, subscription_id, action, quantity, unit_price, voucher_amount, billable_amount, rate_version, window_index, status, free_reason, key_id, idempotency_key, expires_at, $18::timestamptz from v
  ), k as (
    insert into idempotency_keys (org_id, key, request_hash, outcome, usage_id, created_at)
    select org_id, idempotency_key, request_hash, outcome, id, $18::timestamptz
    from v where idempotency_key is not null
  ), e as (
    insert into ledger_entries (org_id, seq, subscription_id, kind, amount, voucher_after, accrued_after, booked_after, collected_after, usage_id, charge_id, memo, created_at) select unnest($19::uuid[]) as org_id, unnest($20::int8[]) as seq, unnest($21::text[]) as subscription_id, unnest($22::text[]) as kind, unnest($23::int8[]) as amount, unnest($24::int8[]) as voucher_after, unnest($25::int8[]) as accrued_after, unnest($26::int8[]) as booked_after, unnest($27::int8[]) as collected_after, unnest($28::int8[]) as usage_id, unnest($29::int8[]) as charge_id, unnest($30::text[]) as memo, unnest($31::timestamptz[]) as created_at
  ), a as (
    update billing_accounts a set voucher = v.voucher, reserved_voucher = v.reserved_voucher,
       voucher_exhausted_at = v.voucher_exhausted_at, accrued = v.accrued, reserved = v.reserved,
       booked = v.booked, collected = v.collected, written_off = v.written_off, entry_seq = v.entry_seq,
       accrued_since = v.accrued_since, spend_window = v.spend_window, spend_window_spent = v.spend_window_spent,
       updated_at = clock_timestamp()
     from (select unnest($32::uuid[]) as org_id, unnest($33::int8[]) as voucher, unnest($34::int8[]) as reserved_voucher, unnest($35::timestamptz[]) as voucher_exhausted_at, unnest($36::int8[]) as accrued, unnest($37::int8[]) as reserved, unnest($38::int8[]) as booked, unnest($39::int8[]) as collected, unnest($40::int8[]) as written_off, unnest($41::int8[]) as entry_seq, unnest($42::timestamptz[]) as accrued_since, unnest($43::int4[]) as spend_window, unnest($44::int8[]) as spend_window_spent, unnest($45::xid[]) as account_version, unnest($46::xid[]) as subscription_version) as v
     where a.org_id = v.org_id and a.org_id = any($32::uuid[])
       and a.xmin = v.account_version
       and exists (select from subscriptions s where s.id = a.subscription_id and s.xmin = v.subscription_version)
     returning a.org_id
  )
  select pg_current_xact_id()::xid::text into written_version
  from (select tollgate_expect_fresh($32::uuid[], array_agg(org_id)) from a) as fresh;
  RETURN written_version;
END
$fn$;
