import { z, type OpenAPIHono } from '@hono/zod-openapi';
import { AppError } from '@mirror/core';
import type { Db } from '@mirror/db';
import { addActionRoute, requireAdmin } from './action-routes.ts';
import type { ApiEnv } from './api-env.ts';
import { createApiKey, listApiKeys, revokeApiKey, type ApiKeyInfo } from './api-keys.ts';
import { decimalParam } from './query-params.ts';
import { addGetRoute, valid } from './routes.ts';
import { storeExists } from './stores.ts';

/*
 * Store keys over HTTP, for the admin token only: the same keys as `mirror api-keys`. A key is
 * shown once, in the answer that creates it; only its hash is stored.
 */

const keySchema = z
  .object({
    id: z.number().int(),
    storeId: z.number().int(),
    prefix: z.string().openapi({ description: 'the first characters of the key, to tell keys apart' }),
    label: z.string().nullable(),
    createdAt: z.string().openapi({ format: 'date-time' }),
    revokedAt: z.string().nullable().openapi({ format: 'date-time' }),
  })
  .openapi('ApiKey');

const toBody = (k: ApiKeyInfo) => ({
  id: k.id,
  storeId: k.storeId,
  prefix: k.prefix,
  label: k.label,
  createdAt: k.createdAt.toISOString(),
  revokedAt: k.revokedAt?.toISOString() ?? null,
});

const newKeySchema = z
  .strictObject({
    storeId: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
    label: z.string().trim().min(1).max(200).optional(),
  })
  .openapi('NewApiKey');

const keyIdParam = decimalParam(1, 2_147_483_647, 'must be a key id: an integer ≥ 1 in decimal digits').openapi({
  param: { name: 'id', in: 'path' },
  type: 'integer',
});

export function addApiKeyRoutes(app: OpenAPIHono<ApiEnv>, { db }: { db: Db }): void {
  addGetRoute(
    app,
    {
      path: '/v1/api-keys',
      adminOnly: true,
      tag: 'api-keys',
      summary: 'List store keys (admin token only)',
      description: 'Live and revoked keys, by store. The keys themselves are not stored, only their first characters.',
      query: z.object({
        storeId: decimalParam(1, Number.MAX_SAFE_INTEGER, 'must be a store id: an integer in decimal digits')
          .optional()
          .openapi({ type: 'integer', description: 'only this store’s keys' }),
      }),
      response: z.object({ data: z.array(keySchema) }).openapi('ApiKeyList'),
      responseDescription: 'keys, by store and age',
    },
    async (c) => {
      requireAdmin(c, 'listing keys');
      const { storeId } = valid<{ storeId?: number }>(c, 'query');
      return c.json({ data: (await listApiKeys(db, { storeId })).map(toBody) }, 200);
    },
  );

  addActionRoute(
    app,
    {
      method: 'post',
      path: '/v1/api-keys',
      tag: 'api-keys',
      summary: 'Create a key that reads one store (admin token only)',
      description: 'The answer holds the key, `key`, this once: store it now. Give it to whoever should read that store.',
      body: newKeySchema,
      status: 201,
      response: keySchema.extend({ key: z.string().openapi({ description: 'the key itself, shown only here' }) }).openapi('CreatedApiKey'),
      responseDescription: 'the new key',
    },
    async (c, { body }) => {
      requireAdmin(c, 'creating keys');
      if (!(await storeExists(db, body.storeId))) {
        throw new AppError('BAD_REQUEST', `store ${body.storeId} is not known to the mirror`, { details: { parameter: 'storeId' } });
      }
      const { key, info } = await createApiKey(db, { storeId: body.storeId, label: body.label });
      return c.json({ ...toBody(info), key }, 201);
    },
  );

  addActionRoute(
    app,
    {
      method: 'delete',
      path: '/v1/api-keys/{id}',
      tag: 'api-keys',
      summary: 'Revoke a key (admin token only)',
      description: 'The key stops working within the key cache time (`API_KEY_CACHE_MS`, 5 s by default). Revoking twice is a 404.',
      params: z.object({ id: keyIdParam }),
      status: 200,
      response: keySchema,
      responseDescription: 'the revoked key',
    },
    async (c, { params }) => {
      requireAdmin(c, 'revoking keys');
      const id = params['id'] as number;
      const outcome = await revokeApiKey(db, String(id));
      switch (outcome.status) {
        case 'revoked':
          return c.json(toBody(outcome.key), 200);
        case 'already_revoked':
        case 'not_found':
        case 'ambiguous':
          throw new AppError('NOT_FOUND', `no live key with id ${id}`);
      }
    },
  );
}
