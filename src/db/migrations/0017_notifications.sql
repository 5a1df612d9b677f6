CREATE TABLE "email_pending" (
	"event_id" text PRIMARY KEY NOT NULL,
	"org_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"address" text NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp (6) with time zone DEFAULT clock_timestamp() NOT NULL,
	"sent_at" timestamp (6) with time zone,
	"created_at" timestamp (6) with time zone DEFAULT clock_timestamp() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "email_sends" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"org_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"address" text NOT NULL,
	"event_ids" text[] NOT NULL,
	"message_id" text NOT NULL,
	"sent_at" timestamp (6) with time zone DEFAULT clock_timestamp() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "email_settings" (
	"org_id" uuid PRIMARY KEY NOT NULL,
	"address" text NOT NULL,
	"verified_at" timestamp (6) with time zone,
	"verify_token_hash" text,
	"verify_expires_at" timestamp (6) with time zone,
	"kinds" text[] NOT NULL,
	"updated_at" timestamp (6) with time zone DEFAULT clock_timestamp() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "events" (
	"id" text PRIMARY KEY NOT NULL,
	"seq" bigserial NOT NULL,
	"org_id" uuid,
	"subscription_id" text,
	"type" text NOT NULL,
	"data" jsonb NOT NULL,
	"created_at" timestamp (6) with time zone DEFAULT clock_timestamp() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "outbox" (
	"event_id" text PRIMARY KEY NOT NULL,
	"created_at" timestamp (6) with time zone DEFAULT clock_timestamp() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "webhook_attempts" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"delivery_id" bigint NOT NULL,
	"at" timestamp (6) with time zone DEFAULT clock_timestamp() NOT NULL,
	"status_code" integer,
	"error" text,
	"duration_ms" integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE "webhook_deliveries" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"event_id" text NOT NULL,
	"endpoint_id" uuid NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp (6) with time zone DEFAULT clock_timestamp() NOT NULL,
	"locked_until" timestamp (6) with time zone,
	"last_status_code" integer,
	"last_error" text,
	"delivered_at" timestamp (6) with time zone,
	"created_at" timestamp (6) with time zone DEFAULT clock_timestamp() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "webhook_endpoints" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"org_id" uuid NOT NULL,
	"url" text NOT NULL,
	"description" text,
	"event_types" text[] DEFAULT '{}'::text[] NOT NULL,
	"secret_sealed" text NOT NULL,
	"previous_secret_sealed" text,
	"previous_expires_at" timestamp (6) with time zone,
	"disabled_at" timestamp (6) with time zone,
	"disabled_reason" text,
	"created_at" timestamp (6) with time zone DEFAULT clock_timestamp() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "email_pending_due_idx" ON "email_pending" USING btree ("org_id","kind") WHERE sent_at is null;--> statement-breakpoint
CREATE INDEX "email_sends_org_kind_idx" ON "email_sends" USING btree ("org_id","kind","sent_at");--> statement-breakpoint
CREATE UNIQUE INDEX "events_seq_idx" ON "events" USING btree ("seq");--> statement-breakpoint
CREATE INDEX "events_org_seq_idx" ON "events" USING btree ("org_id","seq");--> statement-breakpoint
CREATE INDEX "webhook_attempts_delivery_idx" ON "webhook_attempts" USING btree ("delivery_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "webhook_deliveries_event_endpoint_idx" ON "webhook_deliveries" USING btree ("event_id","endpoint_id");--> statement-breakpoint
CREATE INDEX "webhook_deliveries_due_idx" ON "webhook_deliveries" USING btree ("next_attempt_at") WHERE status = 'pending';--> statement-breakpoint
CREATE INDEX "webhook_deliveries_endpoint_idx" ON "webhook_deliveries" USING btree ("endpoint_id","id");--> statement-breakpoint
CREATE INDEX "webhook_endpoints_org_idx" ON "webhook_endpoints" USING btree ("org_id");
--> statement-breakpoint
-- Notifications (src/notifications): events are written by these triggers in the transaction
-- of their cause, so no crash can separate a change from its event. The thresholds below live
-- on billing_accounts (the row every metering batch updates) so that the trigger's WHEN clause
-- fires only on a crossing: a batch that crosses nothing pays one comparison per row, no call.
-- They are written only by these triggers; the ledger never reads them.
ALTER TABLE "billing_accounts" ADD COLUMN "alert_owed_80" bigint, ADD COLUMN "alert_owed_95" bigint, ADD COLUMN "alert_budget" bigint, ADD COLUMN "alert_voucher_low" bigint;
--> statement-breakpoint
UPDATE "billing_accounts" a SET
  alert_owed_80 = CASE WHEN s.drawn + s.allowance > 0 AND a.accrued + a.reserved + a.booked < ((s.drawn + s.allowance) * 4 + 4) / 5 - s.drawn THEN ((s.drawn + s.allowance) * 4 + 4) / 5 - s.drawn END,
  alert_owed_95 = CASE WHEN s.drawn + s.allowance > 0 AND a.accrued + a.reserved + a.booked < ((s.drawn + s.allowance) * 19 + 19) / 20 - s.drawn THEN ((s.drawn + s.allowance) * 19 + 19) / 20 - s.drawn END,
  alert_budget = CASE WHEN a.spend_window_spent < s.monthly_limit THEN s.monthly_limit END
FROM "subscriptions" s WHERE s.id = a.subscription_id;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION tollgate_emit_event(p_id text, p_org uuid, p_sub text, p_type text, p_data jsonb) RETURNS void
  LANGUAGE plpgsql AS $fn$
DECLARE
  v_id text := coalesce(p_id, 'evt_' || replace(gen_random_uuid()::text, '-', ''));
BEGIN
  INSERT INTO events (id, org_id, subscription_id, type, data) VALUES (v_id, p_org, p_sub, p_type, p_data)
    ON CONFLICT (id) DO NOTHING;
  IF FOUND THEN
    INSERT INTO outbox (event_id) VALUES (v_id);
  END IF;
END
$fn$;
--> statement-breakpoint
-- Crossings on the account row: allowance.low (80%, 95% of the cap drawn or owed), budget.reached
-- (the monthly limit's meter at the limit), credit.low (a fifth of the signup credit left) and
-- credit.exhausted. Each threshold is disarmed when it fires (once per crossing) and armed
-- again by a new authorization, a new window or a new grant.
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
CREATE TRIGGER billing_accounts_alerts BEFORE UPDATE ON billing_accounts FOR EACH ROW
  WHEN (new.subscription_id <> old.subscription_id
    OR new.voucher > old.voucher
    OR (new.voucher = 0 AND old.voucher > 0)
    OR new.voucher <= new.alert_voucher_low
    OR new.accrued + new.reserved + new.booked >= new.alert_owed_80
    OR new.accrued + new.reserved + new.booked >= new.alert_owed_95
    OR new.spend_window <> old.spend_window
    OR new.spend_window_spent < old.spend_window_spent
    OR new.spend_window_spent >= new.alert_budget)
  EXECUTE FUNCTION tollgate_account_alerts();
--> statement-breakpoint
-- The cap (drawn + allowance) or the monthly limit changed: arm the thresholds again (only those
-- not yet passed). A collection moves drawn up and allowance down by the same amount: the
-- armed thresholds, counted in what is owed, move down with it.
CREATE OR REPLACE FUNCTION tollgate_subscription_alerts() RETURNS trigger
  LANGUAGE plpgsql AS $fn$
DECLARE
  cap int8 := new.drawn + new.allowance;
  t80 int8 := (cap * 4 + 4) / 5 - new.drawn;
  t95 int8 := (cap * 19 + 19) / 20 - new.drawn;
BEGIN
  IF cap <> old.drawn + old.allowance THEN
    UPDATE billing_accounts SET
      alert_owed_80 = CASE WHEN cap > 0 AND accrued + reserved + booked < t80 THEN t80 END,
      alert_owed_95 = CASE WHEN cap > 0 AND accrued + reserved + booked < t95 THEN t95 END
    WHERE org_id = new.org_id AND subscription_id = new.id;
  ELSIF new.drawn <> old.drawn THEN
    UPDATE billing_accounts SET
      alert_owed_80 = alert_owed_80 - (new.drawn - old.drawn),
      alert_owed_95 = alert_owed_95 - (new.drawn - old.drawn)
    WHERE org_id = new.org_id AND subscription_id = new.id
      AND (alert_owed_80 IS NOT NULL OR alert_owed_95 IS NOT NULL);
  END IF;
  IF new.monthly_limit IS DISTINCT FROM old.monthly_limit THEN
    UPDATE billing_accounts SET
      alert_budget = CASE WHEN spend_window_spent < new.monthly_limit THEN new.monthly_limit END
    WHERE org_id = new.org_id AND subscription_id = new.id;
  END IF;
  RETURN null;
END
$fn$;
--> statement-breakpoint
CREATE TRIGGER subscriptions_alerts AFTER UPDATE ON subscriptions FOR EACH ROW
  WHEN (new.allowance <> old.allowance OR new.drawn <> old.drawn
    OR new.monthly_limit IS DISTINCT FROM old.monthly_limit)
  EXECUTE FUNCTION tollgate_subscription_alerts();
--> statement-breakpoint
-- Every state change goes through transitionSubscription, which records it here.
CREATE OR REPLACE FUNCTION tollgate_transition_events() RETURNS trigger
  LANGUAGE plpgsql AS $fn$
DECLARE
  v_org uuid;
  v_type text;
BEGIN
  v_type := CASE
    WHEN new.to_state = 'active' AND new.from_state = 'pending' THEN 'subscription.activated'
    WHEN new.to_state = 'active' AND new.from_state IN ('needs_reauth', 'lapsed') THEN 'subscription.recovered'
    WHEN new.to_state = 'needs_reauth' AND new.from_state IS DISTINCT FROM 'needs_reauth' THEN 'allowance.exhausted'
    WHEN new.to_state = 'lapsed' AND new.from_state IS DISTINCT FROM 'lapsed' THEN 'subscription.lapsed'
    WHEN new.to_state = 'canceled' THEN 'subscription.canceled'
  END;
  IF v_type IS NULL THEN
    RETURN null;
  END IF;
  SELECT org_id INTO v_org FROM subscriptions WHERE id = new.subscription_id;
  PERFORM tollgate_emit_event('evt_' || md5('transition:' || new.id), v_org, new.subscription_id, v_type,
    jsonb_build_object('from', new.from_state, 'to', new.to_state, 'cause', new.cause, 'reason', new.reason));
  RETURN null;
END
$fn$;
--> statement-breakpoint
CREATE TRIGGER subscription_transitions_events AFTER INSERT ON subscription_transitions FOR EACH ROW
  EXECUTE FUNCTION tollgate_transition_events();
--> statement-breakpoint
CREATE OR REPLACE FUNCTION tollgate_charge_events() RETURNS trigger
  LANGUAGE plpgsql AS $fn$
BEGIN
  PERFORM tollgate_emit_event(null, new.org_id, new.subscription_id,
    CASE new.status WHEN 'collected' THEN 'charge.collected' ELSE 'charge.failed' END,
    jsonb_build_object('charge_id', new.id::text, 'amount_micros', new.amount::text, 'seq', new.seq,
      'tx_hash', new.tx_hash, 'reason', new.failure_reason));
  RETURN null;
END
$fn$;
--> statement-breakpoint
CREATE TRIGGER charges_events AFTER UPDATE OF status ON charges FOR EACH ROW
  WHEN (old.status IS DISTINCT FROM new.status AND new.status IN ('collected', 'failed'))
  EXECUTE FUNCTION tollgate_charge_events();
