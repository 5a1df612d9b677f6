ALTER TABLE "archived_usage_totals" ADD COLUMN "included_amount" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
-- Months detached before this column: their included parts from the month's own table while the
-- operator has not dropped it (a table from before plans, 0031, has no such column: it drew 0).
DO $$
DECLARE
  m record;
  t text;
BEGIN
  FOR m IN SELECT DISTINCT month FROM archived_usage_totals LOOP
    t := format('usage_y%sm%s', to_char(m.month, 'YYYY'), to_char(m.month, 'MM'));
    IF EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass(t)
               AND attname = 'included_amount' AND NOT attisdropped) THEN
      EXECUTE format(
        'UPDATE archived_usage_totals a SET included_amount = s.included
         FROM (SELECT org_id, status, sum(included_amount)::int8 AS included FROM %I
               GROUP BY org_id, status) s
         WHERE a.month = %L AND a.org_id = s.org_id AND a.status = s.status', t, m.month);
    END IF;
  END LOOP;
END $$;
