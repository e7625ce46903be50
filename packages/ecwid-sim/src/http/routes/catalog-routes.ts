import { Hono } from 'hono';
import type { SimCategory } from '../../documents/category.ts';
import { renderProduct, type SimProduct } from '../../documents/product.ts';
import type { SimReview } from '../../documents/review.ts';
import type { SimStore } from '../../store/sim-store.ts';
import { notFound } from '../ecwid-error.ts';
import { applyFilters, boolParam, enumParam, inRange, intListParam, intParam, isRange, page, rangeParams } from '../query.ts';
import type { SimEnv } from '../sim-env.ts';

const productSorts = ['UPDATED_TIME_ASC', 'UPDATED_TIME_DESC', 'ADDED_TIME_ASC', 'ADDED_TIME_DESC'] as const;

function numericId(value: string): number {
  return /^\d+$/.test(value) ? Number(value) : NaN;
}

function productRenderer(store: SimStore) {
  return (product: SimProduct) =>
    renderProduct(product, {
      storeId: store.storeId,
      categories: product.categoryIds.map((id) => ({
        id,
        enabled: store.categories.get(id)?.enabled ?? false,
      })),
    });
}

function categoryRenderer(store: SimStore, withProductIds: boolean) {
  const productIds = new Map<number, { all: number[]; enabled: number }>();
  for (const product of store.products.values()) {
    for (const categoryId of product.categoryIds) {
      const entry = productIds.get(categoryId) ?? { all: [], enabled: 0 };
      entry.all.push(product.id);
      if (product.enabled) entry.enabled++;
      productIds.set(categoryId, entry);
    }
  }
  return (category: SimCategory) => {
    const entry = productIds.get(category.id);
    return {
      ...category,
      productCount: entry?.all.length ?? 0,
      enabledProductCount: entry?.enabled ?? 0,
      ...(withProductIds ? { productIds: entry?.all ?? [] } : {}),
    };
  };
}

/** Products, categories, product types (`/classes`) and reviews. */
export function createCatalogRoutes() {
  return (
    new Hono<SimEnv>()
      .get('/products/:productId', (c) => {
        const product = c.var.store.products.get(numericId(c.req.param('productId')));
        if (!product) notFound('PRODUCT_NOT_FOUND', 'Product', c.req.param('productId'));
        return c.json(productRenderer(c.var.store)(product));
      })
      .get('/products', (c) => {
        const store = c.var.store;
        const render = productRenderer(store);
        const productIds = intListParam(c, 'productId');
        // docs/ecwid.md §4.5: with `productId` every other filter is ignored.
        if (productIds) {
          const wanted = new Set(productIds);
          return c.json(
            page(
              c,
              store.products.values().filter((product) => wanted.has(product.id)),
              render,
            ),
          );
        }
        const sortBy = enumParam(c, 'sortBy', productSorts);
        const updated = rangeParams(c, 'updated');
        const created = rangeParams(c, 'created');
        const sku = c.req.query('sku');
        const enabled = boolParam(c, 'enabled');
        const category = intParam(c, 'category');
        const ordered = sortBy?.startsWith('UPDATED') ? store.products.updatedBetween(updated.from, updated.to) : store.products.values();
        const products = applyFilters<SimProduct>(ordered, [
          !sortBy?.startsWith('UPDATED') && isRange(updated) && ((product) => inRange(product.updateTimestamp, updated)),
          isRange(created) && ((product) => inRange(product.createTimestamp, created)),
          sku !== undefined && ((product) => product.sku === sku || product.combinations.some((combination) => combination.sku === sku)),
          enabled !== undefined && ((product) => product.enabled === enabled),
          category !== undefined && ((product) => (category === 0 ? !product.categoryIds.length : product.categoryIds.includes(category))),
        ]);
        if (sortBy?.endsWith('_DESC')) products.reverse();
        return c.json(page(c, products, render));
      })
      .get('/categories/:categoryId', (c) => {
        const category = c.var.store.categories.get(numericId(c.req.param('categoryId')));
        if (!category) notFound('CATEGORIES_NOT_FOUND', 'Category', c.req.param('categoryId'));
        return c.json(categoryRenderer(c.var.store, boolParam(c, 'productIds') ?? false)(category));
      })
      .get('/categories', (c) => {
        const store = c.var.store;
        const parent = intParam(c, 'parent');
        const parentIds = intListParam(c, 'parentIds');
        const withHidden = boolParam(c, 'hidden_categories') ?? false;
        const categories = applyFilters<SimCategory>(store.categories.values(), [
          !withHidden && ((category) => category.enabled),
          parent !== undefined && ((category) => (category.parentId ?? 0) === parent),
          !!parentIds && ((category) => parentIds.includes(category.parentId ?? 0)),
        ]);
        return c.json(page(c, categories, categoryRenderer(store, boolParam(c, 'productIds') ?? false)));
      })
      .get('/classes/:classId', (c) => {
        const productType = c.var.store.productTypes.get(numericId(c.req.param('classId')));
        if (!productType) notFound('PRODUCT_CLASS_NOT_FOUND', 'Product type', c.req.param('classId'));
        return c.json(productType);
      })
      // A bare array, no envelope (docs/ecwid.md §4.4).
      .get('/classes', (c) => c.json(c.var.store.productTypes.values()))
      .get('/reviews/:reviewId', (c) => {
        const review = c.var.store.reviews.get(numericId(c.req.param('reviewId')));
        if (!review) notFound('PRODUCT_REVIEW_NOT_FOUND', 'Review', c.req.param('reviewId'));
        return c.json(review);
      })
      .get('/reviews', (c) => {
        const store = c.var.store;
        const updated = rangeParams(c, 'updated');
        const created = rangeParams(c, 'created');
        const reviewIds = intListParam(c, 'reviewId');
        const productIds = intListParam(c, 'productId');
        const orderId = c.req.query('orderId');
        const status = c.req.query('status')?.toUpperCase();
        const rating = intParam(c, 'rating');
        const reviews = applyFilters<SimReview>(store.reviews.updatedBetween(updated.from, updated.to), [
          !!reviewIds && ((review) => reviewIds.includes(review.id)),
          !!productIds && ((review) => productIds.includes(review.productId)),
          isRange(created) && ((review) => inRange(review.createTimestamp, created)),
          orderId !== undefined && ((review) => review.orderId === orderId),
          status !== undefined && ((review) => review.status === status),
          rating !== undefined && ((review) => review.rating === rating),
        ]);
        return c.json(page(c, reviews, (review) => review));
      })
  );
}
