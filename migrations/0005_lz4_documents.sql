-- Documents are compressed with lz4 rather than Postgres' default pglz: it decompresses several
-- times faster, and a rebuild reads every snapshot in the log and writes every row's doc.
-- Builds without lz4 (PGlite, some self-compiled servers) keep pglz: the mirror works the same.
DO $$
BEGIN
  ALTER TABLE event_log ALTER COLUMN payload SET COMPRESSION lz4;
  ALTER TABLE orders ALTER COLUMN doc SET COMPRESSION lz4;
  ALTER TABLE order_items ALTER COLUMN doc SET COMPRESSION lz4;
  ALTER TABLE abandoned_carts ALTER COLUMN doc SET COMPRESSION lz4;
  ALTER TABLE products ALTER COLUMN doc SET COMPRESSION lz4;
  ALTER TABLE product_variations ALTER COLUMN doc SET COMPRESSION lz4;
  ALTER TABLE product_categories ALTER COLUMN doc SET COMPRESSION lz4;
  ALTER TABLE categories ALTER COLUMN doc SET COMPRESSION lz4;
  ALTER TABLE product_types ALTER COLUMN doc SET COMPRESSION lz4;
  ALTER TABLE customers ALTER COLUMN doc SET COMPRESSION lz4;
  ALTER TABLE customer_groups ALTER COLUMN doc SET COMPRESSION lz4;
  ALTER TABLE discount_coupons ALTER COLUMN doc SET COMPRESSION lz4;
  ALTER TABLE promotions ALTER COLUMN doc SET COMPRESSION lz4;
  ALTER TABLE reviews ALTER COLUMN doc SET COMPRESSION lz4;
  ALTER TABLE invoices ALTER COLUMN doc SET COMPRESSION lz4;
  ALTER TABLE store_profiles ALTER COLUMN doc SET COMPRESSION lz4;
  ALTER TABLE app_subscriptions ALTER COLUMN doc SET COMPRESSION lz4;
  ALTER TABLE app_storage ALTER COLUMN doc SET COMPRESSION lz4;
  ALTER TABLE stores ALTER COLUMN doc SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
  RAISE NOTICE 'lz4 is not available on this server; documents stay pglz-compressed';
END;
$$;
