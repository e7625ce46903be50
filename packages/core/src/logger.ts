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

/** Structured JSON logs; one root logger per process, passed down as children. */
export function createLogger(options: LoggerOptions = {}): Logger {
  return pino({
    level: 'info',
    ...options,
    redact: { paths: redactPaths, censor: '[redacted]' },
  });
}

/** A logger that writes nothing: for tests and benchmarks. */
export function createSilentLogger(): Logger {
  return pino({ level: 'silent' });
}
