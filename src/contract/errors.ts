// Typed errors with stable codes: DLQ headers, log lines and metrics use the code.

export const ERROR_CODES = [
  'FD_EVENT_NOT_JSON',
  'FD_EVENT_SCHEMA',
  'FD_EVENT_TOO_LARGE',
  'FD_EVENT_EMPTY',
  'FD_EVENT_NOT_UTF8',
  'FD_EVENT_TOO_DEEP',
  'FD_EVENT_DUPLICATE_KEY',
  'FD_CONFIG_INVALID',
  'FD_RULE_COMPILE',
  'FD_RULES_LOAD',
  'FD_FEATURE_DEFINITION',
  'FD_MODEL_LOAD',
  'FD_MODEL_MISMATCH',
  'FD_STORE_UNAVAILABLE',
  'FD_PARTITION_FENCED',
  'FD_COMMIT_REFUSED',
  'FD_KAFKA',
  'FD_REBUILD_REFUSED',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export abstract class FraudDetectorError extends Error {
  abstract readonly code: ErrorCode;
  /** Whether trying the same operation again may succeed. */
  readonly retriable: boolean = false;
}

/** Why an input event was refused: the code its dead letter (or `replay`'s reject line) carries. */
export const INVALID_EVENT_CODES = ['FD_EVENT_EMPTY', 'FD_EVENT_TOO_LARGE', 'FD_EVENT_NOT_UTF8', 'FD_EVENT_TOO_DEEP', 'FD_EVENT_NOT_JSON', 'FD_EVENT_DUPLICATE_KEY', 'FD_EVENT_SCHEMA'] as const satisfies readonly ErrorCode[];

export type InvalidEventCode = (typeof INVALID_EVENT_CODES)[number];

/** An event that can never be processed; it goes to the dead-letter topic. */
export class InvalidEventError extends FraudDetectorError {
  readonly code: InvalidEventCode;
  constructor(code: InvalidEventCode, message: string) {
    super(message);
    this.name = 'InvalidEventError';
    this.code = code;
  }
}

export class ConfigError extends FraudDetectorError {
  readonly code = 'FD_CONFIG_INVALID' as const;
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export interface SourceLocation {
  file: string;
  ruleId?: string;
  line?: number;
  column?: number;
}

export class RuleCompileError extends FraudDetectorError {
  readonly code = 'FD_RULE_COMPILE' as const;
  constructor(
    readonly location: SourceLocation,
    readonly cause_: string,
  ) {
    const where = [location.file, location.line, location.column].filter((p) => p !== undefined).join(':');
    super(`${where}${location.ruleId ? ` rule ${location.ruleId}` : ''}: ${cause_}`);
    this.name = 'RuleCompileError';
  }
}

/** A feature-definitions file that cannot be used: where, and why. */
export class FeatureDefinitionError extends FraudDetectorError {
  readonly code = 'FD_FEATURE_DEFINITION' as const;
  constructor(
    readonly location: { file: string; line?: number; column?: number },
    readonly reason: string,
  ) {
    super(`${[location.file, location.line, location.column].filter((p) => p !== undefined).join(':')}: ${reason}`);
    this.name = 'FeatureDefinitionError';
  }
}

export class ModelLoadError extends FraudDetectorError {
  readonly code: ErrorCode;
  constructor(message: string, code: 'FD_MODEL_LOAD' | 'FD_MODEL_MISMATCH' = 'FD_MODEL_LOAD') {
    super(message);
    this.name = code === 'FD_MODEL_MISMATCH' ? 'ModelMismatchError' : 'ModelLoadError';
    this.code = code;
  }
}

/** Redis could not be reached or answered with an error; the batch is retried, never dropped. */
export class StoreUnavailableError extends FraudDetectorError {
  readonly code = 'FD_STORE_UNAVAILABLE' as const;
  override readonly retriable = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}

/**
 * Another worker has claimed these partitions since this one did (a rebalance it has not heard
 * of yet): nothing of the store call was written. The call's other partitions may retry.
 */
export class PartitionFencedError extends FraudDetectorError {
  readonly code = 'FD_PARTITION_FENCED' as const;
  override readonly retriable = true;
  constructor(readonly partitions: readonly string[]) {
    super(`partitions claimed by another worker: ${partitions.join(', ')}`);
    this.name = 'PartitionFencedError';
  }
}

/** The broker did not accept a commit: the offsets stay where they were, the batch is not committed. */
export class CommitRefusedError extends FraudDetectorError {
  readonly code = 'FD_COMMIT_REFUSED' as const;
  override readonly retriable: boolean;
  constructor(message: string, options: { retriable: boolean; cause?: unknown }) {
    super(message, { cause: options.cause });
    this.name = 'CommitRefusedError';
    this.retriable = options.retriable;
  }
}

export class KafkaError extends FraudDetectorError {
  readonly code = 'FD_KAFKA' as const;
  override readonly retriable: boolean;
  readonly fatal: boolean;
  constructor(message: string, options: { retriable: boolean; fatal: boolean; cause?: unknown }) {
    super(message, { cause: options.cause });
    this.name = 'KafkaError';
    this.retriable = options.retriable;
    this.fatal = options.fatal;
  }
}

/** `features rebuild` will not run: its consumer group still has members (workers applying new events). */
export class RebuildRefusedError extends FraudDetectorError {
  readonly code = 'FD_REBUILD_REFUSED' as const;
  constructor(message: string) {
    super(message);
    this.name = 'RebuildRefusedError';
  }
}
