import type { Faker } from '@faker-js/faker';
import type { EntityTable } from '../store/entity-table.ts';
import type { SimStore } from '../store/sim-store.ts';

/** One webhook a change causes, before it gets an eventId and a signature. */
export type SimEvent = {
  eventType: string;
  entityId: number | string;
  data?: Record<string, unknown>;
};

export type ActionContext = { store: SimStore; faker: Faker };

/** A change a shop makes; returns its webhooks, or none when it does not apply right now. */
export type ShopAction = (context: ActionContext) => SimEvent[];

/** A random document, O(1) even among 100k orders. */
export function pickFrom<K extends number | string, T>(faker: Faker, table: EntityTable<K, T>): T | undefined {
  return table.size ? table.at(faker.number.int(table.size - 1)) : undefined;
}
