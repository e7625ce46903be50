-- Positions in commit order. An identity value is drawn at insert time but becomes visible at
-- commit, so with two writers position 101 can commit before 100, and a reader that has
-- checkpointed 101 would never see 100 (docs/decisions/0001-commit-ordered-log.md).
-- Every INSERT statement on event_log first takes one transaction-scoped advisory lock, before
-- any position is drawn, and holds it to commit: appenders commit one after another, so a
-- position is visible only once every lower position is committed or rolled back. Ingest
-- commits webhooks in groups, so this costs one lock per group, not per webhook.
CREATE FUNCTION event_log_serialize_appends() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(7262431000424242);
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER event_log_serialize_appends
  BEFORE INSERT ON event_log
  FOR EACH STATEMENT EXECUTE FUNCTION event_log_serialize_appends();
--> statement-breakpoint
-- The log is append-only: corrections are new records, never edits.
CREATE FUNCTION event_log_forbid_changes() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'event_log is append-only: % is not allowed', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END;
$$;
--> statement-breakpoint
CREATE TRIGGER event_log_forbid_changes
  BEFORE UPDATE OR DELETE ON event_log
  FOR EACH ROW EXECUTE FUNCTION event_log_forbid_changes();
--> statement-breakpoint
CREATE TRIGGER event_log_forbid_truncate
  BEFORE TRUNCATE ON event_log
  FOR EACH STATEMENT EXECUTE FUNCTION event_log_forbid_changes();
