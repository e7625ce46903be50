import type { Faker } from '@faker-js/faker';
import { formatEcwidDate } from '../dates.ts';
import type { IdSource } from '../store/id-source.ts';

export type SimProductOption = {
  type: 'SIZE' | 'SELECT';
  name: string;
  choices: { text: string; priceModifier: number; priceModifierType: 'ABSOLUTE' }[];
  defaultChoice: number;
  required: boolean;
};

/** A variation: its own id, sku, price and stock (`combinations[]` in examples/product.json). */
export type SimCombination = {
  id: number;
  combinationNumber: number;
  options: { name: string; value: string }[];
  sku: string;
  price: number;
  defaultDisplayedPrice: number;
  quantity: number;
  unlimited: boolean;
  inStock: boolean;
  warningLimit: number;
};

export type SimProduct = {
  id: number;
  sku: string;
  name: string;
  price: number;
  compareToPrice?: number;
  quantity?: number;
  unlimited: boolean;
  inStock: boolean;
  enabled: boolean;
  weight: number;
  description: string;
  created: string;
  updated: string;
  createTimestamp: number;
  updateTimestamp: number;
  productClassId: number;
  categoryIds: number[];
  defaultCategoryId: number;
  options: SimProductOption[];
  combinations: SimCombination[];
  attributes: { id: number; name: string; value: string; type: string; show: string }[];
};

const sizes = ['S', 'M', 'L', 'XL'];

export function makeProduct(
  faker: Faker,
  nextId: IdSource,
  input: { createdAt: number; categoryIds: number[]; productClassId: number },
): SimProduct {
  const id = nextId('product');
  const price = Number(faker.commerce.price({ min: 3, max: 300 }));
  const sku = faker.string.alphanumeric({ length: 8, casing: 'upper' });
  const unlimited = faker.datatype.boolean(0.2);
  const quantity = unlimited ? undefined : faker.number.int({ min: 0, max: 200 });
  const hasOptions = faker.datatype.boolean(0.3);
  const choices = hasOptions ? sizes.slice(0, faker.number.int({ min: 2, max: 4 })) : [];
  const combinations = choices.map((size, index) => {
    const combinationQuantity = faker.number.int({ min: 0, max: 50 });
    return {
      id: nextId('combination'),
      combinationNumber: index + 1,
      options: [{ name: 'Size', value: size }],
      sku: `${sku}-${size}`,
      price: price + index,
      defaultDisplayedPrice: price + index,
      quantity: combinationQuantity,
      unlimited: false,
      inStock: combinationQuantity > 0,
      warningLimit: 1,
    };
  });
  return {
    id,
    sku,
    name: faker.commerce.productName(),
    price,
    ...(faker.datatype.boolean(0.2) ? { compareToPrice: Math.round(price * 1.2 * 100) / 100 } : {}),
    ...(quantity === undefined ? {} : { quantity }),
    unlimited,
    inStock: unlimited || (quantity ?? 0) > 0,
    enabled: faker.datatype.boolean(0.9),
    weight: faker.number.float({ min: 0.1, max: 5, fractionDigits: 2 }),
    description: `<p>${faker.commerce.productDescription()}</p>`,
    created: formatEcwidDate(input.createdAt),
    updated: formatEcwidDate(input.createdAt),
    createTimestamp: input.createdAt,
    updateTimestamp: input.createdAt,
    productClassId: input.productClassId,
    categoryIds: input.categoryIds,
    defaultCategoryId: input.categoryIds[0] ?? 0,
    options: choices.length
      ? [
          {
            type: 'SIZE',
            name: 'Size',
            choices: choices.map((text, index) => ({
              text,
              priceModifier: index,
              priceModifierType: 'ABSOLUTE',
            })),
            defaultChoice: 0,
            required: true,
          },
        ]
      : [],
    combinations,
    attributes: [],
  };
}

/** Recomputes `inStock` after a stock change, the way Ecwid derives it. */
export function refreshStock(product: SimProduct): void {
  for (const combination of product.combinations) combination.inStock = combination.unlimited || combination.quantity > 0;
  product.inStock = product.combinations.length
    ? product.combinations.some((combination) => combination.inStock)
    : product.unlimited || (product.quantity ?? 0) > 0;
}

/** The full examples/product.json shape; images, slugs and SEO fields are derived from the id. */
export function renderProduct(product: SimProduct, context: { storeId: number; categories: { id: number; enabled: boolean }[] }) {
  const image = (size: string) => `https://d2j6dbq0eux0bg.cloudfront.net/images/${context.storeId}/${product.id}-${size}.jpg`;
  const slug = `${product.name.toLowerCase().replaceAll(/[^a-z0-9]+/g, '-')}-${product.id}`;
  const priceFormatted = `$${product.price.toFixed(2)}`;
  return {
    id: product.id,
    sku: product.sku,
    thumbnailUrl: image('400'),
    ...(product.quantity === undefined ? {} : { quantity: product.quantity }),
    unlimited: product.unlimited,
    inStock: product.inStock,
    name: product.name,
    nameTranslated: { en: product.name },
    price: product.price,
    priceInProductList: product.price,
    defaultDisplayedPrice: product.price,
    defaultDisplayedPriceFormatted: priceFormatted,
    ...(product.compareToPrice === undefined ? {} : { compareToPrice: product.compareToPrice }),
    tax: {
      taxable: true,
      defaultLocationIncludedTaxRate: 0,
      enabledManualTaxes: [],
      taxClassCode: 'default',
    },
    lowestPrice: product.price,
    defaultDisplayedLowestPrice: product.price,
    defaultDisplayedLowestPriceFormatted: priceFormatted,
    lowestPriceSettings: { lowestPriceEnabled: false },
    isShippingRequired: true,
    weight: product.weight,
    hasFreeShipping: false,
    url: `https://store${context.storeId}.company.site/products/${slug}`,
    autogeneratedSlug: slug,
    customSlug: '',
    created: product.created,
    updated: product.updated,
    createTimestamp: product.createTimestamp,
    updateTimestamp: product.updateTimestamp,
    productClassId: product.productClassId,
    enabled: product.enabled,
    options: product.options,
    warningLimit: 1,
    fixedShippingRateOnly: false,
    fixedShippingRate: 0,
    shipping: {
      type: 'GLOBAL_METHODS',
      methodMarkup: 0,
      flatRate: 0,
      disabledMethods: [],
      enabledMethods: [],
    },
    defaultCombinationId: product.combinations[0]?.id ?? 0,
    imageUrl: image('1500'),
    smallThumbnailUrl: image('160'),
    hdThumbnailUrl: image('800'),
    originalImageUrl: image('original'),
    originalImage: { url: image('original'), width: 1200, height: 1200 },
    borderInfo: {
      dominatingColor: { red: 255, green: 255, blue: 255, alpha: 255 },
      homogeneity: true,
    },
    description: product.description,
    descriptionTranslated: { en: product.description },
    galleryImages: [],
    media: {
      images: [
        {
          id: '0',
          isMain: true,
          orderBy: 0,
          image160pxUrl: image('160'),
          image400pxUrl: image('400'),
          image800pxUrl: image('800'),
          image1500pxUrl: image('1500'),
          imageOriginalUrl: image('original'),
          alt: { translated: {} },
        },
      ],
      videos: [],
    },
    categoryIds: product.categoryIds,
    categories: context.categories,
    defaultCategoryId: product.defaultCategoryId,
    seoTitle: product.name,
    seoTitleTranslated: { en: product.name },
    seoDescription: '',
    seoDescriptionTranslated: { en: '' },
    favorites: { count: 0, displayedCount: '0' },
    attributes: product.attributes,
    files: [],
    relatedProducts: {
      productIds: [],
      relatedCategory: { enabled: false, categoryId: 0, productCount: 0 },
    },
    combinations: product.combinations,
    dimensions: { length: 0, width: 0, height: 0 },
    shippingPreparationTime: {},
    showDeliveryTimeInStorefront: false,
    volume: 0,
    showOnFrontpage: -1,
    isSampleProduct: false,
    googleItemCondition: 'NEW',
    isGiftCard: false,
    discountsAllowed: true,
    nameYourPriceEnabled: false,
    subscriptionSettings: {
      subscriptionAllowed: false,
      oneTimePurchaseAllowed: true,
      recurringChargeSettings: [{ recurringInterval: 'MONTH', recurringIntervalCount: 1 }],
    },
    googleProductCategory: 0,
    googleProductCategoryName: '',
    productCondition: 'NEW',
    outOfStockVisibilityBehaviour: 'SHOW',
  };
}
