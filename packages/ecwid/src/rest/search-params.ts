/** A time filter: UNIX seconds, a `Date`, or one of Ecwid's date strings (docs/ecwid.md §4.1). */
export type TimeFilter = number | Date | string;

/** Offset paging; Ecwid caps `limit` at 100 and the client sends 100 unless told otherwise. */
export type Paging = { offset?: number; limit?: number };

type CreatedUpdated = {
  createdFrom?: TimeFilter;
  createdTo?: TimeFilter;
  updatedFrom?: TimeFilter;
  updatedTo?: TimeFilter;
};

/** `GET /orders` filters. `ids` takes public ids and internal ids alike. */
export type OrderSearchParams = Paging &
  CreatedUpdated & {
    ids?: readonly (string | number)[];
    paymentStatus?: string | readonly string[];
    fulfillmentStatus?: string | readonly string[];
    email?: string;
    customerId?: number;
    productId?: number;
    couponCode?: string;
    keywords?: string;
  };

/** `GET /carts` filters; `showHidden` includes carts the merchant deleted in the admin. */
export type CartSearchParams = Paging &
  CreatedUpdated & {
    showHidden?: boolean;
    email?: string;
    customerId?: number;
    totalFrom?: number;
    totalTo?: number;
  };

/** Ecwid's product sort orders; `UPDATED_TIME_ASC` gives a stable incremental scan. */
export type ProductSortBy =
  | 'RELEVANCE'
  | 'DEFINED_BY_STORE_OWNER'
  | 'ADDED_TIME_DESC'
  | 'ADDED_TIME_ASC'
  | 'NAME_ASC'
  | 'NAME_DESC'
  | 'PRICE_ASC'
  | 'PRICE_DESC'
  | 'UPDATED_TIME_ASC'
  | 'UPDATED_TIME_DESC';

/** `GET /products` filters. With `productId` set Ecwid ignores every other filter. */
export type ProductSearchParams = Paging &
  CreatedUpdated & {
    productId?: readonly number[];
    sku?: string;
    keyword?: string;
    enabled?: boolean;
    sortBy?: ProductSortBy;
  };

/** `GET /categories` filters (disabled categories are always included). */
export type CategorySearchParams = Paging & {
  parent?: number;
  parentIds?: readonly number[];
  withSubcategories?: boolean;
  /** Ask for each category's `productIds`. */
  productIds?: boolean;
};

/** `GET /customers` filters. */
export type CustomerSearchParams = Paging &
  CreatedUpdated & {
    email?: string;
    useExactEmailMatch?: boolean;
    customerGroupIds?: readonly number[];
    sortBy?: string;
  };

/** `GET /customer_groups` filters. */
export type CustomerGroupSearchParams = Paging & {
  customerGroupId?: readonly number[];
  keyword?: string;
};

/** `GET /discount_coupons` filters. */
export type DiscountCouponSearchParams = Paging &
  CreatedUpdated & {
    code?: string;
    discountType?: string;
    availability?: string;
  };

/** `GET /reviews` filters; offset/limit are undocumented but used by Ecwid's own client. */
export type ReviewSearchParams = Paging &
  CreatedUpdated & {
    reviewId?: number;
    productId?: number;
    orderId?: string;
    status?: string;
    rating?: number;
    sortBy?: string;
  };

/** Entities with a deleted-items history (docs/ecwid.md §4.4). */
export type DeletedEntity = 'orders' | 'products' | 'coupons' | 'customers' | 'reviews';

/** `GET /{entity}/deleted` window. */
export type DeletedSearchParams = Paging & { from?: TimeFilter; to?: TimeFilter };
