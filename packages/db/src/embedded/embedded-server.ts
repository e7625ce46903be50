import { createServer, type Socket } from 'node:net';
import type { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketHandler, type PGLiteSocketHandlerOptions } from '@electric-sql/pglite-socket';
import { createSessionQueue } from './session-queue.ts';

export type EmbeddedServerOptions = {
  /** Interface to listen on (default 127.0.0.1: the embedded database is for this machine). */
  host?: string | undefined;
  /** 0 (default): any free port. */
  port?: number | undefined;
  /** Connections at once (default 100); one more is refused with SQLSTATE 53300. */
  maxConnections?: number | undefined;
  /** PGlite itself failed (not an SQL error): the database can no longer be served. */
  onFatal?: ((err: unknown) => void) | undefined;
};

export type EmbeddedServer = {
  /** `postgres://postgres@127.0.0.1:<port>/postgres`: PGlite has one user and one database, whatever a client asks for. */
  url: string;
  port: number;
  connections(): number;
  /** Stops listening, closes every connection (ending its transaction) and waits for the backend to be idle. */
  stop(): Promise<void>;
};

/**
 * Serves one PGlite over the Postgres wire protocol, so that postgres.js, psql and BI tools
 * share it: @electric-sql/pglite-socket's connection handler (startup, SSL refusal, message
 * framing) with a queue that gives each client exclusive turns (session-queue.ts).
 */
export async function serveEmbedded(db: PGlite, options: EmbeddedServerOptions = {}): Promise<EmbeddedServer> {
  const host = options.host ?? '127.0.0.1';
  const maxConnections = options.maxConnections ?? 100;
  const onFatal =
    options.onFatal ??
    ((err: unknown) =>
      setImmediate(() => {
        throw err;
      }));
  let failed = false;
  const handlers = new Set<PGLiteSocketHandler>();
  const queue = createSessionQueue(db, (err) => {
    if (failed) return;
    failed = true;
    for (const h of handlers) void h.detach(true);
    onFatal(err);
  });
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    void accept(socket);
  });

  const accept = async (socket: Socket) => {
    if (failed || handlers.size >= maxConnections) {
      const message = failed ? 'the embedded database has failed' : 'sorry, too many clients already';
      socket.end(errorResponse('53300', message), () => socket.destroy());
      return;
    }
    const handler = new PGLiteSocketHandler({
      // Structurally the package's QueryQueueManager, whose private fields TypeScript cannot match.
      queryQueue: queue as unknown as PGLiteSocketHandlerOptions['queryQueue'],
      closeOnDetach: true,
    });
    handlers.add(handler);
    const forget = () => handlers.delete(handler);
    handler.addEventListener('close', forget);
    handler.addEventListener('error', forget);
    try {
      await handler.attach(socket);
    } catch {
      forget();
      socket.destroy();
    }
  };

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as { port: number }).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;

  let stopping: Promise<void> | undefined;
  return {
    url: `postgres://postgres@${urlHost}:${port}/postgres`,
    port,
    connections: () => handlers.size,
    stop() {
      stopping ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        await Promise.all([...handlers].map((h) => h.detach(true)));
        handlers.clear();
        await queue.idle();
        for (const socket of sockets) socket.destroy();
        await closed;
      })();
      return stopping;
    },
  };
}

/** A FATAL ErrorResponse, the answer to a connection that cannot be served. */
function errorResponse(code: string, message: string): Buffer {
  const fields = Buffer.from(`SFATAL\0VFATAL\0C${code}\0M${message}\0\0`, 'utf8');
  const header = Buffer.alloc(5);
  header.write('E', 0);
  header.writeInt32BE(4 + fields.length, 1);
  return Buffer.concat([header, fields]);
}
