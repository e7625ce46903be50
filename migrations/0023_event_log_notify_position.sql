-- The append notification says where the append ended (docs/decisions/0023-projection-plans-once-and-wakes-for-news.md):
-- still one notification per kind a statement appended, its payload now the kind, the stores it
-- appended for (comma-separated, or `*` past 500 stores), and the last position it appended of
-- that kind (`snapshot 1003,1004 5120`). A consumer that has read the log past that position
-- (the projection, woken a moment earlier by its own process for the same records) then stays
-- asleep instead of running a batch that finds nothing. Listeners of the 0021 payload read this
-- one as unknown, so every kind and every store: during a rolling deploy an old process wakes too
-- often, never too rarely.
CREATE OR REPLACE FUNCTION event_log_notify_appends() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('mirror_event_log',
                    kind || ' '
                    || CASE WHEN count(DISTINCT store_id) <= 500 THEN string_agg(DISTINCT store_id::text, ',') ELSE '*' END
                    || ' ' || max(position))
  FROM appended GROUP BY kind;
  RETURN NULL;
END;
$$;
