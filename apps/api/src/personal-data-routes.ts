import { z, type OpenAPIHono } from '@hono/zod-openapi';
import { AppError } from '@mirror/core';
import {
  answerRequest,
  createRequest,
  emailShape,
  exportReadable,
  getRequest,
  listRequests,
  readExport,
  RequestInputError,
  type PersonalDataRequest as RequestRow,
} from '@mirror/db';
import type { Context } from 'hono';
import { stream } from 'hono/streaming';
import { addActionRoute } from './action-routes.ts';
import type { ApiEnv } from './api-env.ts';
import type { RouteContext } from './entity-routes.ts';
import { beforeParam, decimalParam, idPage, limitParam, storeIdParam } from './query-params.ts';
import { addGetRoute, valid } from './routes.ts';

/*
 * Personal-data requests over HTTP, for the admin token only (docs/personal-data.md): list them,
 * read one, read an export, ask for an erasure or an export as Ecwid's webhooks would, and
 * confirm or cancel an erasure a webhook asked for. A store's key cannot see them: they are about
 * that store's customers, not for its apps.
 */

const time = z.string().nullable().openapi({ format: 'date-time' });

const requestSchema = z
  .object({
    id: z.number().int(),
    kind: z.enum(['erase', 'export']),
    scope: z.enum(['customer', 'store']),
    source: z.string().openapi({ description: 'webhook, cli or api' }),
    customerId: z.number().int().nullable().openapi({ description: 'the customer asked about; null once erased' }),
    email: z.string().nullable().openapi({ description: 'the email asked about; null once erased' }),
    requestedPosition: z.number().int().nullable().openapi({ description: "the webhook's record in the log, for Ecwid's requests" }),
    status: z.enum(['awaiting_confirmation', 'received', 'running', 'done', 'failed', 'cancelled']).openapi({
      description: 'an erasure Ecwid asked for by webhook waits in `awaiting_confirmation` until an operator confirms or cancels it',
    }),
    reason: z.string().nullable(),
    counts: z.record(z.string(), z.number()).nullable().openapi({ description: 'what an erasure touched: log records and rows per table' }),
    exportUrl: z.string().nullable().openapi({ description: 'a finished export: where to read it' }),
    createdAt: z.string().openapi({ format: 'date-time' }),
    startedAt: time,
    finishedAt: time,
  })
  .openapi('PersonalDataRequest');

function toBody(row: RequestRow) {
  const iso = (d: Date | null) => (d ? d.toISOString() : null);
  return {
    id: row.id,
    kind: row.kind,
    scope: row.scope,
    source: row.source,
    customerId: row.subjectCustomerId,
    email: row.subjectEmail,
    requestedPosition: row.requestedPosition,
    status: row.status,
    reason: row.reason,
    counts: row.counts ?? null,
    exportUrl: exportReadable(row) ? `/v1/stores/${row.storeId}/personal-data-requests/${row.id}/export` : null,
    createdAt: row.createdAt.toISOString(),
    startedAt: iso(row.startedAt),
    finishedAt: iso(row.finishedAt),
  };
}

function requireAdmin(c: Context<ApiEnv>): void {
  if (c.get('principal').kind !== 'admin')
    throw new AppError('FORBIDDEN', 'personal-data requests need the admin token (MIRROR_ADMIN_TOKEN)');
}

const idParam = decimalParam(1, Number.MAX_SAFE_INTEGER, 'must be a request id: an integer ≥ 1 in decimal digits').openapi({
  param: { name: 'id', in: 'path' },
  type: 'integer',
});

const newRequestSchema = z
  .strictObject({
    kind: z.enum(['erase', 'export']),
    scope: z.enum(['customer', 'store']).default('customer'),
    customerId: z.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional(),
    email: z.string().max(320).regex(emailShape, 'not an email address').optional(),
  })
  .refine((b) => b.scope === 'store' || b.customerId !== undefined || b.email !== undefined, {
    message: 'a customer request needs customerId or email',
    path: ['customerId'],
  })
  // A store's request is about every customer of it: a customer named beside it contradicts the
  // scope, and taking either one at its word could erase or export far more, or less, than asked.
  .refine((b) => b.scope !== 'store' || b.customerId === undefined, {
    message: 'a store request is about every customer of the store: leave out customerId, or leave out "scope": "store"',
    path: ['customerId'],
  })
  .refine((b) => b.scope !== 'store' || b.email === undefined, {
    message: 'a store request is about every customer of the store: leave out email, or leave out "scope": "store"',
    path: ['email'],
  })
  .openapi('NewPersonalDataRequest');

export function addPersonalDataRoutes(app: OpenAPIHono<ApiEnv>, { db }: RouteContext): void {
  const base = '/v1/stores/{storeId}/personal-data-requests';
  addGetRoute(
    app,
    {
      path: base,
      adminOnly: true,
      tag: 'personal-data',
      summary: "The store's personal-data requests, newest first (admin token only)",
      description: 'Follow `nextBefore` for older requests.',
      params: z.object({ storeId: storeIdParam }),
      query: z.object({
        limit: limitParam,
        before: beforeParam('request'),
      }),
      response: z.object({ data: z.array(requestSchema), nextBefore: z.number().int().nullable() }).openapi('PersonalDataRequestList'),
      responseDescription: 'requests, newest first',
    },
    async (c) => {
      requireAdmin(c);
      const { limit, before } = valid<{ limit: number; before?: number }>(c, 'query');
      const { rows, next } = idPage(await listRequests(db, c.get('storeId'), limit + 1, before), limit);
      return c.json({ data: rows.map(toBody), nextBefore: next }, 200);
    },
  );
  addGetRoute(
    app,
    {
      path: `${base}/{id}`,
      adminOnly: true,
      tag: 'personal-data',
      summary: 'One personal-data request (admin token only)',
      params: z.object({ storeId: storeIdParam, id: idParam }),
      response: requestSchema,
      responseDescription: 'the request',
    },
    async (c) => {
      requireAdmin(c);
      const { id } = valid<{ id: number }>(c, 'param');
      const row = await getRequest(db, c.get('storeId'), id);
      if (!row) throw new AppError('NOT_FOUND', `no personal-data request ${id} for store ${c.get('storeId')}`);
      return c.json(toBody(row), 200);
    },
  );
  addGetRoute(
    app,
    {
      path: `${base}/{id}/export`,
      adminOnly: true,
      tag: 'personal-data',
      summary: 'A finished export: everything the mirror held about the subject (admin token only)',
      description:
        'One JSON document: the request, the subject, and `items`: table rows (`source: table`) and log records (`source: log`).',
      params: z.object({ storeId: storeIdParam, id: idParam }),
      response: z.object({ request: z.object({}).passthrough(), subject: z.object({}).passthrough(), items: z.array(z.unknown()) }),
      responseDescription: 'the export document',
    },
    async (c) => {
      requireAdmin(c);
      const { id } = valid<{ id: number }>(c, 'param');
      const row = await getRequest(db, c.get('storeId'), id);
      if (!row || row.kind !== 'export') throw new AppError('NOT_FOUND', `no export ${id} for store ${c.get('storeId')}`);
      if (row.status !== 'done')
        throw new AppError('CONFLICT', `export ${id} is not ready: it is ${row.status}${row.reason ? ` (${row.reason})` : ''}`);
      // Deleted by an erasure of its subject: gone, not an export that found nothing.
      if (!exportReadable(row)) throw new AppError('NOT_FOUND', `export ${id} was ${row.reason}, which erased its subject`);
      c.header('content-type', 'application/json; charset=utf-8');
      c.header('content-disposition', `attachment; filename="personal-data-export-${row.storeId}-${row.id}.json"`);
      return stream(c, async (out) => {
        for await (const chunk of readExport(db, row)) await out.write(chunk);
      });
    },
  );

  const adminOnly = { 401: 'no valid admin token', 403: 'a store key: only the admin token may' };
  addActionRoute(
    app,
    {
      method: 'post',
      path: base,
      tag: 'personal-data',
      summary: 'Ask for an erasure or an export (admin token only)',
      description:
        'The same request Ecwid makes with `customer.personalDataRemovalRequest` and friends. It is queued: the worker in `mirror project` ' +
        '(or `pnpm start`) runs it; poll the request until `status` is `done`.',
      params: z.object({ storeId: storeIdParam }),
      body: newRequestSchema,
      status: 202,
      response: requestSchema,
      responseDescription: 'queued',
      errors: { ...adminOnly, 404: 'no such store' },
    },
    async (c, { body }) => {
      requireAdmin(c);
      try {
        const row = await createRequest(db, { storeId: c.get('storeId'), source: 'api', ...body });
        return c.json(toBody(row), 202);
      } catch (err) {
        if (err instanceof RequestInputError) throw new AppError('BAD_REQUEST', err.message, { details: { parameter: 'body' } });
        throw err;
      }
    },
  );

  // An erasure a webhook asked for waits for an operator: a webhook's body is not signed, and an
  // erasure cannot be undone (decision 0026).
  for (const answer of ['confirm', 'cancel'] as const) {
    addActionRoute(
      app,
      {
        method: 'post',
        path: `${base}/{id}/${answer}`,
        tag: 'personal-data',
        summary:
          answer === 'confirm'
            ? 'Confirm an erasure Ecwid asked for by webhook: the worker runs it (admin token only)'
            : 'Cancel an erasure Ecwid asked for by webhook, unrun (admin token only)',
        params: z.object({ storeId: storeIdParam, id: idParam }),
        status: 200,
        response: requestSchema,
        responseDescription: answer === 'confirm' ? 'queued for the worker' : 'cancelled',
        errors: { ...adminOnly, 404: 'no such request', 409: 'the request is not awaiting confirmation' },
      },
      async (c, { params }) => {
        requireAdmin(c);
        return c.json(toBody(await answerRequest(db, c.get('storeId'), params['id'] as number, answer)), 200);
      },
    );
  }
}
