// Error types of the kit: ConfigError for bad configuration (exit code 2 in runMain) and a
// helper that builds a gRPC ServiceError for handlers to return. The message of every such
// error is bounded (MAX_ERROR_MESSAGE_BYTES): it travels as the grpc-message header, and
// gRPC clients refuse a response whose metadata passes their limit (8 KiB for the C core
// clients: Python, C++, Ruby, ...), so a message quoting a large request would otherwise
// make the answer unreadable.
import * as grpc from '@grpc/grpc-js';

/**
 * The longest status message sent, in UTF-8 bytes. grpc-js percent-encodes the message, which
 * can triple it on the wire: 3 KiB at most, leaving room for other trailers under 8 KiB.
 */
export const MAX_ERROR_MESSAGE_BYTES = 1024;

const TRUNCATED = '... (truncated)';

/**
 * `text` cut to at most `maxBytes` UTF-8 bytes, marker included, never inside a character:
 * the longest prefix that fits followed by "... (truncated)". Text that fits is returned as is.
 */
export function truncateUtf8(text: string, maxBytes: number): string {
  if (text.length <= maxBytes / 3 || Buffer.byteLength(text, 'utf8') <= maxBytes) return text;
  const budget = Math.max(0, maxBytes - TRUNCATED.length);
  let used = 0;
  let end = 0;
  for (const ch of text) {
    const size = Buffer.byteLength(ch, 'utf8');
    if (used + size > budget) break;
    used += size;
    end += ch.length;
  }
  return `${text.slice(0, end)}${TRUNCATED}`;
}

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
 * `code` and `message`. The client sees `message` as the status details, cut to
 * MAX_ERROR_MESSAGE_BYTES.
 */
export function grpcError(code: grpc.status, text: string, metadata?: grpc.Metadata): grpc.ServiceError {
  const message = truncateUtf8(text, MAX_ERROR_MESSAGE_BYTES);
  const err = new Error(`${code} ${grpc.status[code] ?? 'UNKNOWN'}: ${message}`) as grpc.ServiceError;
  err.name = 'ServiceError';
  err.code = code;
  err.details = message;
  err.metadata = metadata ?? new grpc.Metadata();
  return err;
}
