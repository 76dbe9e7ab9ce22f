// The one error type of the client library and the one place that turns what arrives from
// the wire (a gRPC ServiceError, a watch ERROR event's Status) into it.
import * as grpc from '@grpc/grpc-js';
import { metav1 } from '@k8ts/api';

/**
 * Kubernetes' machine-readable failure reasons (metav1.StatusReason), plus 'Cancelled' for
 * a call the caller cancelled.
 */
export type StatusReason =
  | 'NotFound'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Invalid'
  | 'BadRequest'
  | 'Unauthorized'
  | 'Forbidden'
  | 'Gone'
  | 'Expired'
  | 'Timeout'
  | 'ServiceUnavailable'
  | 'TooManyRequests'
  | 'RequestEntityTooLarge'
  | 'MethodNotAllowed'
  | 'InternalError'
  | 'Cancelled'
  | 'Unknown';

/** The metadata key under which k8ts servers attach a binary k8ts.meta.v1.Status. */
export const STATUS_METADATA_KEY = 'k8ts-status-bin';

/** The reason that goes with each gRPC code when the server attached no Status. */
const REASON_BY_CODE: Record<number, StatusReason> = {
  [grpc.status.CANCELLED]: 'Cancelled',
  [grpc.status.UNKNOWN]: 'Unknown',
  [grpc.status.INVALID_ARGUMENT]: 'Invalid',
  [grpc.status.DEADLINE_EXCEEDED]: 'Timeout',
  [grpc.status.NOT_FOUND]: 'NotFound',
  [grpc.status.ALREADY_EXISTS]: 'AlreadyExists',
  [grpc.status.PERMISSION_DENIED]: 'Forbidden',
  [grpc.status.RESOURCE_EXHAUSTED]: 'RequestEntityTooLarge',
  [grpc.status.FAILED_PRECONDITION]: 'BadRequest',
  [grpc.status.ABORTED]: 'Conflict',
  [grpc.status.OUT_OF_RANGE]: 'Gone',
  [grpc.status.UNIMPLEMENTED]: 'MethodNotAllowed',
  [grpc.status.INTERNAL]: 'InternalError',
  [grpc.status.UNAVAILABLE]: 'ServiceUnavailable',
  [grpc.status.DATA_LOSS]: 'InternalError',
  [grpc.status.UNAUTHENTICATED]: 'Unauthorized',
};

/** The gRPC code for a Kubernetes HTTP status code, for Status objects that carry one. */
const CODE_BY_HTTP: Record<number, grpc.status> = {
  400: grpc.status.INVALID_ARGUMENT,
  401: grpc.status.UNAUTHENTICATED,
  403: grpc.status.PERMISSION_DENIED,
  404: grpc.status.NOT_FOUND,
  405: grpc.status.UNIMPLEMENTED,
  409: grpc.status.ABORTED,
  410: grpc.status.OUT_OF_RANGE,
  413: grpc.status.RESOURCE_EXHAUSTED,
  422: grpc.status.INVALID_ARGUMENT,
  429: grpc.status.RESOURCE_EXHAUSTED,
  500: grpc.status.INTERNAL,
  503: grpc.status.UNAVAILABLE,
  504: grpc.status.DEADLINE_EXCEEDED,
};

/** The gRPC code for a reason, for Status objects that carry no usable HTTP code. */
const CODE_BY_REASON: Partial<Record<StatusReason, grpc.status>> = {
  NotFound: grpc.status.NOT_FOUND,
  AlreadyExists: grpc.status.ALREADY_EXISTS,
  Conflict: grpc.status.ABORTED,
  Invalid: grpc.status.INVALID_ARGUMENT,
  BadRequest: grpc.status.INVALID_ARGUMENT,
  Unauthorized: grpc.status.UNAUTHENTICATED,
  Forbidden: grpc.status.PERMISSION_DENIED,
  Gone: grpc.status.OUT_OF_RANGE,
  Expired: grpc.status.OUT_OF_RANGE,
  Timeout: grpc.status.DEADLINE_EXCEEDED,
  ServiceUnavailable: grpc.status.UNAVAILABLE,
  TooManyRequests: grpc.status.RESOURCE_EXHAUSTED,
  RequestEntityTooLarge: grpc.status.RESOURCE_EXHAUSTED,
  MethodNotAllowed: grpc.status.UNIMPLEMENTED,
  InternalError: grpc.status.INTERNAL,
  Cancelled: grpc.status.CANCELLED,
};

/**
 * A failed API call. `code` is the gRPC status code the server answered with; `reason` is
 * the Kubernetes reason for it ('NotFound', 'Conflict', 'Gone', ...); `message` is the
 * server's own message. When the server attached a Status (for example one cause per
 * invalid field), it is in `status` and its causes in `causes`.
 */
export class ApiError extends Error {
  readonly code: grpc.status;
  readonly reason: StatusReason;
  readonly status?: metav1.Status;

  constructor(
    code: grpc.status,
    message: string,
    opts: { reason?: StatusReason; status?: metav1.Status; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'ApiError';
    this.code = code;
    this.reason = opts.reason ?? REASON_BY_CODE[code] ?? 'Unknown';
    this.status = opts.status;
  }

  /** The individual problems (field path, reason, message) the server listed, if any. */
  get causes(): metav1.StatusCause[] {
    return this.status?.details?.causes ?? [];
  }

  /** The gRPC code's name: 'NOT_FOUND', 'ABORTED', ... */
  get codeName(): string {
    return grpc.status[this.code] ?? String(this.code);
  }
}

function isServiceError(err: unknown): err is grpc.ServiceError {
  return typeof err === 'object' && err !== null && typeof (err as { code?: unknown }).code === 'number' && 'details' in err;
}

function attachedStatus(err: grpc.ServiceError): metav1.Status | undefined {
  const values = err.metadata?.get?.(STATUS_METADATA_KEY) ?? [];
  for (const value of values) {
    if (!Buffer.isBuffer(value)) continue;
    try {
      return metav1.Status.decode(value);
    } catch {
      // A malformed detail is ignored: the code and message still say what happened.
    }
  }
  return undefined;
}

function knownReason(reason: string | undefined): StatusReason | undefined {
  return reason && reason in REASON_SET ? (reason as StatusReason) : undefined;
}
const REASON_SET: Record<string, true> = Object.fromEntries(
  [...Object.values(REASON_BY_CODE), 'Conflict', 'BadRequest', 'Expired', 'TooManyRequests'].map((r) => [r, true]),
);

/**
 * Turns anything a call may fail with into an ApiError. A gRPC ServiceError keeps its code
 * and the server's message (without grpc-js' "5 NOT_FOUND: " prefix); an attached Status
 * supplies the reason and causes. An ApiError is returned as is; anything else becomes
 * UNKNOWN with the original as `cause`.
 */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (isServiceError(err)) {
    const status = attachedStatus(err);
    const message = status?.message || err.details || err.message;
    return new ApiError(err.code, message, { reason: knownReason(status?.reason), status, cause: err });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new ApiError(grpc.status.UNKNOWN, message, { cause: err });
}

/** The ApiError for a Status, as carried by a watch ERROR event. */
export function apiErrorFromStatus(status: metav1.Status | undefined): ApiError {
  const reason = knownReason(status?.reason);
  const code =
    (status?.code ? CODE_BY_HTTP[status.code] : undefined) ?? (reason ? CODE_BY_REASON[reason] : undefined) ?? grpc.status.UNKNOWN;
  return new ApiError(code, status?.message || 'watch ended with an error event', { reason, status });
}

function codeOf(err: unknown): number | undefined {
  if (err instanceof ApiError) return err.code;
  if (isServiceError(err)) return err.code;
  return undefined;
}

/** The object does not exist (NOT_FOUND). */
export function isNotFound(err: unknown): boolean {
  return codeOf(err) === grpc.status.NOT_FOUND;
}

/** The object's name is taken (ALREADY_EXISTS). */
export function isAlreadyExists(err: unknown): boolean {
  return codeOf(err) === grpc.status.ALREADY_EXISTS;
}

/** A stale resourceVersion or failed precondition (ABORTED): read again and retry. */
export function isConflict(err: unknown): boolean {
  return codeOf(err) === grpc.status.ABORTED;
}

/** The resourceVersion is older than the server keeps (OUT_OF_RANGE, Kubernetes' 410 Gone): list again. */
export function isGone(err: unknown): boolean {
  return codeOf(err) === grpc.status.OUT_OF_RANGE;
}

/** The request was rejected as invalid (INVALID_ARGUMENT); `causes` lists the fields. */
export function isInvalid(err: unknown): boolean {
  return codeOf(err) === grpc.status.INVALID_ARGUMENT;
}

/** No valid credentials (UNAUTHENTICATED). */
export function isUnauthorized(err: unknown): boolean {
  return codeOf(err) === grpc.status.UNAUTHENTICATED;
}

/** The caller may not do this (PERMISSION_DENIED). */
export function isForbidden(err: unknown): boolean {
  return codeOf(err) === grpc.status.PERMISSION_DENIED;
}

/** The server could not be reached or is overloaded (UNAVAILABLE); safe reads are retried. */
export function isUnavailable(err: unknown): boolean {
  return codeOf(err) === grpc.status.UNAVAILABLE;
}

/** The call ran out of time (DEADLINE_EXCEEDED). */
export function isTimeout(err: unknown): boolean {
  return codeOf(err) === grpc.status.DEADLINE_EXCEEDED;
}
