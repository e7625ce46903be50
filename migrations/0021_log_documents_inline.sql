-- The log's documents stay in the log's own rows, compressed, instead of moving to its TOAST
-- table: with the default storage (extended), a snapshot of more than about 2 kB compressed was
-- cut into chunks in a second table and found again through that table's index on every read:
-- by the projector, by a rebuild (which read each document twice, once for its fields and once to
-- copy it into the row's `doc`), by history and exports. `main` still compresses them (lz4 where
-- 0005 set it) and still moves a document out of the row when even compressed it leaves no room
-- in a page, so no size is refused.
--
-- Every other variable-length column is `main` too: Postgres makes room in a row by moving its
-- `extended` values out first, down to any of more than 24 bytes, so an entity id or a note
-- beside a big document would have gone to the TOAST table in its place.
--
-- Rows written before this stay where they are until the table is rewritten. Measured and
-- weighed in docs/decisions/0020-log-documents-inline.md.
ALTER TABLE "event_log"
  ALTER COLUMN "payload" SET STORAGE MAIN,
  ALTER COLUMN "kind" SET STORAGE MAIN,
  ALTER COLUMN "event_id" SET STORAGE MAIN,
  ALTER COLUMN "event_type" SET STORAGE MAIN,
  ALTER COLUMN "entity_kind" SET STORAGE MAIN,
  ALTER COLUMN "entity_id" SET STORAGE MAIN,
  ALTER COLUMN "caused_by" SET STORAGE MAIN,
  ALTER COLUMN "note" SET STORAGE MAIN;
