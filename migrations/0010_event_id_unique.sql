-- Ecwid's eventIds are unique across stores, and its signature does not cover storeId: a
-- captured webhook re-posted with another storeId must be a duplicate, not a new event. One
-- unique index on event_id replaces the per-store one (a same-store redelivery is a duplicate
-- of it too).
--
-- A log that already holds one eventId under two stores (a replay stored before this index)
-- cannot take a unique index over its whole length, and the log is never edited: then the index
-- covers only what is appended from now on (every position after the last such duplicate).
-- Events that old are outside ingest's age window (INGEST_MAX_EVENT_AGE), so no replay of them
-- is accepted either way.
DO $$
DECLARE
  last_duplicate bigint;
BEGIN
  -- One pass over the log (a hash aggregate), whatever its size.
  SELECT max(position) INTO last_duplicate
  FROM event_log
  WHERE event_id IN (SELECT event_id FROM event_log WHERE event_id IS NOT NULL GROUP BY event_id HAVING count(*) > 1);
  IF last_duplicate IS NULL THEN
    CREATE UNIQUE INDEX "event_log_event_uq" ON "event_log" USING btree ("event_id");
  ELSE
    EXECUTE format('CREATE UNIQUE INDEX "event_log_event_uq" ON "event_log" USING btree ("event_id") WHERE position > %s', last_duplicate);
  END IF;
END $$;
--> statement-breakpoint
DROP INDEX "event_log_store_event_uq";
