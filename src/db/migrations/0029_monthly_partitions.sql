-- usage and ledger_entries become parents partitioned by month of created_at (UTC), so a month
-- can be detached for archive and the hot indexes are a month deep (docs/operations.md, Data
-- growth). Each table is rebuilt inside this migration's transaction: the old one renamed, the
-- partitioned one created with the same columns, the rows copied, the old one dropped.
--
-- One partition a month, `<table>_yYYYYmMM`, plus `<table>_default` as a safety net: a row
-- whose month has no partition yet lands there instead of failing the meter's insert, and
-- tollgate_ensure_month_partitions moves such rows into the month's partition when it creates it.
--
-- A partitioned table's primary key must hold the partition key: (id, created_at). The ids still
-- come from one sequence per table, so they stay unique on their own; an update by id probes
-- each partition's primary key index.
--
-- ledger_entries' (org_id, seq) cannot be unique across partitions without created_at. Each
-- partition has its own unique index on (org_id, seq); a seq is allocated from the account row
-- (entry_seq) in the transaction that writes the entry, and `tollgate reconcile` counts distinct
-- seqs per org over every partition.
CREATE FUNCTION tollgate_ensure_month_partition(p_parent text, p_month date) RETURNS boolean
  LANGUAGE plpgsql AS $fn$
DECLARE
  v_month date := date_trunc('month', p_month)::date;
  v_name text := format('%s_y%sm%s', p_parent, to_char(v_month, 'YYYY'), to_char(v_month, 'MM'));
  v_from text := to_char(v_month, 'YYYY-MM-DD') || ' 00:00:00+00';
  v_to text := to_char((v_month + interval '1 month')::date, 'YYYY-MM-DD') || ' 00:00:00+00';
  v_moved int8;
BEGIN
  IF to_regclass(v_name) IS NOT NULL THEN RETURN false; END IF;
  -- Two workers creating the same month: the second waits, then finds it (read from pg_class
  -- with a fresh snapshot: to_regclass's cache may not have seen the other's commit yet).
  PERFORM pg_advisory_xact_lock(hashtext('tollgate_partition:' || p_parent));
  IF EXISTS (SELECT FROM pg_class WHERE relname = v_name AND relnamespace = current_schema()::regnamespace) THEN
    RETURN false;
  END IF;
  -- Rows the default partition took for this month move into the new partition (inserted into the
  -- partition itself, so the parent's rollup triggers, which counted them once, do not fire).
  EXECUTE format('CREATE TEMP TABLE tollgate_moving ON COMMIT DROP AS WITH d AS '
    '(DELETE FROM %I WHERE created_at >= %L::timestamptz AND created_at < %L::timestamptz RETURNING *) '
    'SELECT * FROM d', p_parent || '_default', v_from, v_to);
  EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
    v_name, p_parent, v_from, v_to);
  IF p_parent = 'ledger_entries' THEN
    EXECUTE format('CREATE UNIQUE INDEX %I ON %I (org_id, seq)', v_name || '_org_seq_idx', v_name);
  END IF;
  EXECUTE format('INSERT INTO %I SELECT * FROM tollgate_moving', v_name);
  GET DIAGNOSTICS v_moved = ROW_COUNT;
  DROP TABLE tollgate_moving;
  IF v_moved > 0 THEN
    RAISE NOTICE 'moved % rows of % from the default partition', v_moved, v_name;
  END IF;
  RETURN true;
END
$fn$;
--> statement-breakpoint
-- Each month from p_from's through p_months - 1 after it, for both tables: how many partitions
-- were created (0 when all existed). The worker calls it for the current month and two ahead.
CREATE FUNCTION tollgate_ensure_month_partitions(p_from date, p_months int) RETURNS int
  LANGUAGE plpgsql AS $fn$
DECLARE
  v_created int := 0;
  v_month date;
BEGIN
  FOR v_month IN
    SELECT (date_trunc('month', p_from) + make_interval(months => i))::date
    FROM generate_series(0, p_months - 1) AS i
  LOOP
    IF tollgate_ensure_month_partition('usage', v_month) THEN v_created := v_created + 1; END IF;
    IF tollgate_ensure_month_partition('ledger_entries', v_month) THEN v_created := v_created + 1; END IF;
  END LOOP;
  RETURN v_created;
END
$fn$;
--> statement-breakpoint
-- The rollup's key function takes a `usage` row: it goes with the old table's triggers and comes
-- back for the new table (0018 has the functions and the reasons).
DROP TRIGGER usage_daily_insert ON usage;
--> statement-breakpoint
DROP TRIGGER usage_daily_update ON usage;
--> statement-breakpoint
DROP FUNCTION tollgate_usage_daily_key(usage);
--> statement-breakpoint
ALTER TABLE usage RENAME TO usage_unpartitioned;
--> statement-breakpoint
ALTER TABLE usage_unpartitioned DROP CONSTRAINT usage_pkey;
--> statement-breakpoint
DROP INDEX usage_org_idx, usage_reserved_idx, usage_charge_idx;
--> statement-breakpoint
ALTER TABLE ledger_entries RENAME TO ledger_entries_unpartitioned;
--> statement-breakpoint
ALTER TABLE ledger_entries_unpartitioned DROP CONSTRAINT ledger_entries_pkey;
--> statement-breakpoint
DROP INDEX ledger_entries_org_seq_idx;
--> statement-breakpoint
-- LIKE keeps every column, its default (the id sequences among them) and NOT NULL, in order.
CREATE TABLE usage (LIKE usage_unpartitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS)
  PARTITION BY RANGE (created_at);
--> statement-breakpoint
ALTER TABLE usage ADD CONSTRAINT usage_pkey PRIMARY KEY (id, created_at);
--> statement-breakpoint
CREATE INDEX usage_org_idx ON usage (org_id, id);
--> statement-breakpoint
CREATE INDEX usage_reserved_idx ON usage (expires_at) WHERE status = 'reserved';
--> statement-breakpoint
CREATE INDEX usage_charge_idx ON usage (charge_id) WHERE charge_id IS NOT NULL;
--> statement-breakpoint
CREATE TABLE usage_default PARTITION OF usage DEFAULT;
--> statement-breakpoint
CREATE TABLE ledger_entries (LIKE ledger_entries_unpartitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS)
  PARTITION BY RANGE (created_at);
--> statement-breakpoint
ALTER TABLE ledger_entries ADD CONSTRAINT ledger_entries_pkey PRIMARY KEY (id, created_at);
--> statement-breakpoint
CREATE TABLE ledger_entries_default PARTITION OF ledger_entries DEFAULT;
--> statement-breakpoint
CREATE UNIQUE INDEX ledger_entries_default_org_seq_idx ON ledger_entries_default (org_id, seq);
--> statement-breakpoint
-- A partition for every month that has rows, and for this month and the next two.
SELECT tollgate_ensure_month_partition('usage', m)
FROM (SELECT DISTINCT date_trunc('month', created_at AT TIME ZONE 'UTC')::date AS m FROM usage_unpartitioned) AS months;
--> statement-breakpoint
SELECT tollgate_ensure_month_partition('ledger_entries', m)
FROM (SELECT DISTINCT date_trunc('month', created_at AT TIME ZONE 'UTC')::date AS m FROM ledger_entries_unpartitioned) AS months;
--> statement-breakpoint
SELECT tollgate_ensure_month_partitions((now() AT TIME ZONE 'UTC')::date, 3);
--> statement-breakpoint
INSERT INTO usage SELECT * FROM usage_unpartitioned;
--> statement-breakpoint
INSERT INTO ledger_entries SELECT * FROM ledger_entries_unpartitioned;
--> statement-breakpoint
ALTER SEQUENCE usage_id_seq OWNED BY usage.id;
--> statement-breakpoint
ALTER SEQUENCE ledger_entries_id_seq OWNED BY ledger_entries.id;
--> statement-breakpoint
DROP TABLE usage_unpartitioned;
--> statement-breakpoint
DROP TABLE ledger_entries_unpartitioned;
--> statement-breakpoint
CREATE FUNCTION tollgate_usage_daily_key(u usage) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT coalesce(u.key_id::text, '') $$;
--> statement-breakpoint
-- Statement triggers on the parent see the rows of every partition a statement touched.
CREATE TRIGGER usage_daily_insert AFTER INSERT ON usage REFERENCING NEW TABLE AS new_usage
  FOR EACH STATEMENT EXECUTE FUNCTION tollgate_usage_daily_insert();
--> statement-breakpoint
CREATE TRIGGER usage_daily_update AFTER UPDATE ON usage REFERENCING OLD TABLE AS old_usage NEW TABLE AS new_usage
  FOR EACH STATEMENT EXECUTE FUNCTION tollgate_usage_daily_update();
