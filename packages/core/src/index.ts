export { AppError, toError, type ErrorCode } from './errors.ts';
export { createLogger, createSilentLogger, redactPaths, type Logger } from './logger.ts';
