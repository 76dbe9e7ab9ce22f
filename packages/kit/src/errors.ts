// Error types of the kit: ConfigError for bad configuration (exit code 2 in runMain) and a
// helper that builds a gRPC ServiceError for handlers to return.
import * as grpc from '@grpc/grpc-js';

/**
 * A configuration problem: an unknown flag, a value that does not parse or validate, a
 * missing required setting, or settings that contradict each other. The message names the
 * flag, the value and the reason, and is meant to be shown to the operator as is.
 */
export class ConfigError extends Error {
  /** The flag concerned (without dashes), when one flag is concerned. */
  readonly flag?: string;
  /** The offending raw value, when there is one. */
  readonly value?: string;

  constructor(message: string, opts: { flag?: string; value?: string; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'ConfigError';
    this.flag = opts.flag;
    this.value = opts.value;
  }
}

/**
 * Builds the error a handler passes to its callback (or emits on a stream) to end a call with
 * `code` and `message`. The client sees `message` as the status details.
 */
export function grpcError(code: grpc.status, message: string, metadata?: grpc.Metadata): grpc.ServiceError {
  const err = new Error(`${code} ${grpc.status[code] ?? 'UNKNOWN'}: ${message}`) as grpc.ServiceError;
  err.name = 'ServiceError';
  err.code = code;
  err.details = message;
  err.metadata = metadata ?? new grpc.Metadata();
  return err;
}
