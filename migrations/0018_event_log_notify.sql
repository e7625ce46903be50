-- Wakes the log's consumers (docs/decisions/0012-freshness-rebuild-and-memory.md): every statement
-- that appends to event_log sends, in its own transaction, one notification per kind it
-- appended on channel `mirror_event_log` (payload: the kind). Postgres delivers notifications
-- only at commit and folds repeats within a transaction, so a listener learns of an append no
-- sooner than it can read it, once per kind and commit. The notification only says "look": the
-- consumers still read the log after their checkpoint, and poll as well, so a lost notification
-- (a listener reconnecting) costs latency, never data. A trigger rather than each writer's code:
-- no writer (ingest, the projector, backfill, reconcile, psql) can append without it.
CREATE FUNCTION event_log_notify_appends() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('mirror_event_log', k) FROM (SELECT DISTINCT kind FROM appended) s(k);
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER event_log_notify_appends
  AFTER INSERT ON event_log
  REFERENCING NEW TABLE AS appended
  FOR EACH STATEMENT EXECUTE FUNCTION event_log_notify_appends();
