CREATE TABLE "usage_daily" (
	"org_id" uuid NOT NULL,
	"day" date NOT NULL,
	"action" text NOT NULL,
	"key_id" text DEFAULT '' NOT NULL,
	"calls" bigint DEFAULT 0 NOT NULL,
	"quantity" bigint DEFAULT 0 NOT NULL,
	"voucher_amount" bigint DEFAULT 0 NOT NULL,
	"billable_amount" bigint DEFAULT 0 NOT NULL,
	CONSTRAINT "usage_daily_org_id_day_action_key_id_pk" PRIMARY KEY("org_id","day","action","key_id")
);
--> statement-breakpoint
CREATE INDEX "usage_charge_idx" ON "usage" USING btree ("charge_id") WHERE charge_id is not null;--> statement-breakpoint
-- The rollup is kept by the database as usage is written, whoever writes it: once per
-- statement (the meter writes a whole batch in one), from the statement's transition tables,
-- upserting in key order so two statements touching the same rows lock them in the same order.
-- Only usage that stands counts (recorded, committed); an update counts its rows' new form and
-- takes back their old one, so a commit, a void or an expiry moves the rollup by the difference,
-- and an update that changes no amount (a charge booked) writes nothing.
-- The key a usage row is rolled up under: its API key (a session key's parent), '' for none.
CREATE FUNCTION tollgate_usage_daily_key(u usage) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT coalesce(u.key_id::text, '') $$;
--> statement-breakpoint
CREATE FUNCTION tollgate_usage_daily_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO usage_daily AS d (org_id, day, action, key_id, calls, quantity, voucher_amount, billable_amount)
  SELECT n.org_id, (n.created_at AT TIME ZONE 'UTC')::date, n.action, tollgate_usage_daily_key(n),
    count(*), sum(n.quantity)::bigint, sum(n.voucher_amount)::bigint, sum(n.billable_amount)::bigint
  FROM new_usage n WHERE n.status IN ('recorded', 'committed')
  GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
  ON CONFLICT (org_id, day, action, key_id) DO UPDATE SET
    calls = d.calls + excluded.calls, quantity = d.quantity + excluded.quantity,
    voucher_amount = d.voucher_amount + excluded.voucher_amount,
    billable_amount = d.billable_amount + excluded.billable_amount;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE FUNCTION tollgate_usage_daily_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO usage_daily AS d (org_id, day, action, key_id, calls, quantity, voucher_amount, billable_amount)
  SELECT org_id, day, action, key_id, sum(calls)::bigint, sum(quantity)::bigint, sum(voucher_amount)::bigint, sum(billable_amount)::bigint
  FROM (
    SELECT n.org_id, (n.created_at AT TIME ZONE 'UTC')::date AS day, n.action, tollgate_usage_daily_key(n) AS key_id,
      1 AS calls, n.quantity::bigint AS quantity, n.voucher_amount, n.billable_amount
    FROM new_usage n WHERE n.status IN ('recorded', 'committed')
    UNION ALL
    SELECT o.org_id, (o.created_at AT TIME ZONE 'UTC')::date, o.action, tollgate_usage_daily_key(o),
      -1, -o.quantity::bigint, -o.voucher_amount, -o.billable_amount
    FROM old_usage o WHERE o.status IN ('recorded', 'committed')
  ) AS delta
  GROUP BY 1, 2, 3, 4
  HAVING sum(calls) <> 0 OR sum(quantity) <> 0 OR sum(voucher_amount) <> 0 OR sum(billable_amount) <> 0
  ORDER BY 1, 2, 3, 4
  ON CONFLICT (org_id, day, action, key_id) DO UPDATE SET
    calls = d.calls + excluded.calls, quantity = d.quantity + excluded.quantity,
    voucher_amount = d.voucher_amount + excluded.voucher_amount,
    billable_amount = d.billable_amount + excluded.billable_amount;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER usage_daily_insert AFTER INSERT ON usage REFERENCING NEW TABLE AS new_usage
  FOR EACH STATEMENT EXECUTE FUNCTION tollgate_usage_daily_insert();
--> statement-breakpoint
CREATE TRIGGER usage_daily_update AFTER UPDATE ON usage REFERENCING OLD TABLE AS old_usage NEW TABLE AS new_usage
  FOR EACH STATEMENT EXECUTE FUNCTION tollgate_usage_daily_update();
--> statement-breakpoint
-- Usage metered before the rollup existed.
INSERT INTO usage_daily (org_id, day, action, key_id, calls, quantity, voucher_amount, billable_amount)
SELECT u.org_id, (u.created_at AT TIME ZONE 'UTC')::date, u.action, tollgate_usage_daily_key(u),
  count(*), sum(u.quantity)::bigint, sum(u.voucher_amount)::bigint, sum(u.billable_amount)::bigint
FROM usage u WHERE u.status IN ('recorded', 'committed')
GROUP BY 1, 2, 3, 4;
