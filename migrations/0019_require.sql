-- Fails the statement that calls it, and so its transaction, when `ok` is not true: SQLSTATE
-- P0001 (raise_exception) with `reason` as the message. A check that would otherwise come back to
-- the client for a decision can then run in the same pipeline as the COMMIT after it: when the
-- check fails, Postgres turns that COMMIT into a rollback, and no round trip is spent while the
-- transaction holds the log's append lock (docs/decisions/0015-freshness-pipelined-passes.md).
CREATE FUNCTION mirror_require(ok boolean, reason text) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
  IF ok IS NOT TRUE THEN
    RAISE EXCEPTION USING ERRCODE = 'P0001', MESSAGE = reason;
  END IF;
  RETURN true;
END;
$$;
