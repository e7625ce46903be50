import { makeCategory } from '../documents/category.ts';
import { makeProduct, refreshStock } from '../documents/product.ts';
import { makeProductType } from '../documents/product-type.ts';
import { pickFrom, type ShopAction, type SimEvent } from './shop-action.ts';

/** Price, stock, visibility or name edits; sometimes a new or a deleted product. */
export const editProduct: ShopAction = ({ store, faker }) => {
  const roll = faker.number.float();
  if (roll < 0.15) {
    const categoryIds = store.categories.values().map((category) => category.id);
    const product = makeProduct(faker, store.nextId, {
      createdAt: store.clock(),
      categoryIds: faker.helpers.arrayElements(categoryIds, {
        min: 0,
        max: Math.min(2, categoryIds.length),
      }),
      productClassId: pickFrom(faker, store.productTypes)?.id ?? 0,
    });
    store.insert('products', product);
    return [{ eventType: 'product.created', entityId: product.id }];
  }
  const product = pickFrom(faker, store.products);
  if (!product) return [];
  if (roll < 0.2) {
    store.remove('products', product.id);
    return [{ eventType: 'product.deleted', entityId: product.id }];
  }
  store.update('products', product.id, (doc) => {
    if (roll < 0.5) doc.price = Number(faker.commerce.price({ min: 3, max: 300 }));
    else if (roll < 0.8) {
      for (const combination of doc.combinations) combination.quantity += faker.number.int({ min: 1, max: 20 });
      if (!doc.unlimited) doc.quantity = (doc.quantity ?? 0) + faker.number.int({ min: 1, max: 50 });
      refreshStock(doc);
    } else if (roll < 0.9) doc.enabled = !doc.enabled;
    else doc.name = faker.commerce.productName();
  });
  return [{ eventType: 'product.updated', entityId: product.id }];
};

/** Category edits. Only leaves are deleted; their products lose the category (and change). */
export const editCategory: ShopAction = ({ store, faker }) => {
  const roll = faker.number.float();
  const category = pickFrom(faker, store.categories);
  if (!category || roll < 0.3) {
    const parentId = category && faker.datatype.boolean(0.5) ? category.id : undefined;
    const created = makeCategory(faker, store.nextId, {
      storeId: store.storeId,
      parentId,
      orderBy: (store.categories.size + 1) * 10,
    });
    store.insert('categories', created);
    return [{ eventType: 'category.created', entityId: created.id }];
  }
  const isLeaf = !store.categories.values().some((candidate) => candidate.parentId === category.id);
  if (roll < 0.45 && isLeaf) {
    store.remove('categories', category.id);
    const events: SimEvent[] = [{ eventType: 'category.deleted', entityId: category.id }];
    for (const product of store.products.values().filter((candidate) => candidate.categoryIds.includes(category.id))) {
      store.update('products', product.id, (doc) => {
        doc.categoryIds = doc.categoryIds.filter((id) => id !== category.id);
        doc.defaultCategoryId = doc.categoryIds[0] ?? 0;
      });
      events.push({ eventType: 'product.updated', entityId: product.id });
    }
    return events;
  }
  store.update('categories', category.id, (doc) => {
    if (roll < 0.7) doc.enabled = !doc.enabled;
    else {
      doc.name = faker.commerce.department();
      doc.nameTranslated = { en: doc.name };
    }
  });
  return [{ eventType: 'category.updated', entityId: category.id }];
};

/** Product types (`product_class.*`); only an unused one is deleted, never "General" (id 0). */
export const editProductType: ShopAction = ({ store, faker }) => {
  const roll = faker.number.float();
  const productType = pickFrom(faker, store.productTypes);
  if (!productType || roll < 0.3) {
    const created = makeProductType(faker, store.nextId);
    store.insert('productTypes', created);
    return [{ eventType: 'product_class.created', entityId: created.id }];
  }
  if (roll < 0.5) {
    const used = new Set(store.products.values().map((product) => product.productClassId));
    const unused = store.productTypes.values().filter((candidate) => candidate.id !== 0 && !used.has(candidate.id));
    if (unused.length) {
      const removed = faker.helpers.arrayElement(unused);
      store.remove('productTypes', removed.id);
      return [{ eventType: 'product_class.deleted', entityId: removed.id }];
    }
  }
  store.update('productTypes', productType.id, (doc) => {
    doc.googleTaxonomy = `${doc.name} > ${faker.commerce.productAdjective()}`;
  });
  return [{ eventType: 'product_class.updated', entityId: productType.id }];
};
