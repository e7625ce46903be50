-- The append notification names the stores (docs/decisions/0021-enrichment-reads-the-stores-it-is-told-of.md):
-- still one notification per kind a statement appended, its payload now the kind, a space, and
-- the stores it appended for, comma-separated (`webhook 1003,1004`). Enrichment then reads only
-- those stores' state at a wake instead of every store in the log, which cost it 77 ms per wake
-- at 10,000 stores. Past 500 stores the list is left out (the kind alone, read as "every
-- store"): a payload must stay under Postgres's 8,000 bytes. Listeners of the old payload read
-- an unknown one as every kind, so an old consumer during a rolling deploy wakes too often,
-- never too rarely.
CREATE OR REPLACE FUNCTION event_log_notify_appends() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('mirror_event_log',
                    CASE WHEN count(DISTINCT store_id) <= 500
                         THEN kind || ' ' || string_agg(DISTINCT store_id::text, ',')
                         ELSE kind END)
  FROM appended GROUP BY kind;
  RETURN NULL;
END;
$$;
