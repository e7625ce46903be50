import { Hono } from 'hono';
import { renderCart, type SimCart } from '../../documents/cart.ts';
import { renderOrder, type SimOrder } from '../../documents/order.ts';
import { notFound } from '../ecwid-error.ts';
import { applyFilters, boolParam, inRange, intParam, isRange, listParam, page, rangeParams } from '../query.ts';
import type { SimEnv } from '../sim-env.ts';

/** Orders, their invoices and abandoned carts. Results come oldest update first. */
export function createOrderRoutes() {
  return new Hono<SimEnv>()
    .get('/orders/:orderId/invoices', (c) => {
      const order = c.var.store.findOrder(c.req.param('orderId'));
      if (!order) notFound('ORDER_NOT_FOUND', 'Order', c.req.param('orderId'));
      return c.json({ invoices: order.invoices });
    })
    .get('/orders/:orderId', (c) => {
      const order = c.var.store.findOrder(c.req.param('orderId'));
      if (!order) notFound('ORDER_NOT_FOUND', 'Order', c.req.param('orderId'));
      return c.json(renderOrder(order, c.var.store.storeId));
    })
    .get('/orders', (c) => {
      const store = c.var.store;
      const updated = rangeParams(c, 'updated');
      const created = rangeParams(c, 'created');
      const ids = listParam(c, 'ids');
      const internalIds = ids && new Set(ids.map((id) => store.findOrder(id)?.internalId));
      const paymentStatuses = listParam(c, 'paymentStatus');
      const fulfillmentStatuses = listParam(c, 'fulfillmentStatus');
      const email = c.req.query('email')?.toLowerCase();
      const customerId = intParam(c, 'customerId');
      const orders = applyFilters<SimOrder>(store.orders.updatedBetween(updated.from, updated.to), [
        !!internalIds && ((order) => internalIds.has(order.internalId)),
        isRange(created) && ((order) => inRange(order.createTimestamp, created)),
        !!paymentStatuses && ((order) => paymentStatuses.includes(order.paymentStatus)),
        !!fulfillmentStatuses && ((order) => fulfillmentStatuses.includes(order.fulfillmentStatus)),
        !!email && ((order) => order.email.toLowerCase() === email),
        customerId !== undefined && ((order) => order.customerId === customerId),
      ]);
      return c.json(page(c, orders, (order) => renderOrder(order, store.storeId)));
    })
    .get('/carts/:cartId', (c) => {
      const cart = c.var.store.carts.get(c.req.param('cartId').toUpperCase());
      if (!cart) notFound('CHECKOUT_NOT_FOUND', 'Abandoned cart', c.req.param('cartId'));
      return c.json(renderCart(cart));
    })
    .get('/carts', (c) => {
      const store = c.var.store;
      const updated = rangeParams(c, 'updated');
      const created = rangeParams(c, 'created');
      const showHidden = boolParam(c, 'showHidden') ?? false;
      const email = c.req.query('email')?.toLowerCase();
      const customerId = intParam(c, 'customerId');
      const total = { from: intParam(c, 'totalFrom'), to: intParam(c, 'totalTo') };
      const carts = applyFilters<SimCart>(store.carts.updatedBetween(updated.from, updated.to), [
        !showHidden && ((cart) => !cart.hidden),
        isRange(created) && ((cart) => inRange(cart.createTimestamp, created)),
        !!email && ((cart) => cart.email.toLowerCase() === email),
        customerId !== undefined && ((cart) => cart.customerId === customerId),
        isRange(total) && ((cart) => inRange(cart.total, total)),
      ]);
      return c.json(page(c, carts, renderCart));
    });
}
