import { pino, type Logger as PinoLogger, type LoggerOptions } from 'pino';

export type Logger = PinoLogger;

/**
 * Paths pino blanks out wherever they appear in a log line. A last line of defence: code
 * never logs bodies, tokens or personal data on purpose, but an error object might carry one.
 */
export const redactPaths = [
  'token',
  '*.token',
  'authorization',
  '*.authorization',
  'headers.authorization',
  '*.headers.authorization',
  'secret',
  '*.secret',
  'clientSecret',
  '*.clientSecret',
  'email',
  '*.email',
  'password',
  '*.password',
  'databaseUrl',
  '*.databaseUrl',
];

/**
 * Structured JSON logs; one root logger per process, passed down as children. On stdout, or on
 * stderr (`toStderr`) for a command whose stdout is its answer (`--json`, a table).
 */
export function createLogger(options: LoggerOptions = {}, { toStderr = false }: { toStderr?: boolean } = {}): Logger {
  const settings = { level: 'info', ...options, redact: { paths: redactPaths, censor: '[redacted]' } };
  return toStderr ? pino(settings, pino.destination({ dest: 2, sync: true })) : pino(settings);
}

/** A logger that writes nothing: for tests and benchmarks. */
export function createSilentLogger(): Logger {
  return pino({ level: 'silent' });
}
