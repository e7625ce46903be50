import { Hono } from 'hono';
import type { SimCustomer, SimCustomerGroup } from '../../documents/customer.ts';
import type { SimCoupon } from '../../documents/discounts.ts';
import { parseEcwidDate } from '../../dates.ts';
import { notFound } from '../ecwid-error.ts';
import { applyFilters, boolParam, enumParam, inRange, intListParam, isRange, listParam, page, rangeParams } from '../query.ts';
import type { SimEnv } from '../sim-env.ts';

const customerSorts = ['UPDATED_DATE_ASC', 'UPDATED_DATE_DESC', 'REGISTER_DATE_ASC', 'REGISTER_DATE_DESC'] as const;

const seconds = (date: string) => parseEcwidDate(date) ?? 0;

function numericId(value: string): number {
  return /^\d+$/.test(value) ? Number(value) : NaN;
}

/** Customers, customer groups, discount coupons and promotions. */
export function createCustomerRoutes() {
  return (
    new Hono<SimEnv>()
      .get('/customers/:customerId', (c) => {
        const customer = c.var.store.customers.get(numericId(c.req.param('customerId')));
        if (!customer) notFound('CUSTOMER_NOT_FOUND', 'Customer', c.req.param('customerId'));
        return c.json(customer);
      })
      .get('/customers', (c) => {
        const store = c.var.store;
        const sortBy = enumParam(c, 'sortBy', customerSorts);
        const updated = rangeParams(c, 'updated');
        const created = rangeParams(c, 'created');
        const email = c.req.query('email')?.toLowerCase();
        const exactEmail = boolParam(c, 'useExactEmailMatch') ?? false;
        const groupIds = intListParam(c, 'customerGroupIds');
        const ordered = sortBy?.startsWith('UPDATED') ? store.customers.updatedBetween(updated.from, updated.to) : store.customers.values();
        const customers = applyFilters<SimCustomer>(ordered, [
          !sortBy?.startsWith('UPDATED') && isRange(updated) && ((customer) => inRange(seconds(customer.updated), updated)),
          isRange(created) && ((customer) => inRange(seconds(customer.registered), created)),
          !!email && ((customer) => (exactEmail ? customer.email === email : customer.email.includes(email))),
          !!groupIds && ((customer) => groupIds.includes(customer.customerGroupId)),
        ]);
        if (sortBy?.startsWith('REGISTER')) customers.sort((a, b) => seconds(a.registered) - seconds(b.registered) || a.id - b.id);
        if (sortBy?.endsWith('_DESC')) customers.reverse();
        return c.json({
          ...page(c, customers, (customer) => customer),
          allCustomerCount: store.customers.size,
        });
      })
      .get('/customer_groups/:groupId', (c) => {
        const group = c.var.store.customerGroups.get(numericId(c.req.param('groupId')));
        if (!group) notFound('CUSTOMER_GROUP_NOT_FOUND', 'Customer group', c.req.param('groupId'));
        return c.json(group);
      })
      .get('/customer_groups', (c) => {
        const ids = intListParam(c, 'customerGroupId');
        const keyword = c.req.query('keyword')?.toLowerCase();
        const groups = applyFilters<SimCustomerGroup>(c.var.store.customerGroups.values(), [
          !!ids && ((group) => ids.includes(group.id)),
          !!keyword && ((group) => group.name.toLowerCase().includes(keyword)),
        ]);
        return c.json(page(c, groups, (group) => group));
      })
      // The path segment may be the coupon id or its code (docs/ecwid.md §4.5).
      .get('/discount_coupons/:couponId', (c) => {
        const reference = c.req.param('couponId');
        const coupons = c.var.store.coupons;
        const coupon = coupons.get(numericId(reference)) ?? coupons.values().find((candidate) => candidate.code === reference);
        if (!coupon) notFound('DISCOUNT_COUPON_NOT_FOUND', 'Discount coupon', reference);
        return c.json(coupon);
      })
      .get('/discount_coupons', (c) => {
        const store = c.var.store;
        const updated = rangeParams(c, 'updated');
        const created = rangeParams(c, 'created');
        const code = c.req.query('code');
        const discountTypes = listParam(c, 'discount_type');
        const availability = listParam(c, 'availability');
        const coupons = applyFilters<SimCoupon>(store.coupons.updatedBetween(updated.from, updated.to), [
          code !== undefined && ((coupon) => coupon.code === code),
          !!discountTypes && ((coupon) => discountTypes.includes(coupon.discountType)),
          !!availability && ((coupon) => availability.includes(coupon.status)),
          isRange(created) && ((coupon) => inRange(seconds(coupon.creationDate), created)),
        ]);
        return c.json(page(c, coupons, (coupon) => coupon));
      })
      .get('/promotions', (c) => c.json(page(c, c.var.store.promotions.values(), (promotion) => promotion)))
  );
}
