import { z } from 'zod';

/** One entry of the app's key-value storage. */
export const ecwidStorageEntrySchema = z.looseObject({
  key: z.string(),
  value: z.unknown(),
});

/** `GET /storage` answers a bare array. */
export const ecwidStorageSchema = z.array(ecwidStorageEntrySchema);

export type EcwidStorageEntry = z.infer<typeof ecwidStorageEntrySchema>;
