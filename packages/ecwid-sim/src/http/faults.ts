import type { MiddlewareHandler } from 'hono';
import { sleep } from '@mirror/core';
import { EcwidApiError } from './ecwid-error.ts';

export type FaultOptions = {
  /** Share of requests answered with a 5xx, 0..1. */
  errorRate: number;
  /** Added to every response. */
  latencyMs: number;
  /** Share of requests that never answer until the client gives up (or `timeoutHoldMs`). */
  timeoutRate: number;
  /** Share of 200s whose JSON body is cut short. */
  malformedRate: number;
  /** Every request gets a 429, as if the token were blocked. */
  rateLimitBurst?: boolean;
  /** How long a "timed out" request is held before a 408; Ecwid clients give up well before. */
  timeoutHoldMs?: number;
};

const noFaults: FaultOptions = {
  errorRate: 0,
  latencyMs: 0,
  timeoutRate: 0,
  malformedRate: 0,
  rateLimitBurst: false,
};

export type FaultState = { current: FaultOptions; set(faults: Partial<FaultOptions>): void };

export function createFaultState(initial: Partial<FaultOptions> = {}): FaultState {
  const state: FaultState = {
    current: { ...noFaults, ...initial },
    set(faults) {
      state.current = { ...state.current, ...faults };
    },
  };
  return state;
}

/** Latency on every answer, and truncated JSON on a share of the 200s. */
export function shapeResponses(faults: FaultState, random: () => number): MiddlewareHandler {
  return async (c, next) => {
    await sleep(faults.current.latencyMs);
    await next();
    const isJson = c.res.headers.get('content-type')?.includes('json');
    if (c.res.status !== 200 || !isJson || random() >= faults.current.malformedRate) return;
    const text = await c.res.text();
    const headers = new Headers(c.res.headers);
    headers.delete('content-length');
    c.res = undefined;
    c.res = new Response(text.slice(0, Math.floor(text.length / 2)), { status: 200, headers });
  };
}

/** 5xx answers and requests held open until the client (or the server) gives up. */
export function injectFailures(faults: FaultState, random: () => number, closing: AbortSignal): MiddlewareHandler {
  return async (c, next) => {
    const { errorRate, timeoutRate, timeoutHoldMs = 60_000 } = faults.current;
    if (random() < timeoutRate) {
      await sleep(timeoutHoldMs, AbortSignal.any([c.req.raw.signal, closing]));
      throw new EcwidApiError('TIMEOUT', 'Request timed out');
    }
    if (random() < errorRate) {
      const status = ([500, 502, 503] as const)[Math.floor(random() * 3)]!;
      return c.json({ errorMessage: 'Internal error', errorCode: 'INTERNAL_ERROR' }, status);
    }
    await next();
  };
}
