-- backfill_state.entity now holds the entity kind (event_log.entity_kind, fixed forever) instead of
-- the short names `mirror backfill` used to take, so a backfill resumes, and stays incremental,
-- across the rename of the CLI's names to the entity catalogue's public names.
UPDATE backfill_state SET entity = CASE entity
  WHEN 'profile' THEN 'store_profile'
  WHEN 'application' THEN 'app_subscription'
  WHEN 'storage' THEN 'app_storage'
  WHEN 'product_types' THEN 'product_type'
  WHEN 'categories' THEN 'category'
  WHEN 'products' THEN 'product'
  WHEN 'customer_groups' THEN 'customer_group'
  WHEN 'customers' THEN 'customer'
  WHEN 'coupons' THEN 'discount_coupon'
  WHEN 'promotions' THEN 'promotion'
  WHEN 'orders' THEN 'order'
  WHEN 'carts' THEN 'abandoned_cart'
  WHEN 'reviews' THEN 'review'
  ELSE entity
END;
