-- budget.reset also after a spend budget's window in which a refusal said budget.reached (the
-- meter writes that event; it may have refused calls before `spent` came up to the limit).
CREATE OR REPLACE FUNCTION tollgate_budget_resets() RETURNS trigger
  LANGUAGE plpgsql AS $fn$
DECLARE
  v_end timestamptz;
  v_sub text;
  v_window int8 := extract(epoch from old.window_start)::int8;
BEGIN
  v_end := (old.window_start AT TIME ZONE 'UTC' + ('1 ' || old.period)::interval) AT TIME ZONE 'UTC';
  IF old.spent >= (CASE WHEN old.override_until >= v_end THEN old.override_micros ELSE old.limit_micros END)
     OR EXISTS (SELECT FROM events WHERE id = 'evt_' || md5('budget.reached:budget:' || old.id || ':' || v_window)) THEN
    SELECT subscription_id INTO v_sub FROM billing_accounts WHERE org_id = new.org_id;
    PERFORM tollgate_emit_event(
      'evt_' || md5('budget.reset:budget:' || old.id || ':' || v_window),
      new.org_id, v_sub, 'budget.reset', jsonb_build_object(
        'scope', CASE WHEN old.key_id IS NULL THEN 'org' ELSE 'key' END, 'key_id', old.key_id,
        'period', old.period, 'cause', 'window', 'limit_micros', new.limit_micros::text));
  END IF;
  RETURN null;
END
$fn$;
