// The one error type of the client library, StatusError, and the one place that turns what
// arrives from the wire (a gRPC ServiceError, a watch ERROR event's Status) into it. The
// reasons with their HTTP and gRPC codes, Kubernetes' rules for reading a Status and the
// Status' place in the metadata are @k8ts/machinery's (status/), shared with the apiserver.
//
// The class is named StatusError, as client-go's apierrors.StatusError, so that code seeing
// both the client and the apiserver can tell it from the apiserver's ApiError (which builds
// errors; this one reads them). ApiError, toApiError and apiErrorFromStatus remain as
// deprecated aliases: many components and tests still use them.
import * as grpc from '@grpc/grpc-js';
import type { metav1 } from '@k8ts/api';
import {
  type StatusReason as KubernetesReason,
  STATUS_METADATA_KEY,
  grpcCodeForStatus,
  isAlreadyExistsStatus,
  isConflictStatus,
  isForbiddenStatus,
  isGoneStatus,
  isInvalidStatus,
  isNotFoundStatus,
  isServiceUnavailableStatus,
  isStatusReason,
  isTimeoutStatus,
  isUnauthorizedStatus,
  reasonForGrpcCode,
  statusFromMetadata,
} from '@k8ts/machinery';

export { STATUS_METADATA_KEY };

/**
 * Kubernetes' machine-readable failure reasons (metav1.StatusReason), plus 'Cancelled' for
 * a call the caller cancelled and 'Unknown' when nothing says more.
 */
export type StatusReason = KubernetesReason | 'Cancelled' | 'Unknown';

/** The reason of a gRPC code when the server attached no Status. */
function reasonOfCode(code: grpc.status): StatusReason {
  if (code === grpc.status.CANCELLED) return 'Cancelled';
  return reasonForGrpcCode(code) ?? 'Unknown';
}

/** A reason the table knows, or undefined (an empty or unheard-of reason says nothing). */
function knownReason(reason: string | undefined): KubernetesReason | undefined {
  return isStatusReason(reason) ? reason : undefined;
}

/**
 * A failed API call. `code` is the gRPC status code the server answered with; `reason` is
 * the Kubernetes reason for it ('NotFound', 'Conflict', 'Gone', ...); `message` is the
 * server's own message. When the server attached a Status (for example one cause per
 * invalid field), it is in `status` and its causes in `causes`.
 */
export class StatusError extends Error {
  readonly code: grpc.status;
  readonly reason: StatusReason;
  readonly status?: metav1.Status;

  constructor(
    code: grpc.status,
    message: string,
    opts: { reason?: StatusReason; status?: metav1.Status; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'StatusError';
    this.code = code;
    this.reason = opts.reason ?? reasonOfCode(code);
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

/** @deprecated Use StatusError (renamed so as not to share a name with the apiserver's ApiError). */
export const ApiError = StatusError;
/** @deprecated Use StatusError. */
export type ApiError = StatusError;

function isServiceError(err: unknown): err is grpc.ServiceError {
  return typeof err === 'object' && err !== null && typeof (err as { code?: unknown }).code === 'number' && 'details' in err;
}

/**
 * Turns anything a call may fail with into a StatusError. A gRPC ServiceError keeps its code
 * and the server's message (without grpc-js' "5 NOT_FOUND: " prefix); an attached Status
 * supplies the reason and causes. A StatusError is returned as is; anything else becomes
 * UNKNOWN with the original as `cause`.
 */
export function toStatusError(err: unknown): StatusError {
  if (err instanceof StatusError) return err;
  if (isServiceError(err)) {
    const status = statusFromMetadata(err.metadata);
    const message = status?.message || err.details || err.message;
    return new StatusError(err.code, message, { reason: knownReason(status?.reason), status, cause: err });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new StatusError(grpc.status.UNKNOWN, message, { cause: err });
}

/** The StatusError of a Status, as carried by a watch ERROR event (which has no gRPC code). */
export function statusErrorFromStatus(status: metav1.Status | undefined): StatusError {
  return new StatusError(grpcCodeForStatus(status), status?.message || 'watch ended with an error event', {
    reason: knownReason(status?.reason),
    status,
  });
}

/** @deprecated Use toStatusError. */
export const toApiError = toStatusError;
/** @deprecated Use statusErrorFromStatus. */
export const apiErrorFromStatus = statusErrorFromStatus;

function codeOf(err: unknown): number | undefined {
  if (err instanceof StatusError || isServiceError(err)) return err.code;
  return undefined;
}

function attachedStatusOf(err: unknown): metav1.Status | undefined {
  if (err instanceof StatusError) return err.status;
  if (isServiceError(err)) return statusFromMetadata(err.metadata);
  return undefined;
}

/**
 * Whether an error is of a kind: its gRPC code is the kind's, or the Status it carries is of
 * the kind by Kubernetes' rules (apierrors.Is*). The Status decides where k8ts answers a
 * reason with another gRPC code: a namespace refusing objects is Forbidden over
 * FAILED_PRECONDITION, a server that gave up waiting is a Timeout over UNAVAILABLE.
 */
function errorIs(err: unknown, code: grpc.status, statusIs: (status: metav1.Status | undefined) => boolean): boolean {
  return codeOf(err) === code || statusIs(attachedStatusOf(err));
}

/** The object does not exist (NOT_FOUND). */
export function isNotFound(err: unknown): boolean {
  return errorIs(err, grpc.status.NOT_FOUND, isNotFoundStatus);
}

/** The object's name is taken (ALREADY_EXISTS). */
export function isAlreadyExists(err: unknown): boolean {
  return errorIs(err, grpc.status.ALREADY_EXISTS, isAlreadyExistsStatus);
}

/** A stale resourceVersion or failed precondition (ABORTED): read again and retry. */
export function isConflict(err: unknown): boolean {
  return errorIs(err, grpc.status.ABORTED, isConflictStatus);
}

/** The resourceVersion is older than the server keeps (OUT_OF_RANGE, Kubernetes' 410 Gone or Expired): list again. */
export function isGone(err: unknown): boolean {
  return errorIs(err, grpc.status.OUT_OF_RANGE, isGoneStatus);
}

/** The request was rejected as invalid (INVALID_ARGUMENT, or 422 Invalid); `causes` lists the fields. */
export function isInvalid(err: unknown): boolean {
  return errorIs(err, grpc.status.INVALID_ARGUMENT, isInvalidStatus);
}

/** No valid credentials (UNAUTHENTICATED). */
export function isUnauthorized(err: unknown): boolean {
  return errorIs(err, grpc.status.UNAUTHENTICATED, isUnauthorizedStatus);
}

/** The caller may not do this (PERMISSION_DENIED), or policy refuses it (403 Forbidden: a terminating namespace). */
export function isForbidden(err: unknown): boolean {
  return errorIs(err, grpc.status.PERMISSION_DENIED, isForbiddenStatus);
}

/** The server could not be reached or is overloaded (UNAVAILABLE); safe reads are retried. */
export function isUnavailable(err: unknown): boolean {
  return errorIs(err, grpc.status.UNAVAILABLE, isServiceUnavailableStatus);
}

/** The call ran out of time (DEADLINE_EXCEEDED), or the server gave up waiting (504 Timeout): it may still take effect. */
export function isTimeout(err: unknown): boolean {
  return errorIs(err, grpc.status.DEADLINE_EXCEEDED, isTimeoutStatus);
}
