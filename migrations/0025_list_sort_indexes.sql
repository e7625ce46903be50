CREATE INDEX "abandoned_carts_store_total_idx" ON "abandoned_carts" USING btree ("store_id","total","cart_id");--> statement-breakpoint
CREATE INDEX "categories_store_name_idx" ON "categories" USING btree ("store_id","name","category_id");--> statement-breakpoint
CREATE INDEX "customer_groups_store_name_idx" ON "customer_groups" USING btree ("store_id","name","customer_group_id");--> statement-breakpoint
CREATE INDEX "discount_coupons_store_created_idx" ON "discount_coupons" USING btree ("store_id","created_at","coupon_id");--> statement-breakpoint
CREATE INDEX "discount_coupons_store_updated_idx" ON "discount_coupons" USING btree ("store_id","updated_at","coupon_id");--> statement-breakpoint
CREATE INDEX "product_types_store_name_idx" ON "product_types" USING btree ("store_id","name","product_type_id");--> statement-breakpoint
CREATE INDEX "products_store_created_idx" ON "products" USING btree ("store_id","created_at","product_id");--> statement-breakpoint
CREATE INDEX "products_store_price_idx" ON "products" USING btree ("store_id","price","product_id");--> statement-breakpoint
CREATE INDEX "products_store_name_idx" ON "products" USING btree ("store_id","name","product_id");--> statement-breakpoint
CREATE INDEX "promotions_store_name_idx" ON "promotions" USING btree ("store_id","name","promotion_id");--> statement-breakpoint
CREATE INDEX "reviews_store_updated_idx" ON "reviews" USING btree ("store_id","updated_at","review_id");--> statement-breakpoint
CREATE INDEX "reviews_store_rating_idx" ON "reviews" USING btree ("store_id","rating","review_id");