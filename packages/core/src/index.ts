export { AppError, describeError, errorReply, httpStatusByCode, toError, type DescribeErrorOptions, type ErrorCode } from './errors.ts';
export { createLogger, createSilentLogger, redactPaths, type Logger } from './logger.ts';
export { createGroupCommitter, type FlushInfo, type GroupCommitOptions, type GroupCommitter } from './group-commit.ts';
export { ConfigError, durationSetting, loadConfig, parseDurationMs, parseEnv, type ConfigSection } from './config.ts';
export { createMetrics, personalDataStatuses, type Metrics, type MetricsProbe } from './metrics.ts';
export { chunk, mapConcurrent, sleep } from './concurrency.ts';
export {
  createSecretBox,
  generateSecretKey,
  parseSecretKey,
  sealedKeyId,
  SecretKeyError,
  tokenFingerprint,
  UnsealError,
  type SecretBox,
} from './secret-box.ts';
