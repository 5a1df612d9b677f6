-- The metering engine's fast path decides a batch on the billing accounts as it last wrote
-- them, without reading them again. Its write updates only the accounts still at the row
-- versions it decided on, then calls this with the orgs it expected and those it updated: if
-- any is missing (someone else changed it since), this raises a serialization failure naming
-- them in its DETAIL, the whole batch rolls back, and the engine decides it again on freshly
-- locked rows.
CREATE FUNCTION tollgate_expect_fresh(expected uuid[], updated uuid[]) RETURNS boolean
  LANGUAGE plpgsql AS $$
DECLARE
  stale text;
BEGIN
  IF cardinality(expected) = coalesce(cardinality(updated), 0) THEN
    RETURN true;
  END IF;
  SELECT string_agg(org_id::text, ',') INTO stale
  FROM unnest(expected) AS e(org_id)
  WHERE updated IS NULL OR NOT org_id = ANY(updated);
  RAISE EXCEPTION 'billing accounts changed since they were cached'
    USING ERRCODE = 'serialization_failure', DETAIL = stale;
END
$$;
