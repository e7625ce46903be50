-- No planner statistics for the `doc` columns: no query filters on a whole document, and
-- gathering them means decompressing every sampled document, which made ANALYZE the slowest
-- part of a rebuild's index phase (and of autovacuum's analyze on the big tables).
ALTER TABLE orders ALTER COLUMN doc SET STATISTICS 0;--> statement-breakpoint
ALTER TABLE order_items ALTER COLUMN doc SET STATISTICS 0;--> statement-breakpoint
ALTER TABLE abandoned_carts ALTER COLUMN doc SET STATISTICS 0;--> statement-breakpoint
ALTER TABLE products ALTER COLUMN doc SET STATISTICS 0;--> statement-breakpoint
ALTER TABLE product_variations ALTER COLUMN doc SET STATISTICS 0;--> statement-breakpoint
ALTER TABLE product_categories ALTER COLUMN doc SET STATISTICS 0;--> statement-breakpoint
ALTER TABLE categories ALTER COLUMN doc SET STATISTICS 0;--> statement-breakpoint
ALTER TABLE product_types ALTER COLUMN doc SET STATISTICS 0;--> statement-breakpoint
ALTER TABLE customers ALTER COLUMN doc SET STATISTICS 0;--> statement-breakpoint
ALTER TABLE customer_groups ALTER COLUMN doc SET STATISTICS 0;--> statement-breakpoint
ALTER TABLE discount_coupons ALTER COLUMN doc SET STATISTICS 0;--> statement-breakpoint
ALTER TABLE promotions ALTER COLUMN doc SET STATISTICS 0;--> statement-breakpoint
ALTER TABLE reviews ALTER COLUMN doc SET STATISTICS 0;--> statement-breakpoint
ALTER TABLE invoices ALTER COLUMN doc SET STATISTICS 0;--> statement-breakpoint
ALTER TABLE store_profiles ALTER COLUMN doc SET STATISTICS 0;--> statement-breakpoint
ALTER TABLE app_subscriptions ALTER COLUMN doc SET STATISTICS 0;--> statement-breakpoint
ALTER TABLE app_storage ALTER COLUMN doc SET STATISTICS 0;--> statement-breakpoint
ALTER TABLE stores ALTER COLUMN doc SET STATISTICS 0;
