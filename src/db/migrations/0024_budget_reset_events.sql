-- budget.reset in the transaction of its cause when metering rolls a reached budget into a new
-- window (the worker's emitBudgetResets writes the same event, same id, when time alone does it).
CREATE OR REPLACE FUNCTION tollgate_account_alerts() RETURNS trigger
  LANGUAGE plpgsql AS $fn$
DECLARE
  owed int8 := new.accrued + new.reserved + new.booked;
  s record;
  pct int;
BEGIN
  IF new.subscription_id <> old.subscription_id THEN
    new.alert_owed_80 := null; new.alert_owed_95 := null; new.alert_budget := null;
  END IF;
  IF new.voucher > old.voucher THEN
    new.alert_voucher_low := new.voucher / 5;
  END IF;
  IF owed > old.accrued + old.reserved + old.booked
     AND (owed >= new.alert_owed_80 OR owed >= new.alert_owed_95) THEN
    SELECT allowance, drawn, state INTO s FROM subscriptions WHERE id = new.subscription_id;
    IF owed >= new.alert_owed_95 THEN
      pct := 95; new.alert_owed_95 := null; new.alert_owed_80 := null;
    ELSE
      pct := 80; new.alert_owed_80 := null;
    END IF;
    -- Already out of allowance (the same batch refused a call for it): allowance.exhausted says it.
    IF s.state = 'active' THEN
    PERFORM tollgate_emit_event(null, new.org_id, new.subscription_id, 'allowance.low', jsonb_build_object(
      'percent', pct,
      'cap_micros', (s.drawn + s.allowance)::text,
      'used_micros', (s.drawn + owed)::text,
      'remaining_micros', greatest(s.allowance - owed, 0)::text));
    END IF;
  END IF;
  IF new.spend_window <> old.spend_window OR new.spend_window_spent < old.spend_window_spent THEN
    SELECT monthly_limit INTO s FROM subscriptions WHERE id = new.subscription_id;
    -- A new window after one whose limit was reached: budget.reset, with the id the worker's
    -- emitBudgetResets derives (whichever comes first writes it).
    IF new.spend_window <> old.spend_window AND new.subscription_id = old.subscription_id
       AND old.alert_budget IS NULL AND old.spend_window_spent >= s.monthly_limit THEN
      PERFORM tollgate_emit_event('evt_' || md5('budget.reset:' || new.subscription_id || ':' || old.spend_window),
        new.org_id, new.subscription_id, 'budget.reset', jsonb_build_object(
          'scope', 'subscription', 'period', 'month', 'cause', 'window',
          'limit_micros', s.monthly_limit::text, 'window_index', new.spend_window));
    END IF;
    new.alert_budget := s.monthly_limit;
  END IF;
  IF new.spend_window_spent >= new.alert_budget THEN
    PERFORM tollgate_emit_event(null, new.org_id, new.subscription_id, 'budget.reached', jsonb_build_object(
      'limit_micros', new.alert_budget::text,
      'spent_micros', new.spend_window_spent::text,
      'window_index', new.spend_window));
    new.alert_budget := null;
  END IF;
  IF new.voucher = 0 AND old.voucher > 0 THEN
    new.alert_voucher_low := null;
    PERFORM tollgate_emit_event(null, new.org_id, new.subscription_id, 'credit.exhausted',
      jsonb_build_object('remaining_micros', '0'));
  ELSIF new.voucher < old.voucher AND new.voucher <= new.alert_voucher_low THEN
    new.alert_voucher_low := null;
    PERFORM tollgate_emit_event(null, new.org_id, new.subscription_id, 'credit.low',
      jsonb_build_object('remaining_micros', new.voucher::text));
  END IF;
  RETURN new;
END
$fn$;
--> statement-breakpoint
-- A spend budget (budgets) counted into a new window after one spent to the limit in force at
-- its end: budget.reset. The id is the one emitBudgetResets derives.
CREATE OR REPLACE FUNCTION tollgate_budget_resets() RETURNS trigger
  LANGUAGE plpgsql AS $fn$
DECLARE
  v_end timestamptz;
  v_sub text;
BEGIN
  v_end := (old.window_start AT TIME ZONE 'UTC' + ('1 ' || old.period)::interval) AT TIME ZONE 'UTC';
  IF old.spent >= (CASE WHEN old.override_until >= v_end THEN old.override_micros ELSE old.limit_micros END) THEN
    SELECT subscription_id INTO v_sub FROM billing_accounts WHERE org_id = new.org_id;
    PERFORM tollgate_emit_event(
      'evt_' || md5('budget.reset:budget:' || old.id || ':' || extract(epoch from old.window_start)::int8),
      new.org_id, v_sub, 'budget.reset', jsonb_build_object(
        'scope', CASE WHEN old.key_id IS NULL THEN 'org' ELSE 'key' END, 'key_id', old.key_id,
        'period', old.period, 'cause', 'window', 'limit_micros', new.limit_micros::text));
  END IF;
  RETURN null;
END
$fn$;
--> statement-breakpoint
CREATE TRIGGER budgets_resets AFTER UPDATE ON budgets FOR EACH ROW
  WHEN (new.window_start > old.window_start)
  EXECUTE FUNCTION tollgate_budget_resets();
