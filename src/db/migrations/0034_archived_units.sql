ALTER TABLE "archived_usage_totals" ADD COLUMN "included_units" jsonb;--> statement-breakpoint
-- Months detached before this column: their units per action from the month's own table while
-- the operator has not dropped it (a table from before units, 0033, drew none: '{}'). A month
-- whose table is gone stays null — its units cannot be restored (docs/plans.md).
DO $$
DECLARE
  m record;
  t text;
BEGIN
  FOR m IN SELECT DISTINCT month FROM archived_usage_totals LOOP
    t := format('usage_y%sm%s', to_char(m.month, 'YYYY'), to_char(m.month, 'MM'));
    IF to_regclass(t) IS NULL THEN
      CONTINUE;
    END IF;
    UPDATE archived_usage_totals SET included_units = '{}'::jsonb WHERE month = m.month;
    IF EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass(t)
               AND attname = 'included_units' AND NOT attisdropped) THEN
      EXECUTE format(
        'UPDATE archived_usage_totals a SET included_units = s.units
         FROM (SELECT org_id, status, jsonb_object_agg(action, n) AS units
               FROM (SELECT org_id, status, action, sum(included_units)::int8 AS n FROM %I
                     WHERE included_units > 0 GROUP BY org_id, status, action) g
               GROUP BY org_id, status) s
         WHERE a.month = %L AND a.org_id = s.org_id AND a.status = s.status', t, m.month);
    END IF;
  END LOOP;
END $$;
