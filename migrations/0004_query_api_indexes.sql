CREATE INDEX "customers_store_created_idx" ON "customers" USING btree ("store_id","created_at");--> statement-breakpoint
CREATE INDEX "invoices_store_invoice_idx" ON "invoices" USING btree ("store_id","invoice_id");--> statement-breakpoint
CREATE INDEX "invoices_store_created_idx" ON "invoices" USING btree ("store_id","created_at");--> statement-breakpoint
CREATE INDEX "orders_store_total_idx" ON "orders" USING btree ("store_id","total");--> statement-breakpoint
CREATE INDEX "reviews_store_created_idx" ON "reviews" USING btree ("store_id","created_at");