// Kubernetes' failure reasons (metav1.StatusReason) with the HTTP code each is answered with
// and the gRPC code k8ts answers it with, kept once: the apiserver builds errors from this
// table and clients read errors back through it.
//
// Reading rules (k8s.io/apimachinery/pkg/api/errors, the Is* functions): a Status is of a
// reason when it says so, or when its reason is not one Kubernetes knows and its HTTP code is
// that reason's. AlreadyExists, Expired, ServerTimeout and StoreReadError are matched on the
// reason alone (their codes are shared with broader reasons); TooManyRequests and
// RequestEntityTooLarge match their code whatever the reason (older behaviour Kubernetes kept).
import type { metav1 } from '@k8ts/api';
import { GrpcCode } from './codes';

export type StatusReason =
  | 'Unauthorized'
  | 'Forbidden'
  | 'NotFound'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Gone'
  | 'Expired'
  | 'Invalid'
  | 'BadRequest'
  | 'MethodNotAllowed'
  | 'NotAcceptable'
  | 'UnsupportedMediaType'
  | 'RequestEntityTooLarge'
  | 'TooManyRequests'
  | 'InternalError'
  | 'ServerTimeout'
  | 'StoreReadError'
  | 'Timeout'
  | 'ServiceUnavailable'
  | 'NotImplemented';

/** When a Status whose reason differs is still taken as being of this reason by its HTTP code. */
type CodeMatch = 'whenReasonUnknown' | 'always' | 'never';

interface ReasonRule {
  httpCode: number;
  grpcCode: GrpcCode;
  codeMatch: CodeMatch;
}

const rule = (httpCode: number, grpcCode: GrpcCode, codeMatch: CodeMatch = 'whenReasonUnknown'): ReasonRule => ({ httpCode, grpcCode, codeMatch });

const REASONS: Readonly<Record<StatusReason, ReasonRule>> = {
  Unauthorized: rule(401, GrpcCode.UNAUTHENTICATED),
  Forbidden: rule(403, GrpcCode.PERMISSION_DENIED),
  NotFound: rule(404, GrpcCode.NOT_FOUND),
  AlreadyExists: rule(409, GrpcCode.ALREADY_EXISTS, 'never'),
  Conflict: rule(409, GrpcCode.ABORTED),
  Gone: rule(410, GrpcCode.OUT_OF_RANGE),
  // A resource version older than what is kept (watch, list continue): list again.
  Expired: rule(410, GrpcCode.OUT_OF_RANGE, 'never'),
  Invalid: rule(422, GrpcCode.INVALID_ARGUMENT),
  BadRequest: rule(400, GrpcCode.INVALID_ARGUMENT),
  MethodNotAllowed: rule(405, GrpcCode.UNIMPLEMENTED),
  NotAcceptable: rule(406, GrpcCode.INVALID_ARGUMENT),
  UnsupportedMediaType: rule(415, GrpcCode.INVALID_ARGUMENT),
  RequestEntityTooLarge: rule(413, GrpcCode.RESOURCE_EXHAUSTED, 'always'),
  TooManyRequests: rule(429, GrpcCode.RESOURCE_EXHAUSTED, 'always'),
  InternalError: rule(500, GrpcCode.INTERNAL),
  // ServerTimeout asks the client to retry after details.retryAfterSeconds.
  ServerTimeout: rule(500, GrpcCode.UNAVAILABLE, 'never'),
  StoreReadError: rule(500, GrpcCode.INTERNAL, 'never'),
  // The server gave up waiting (504). UNAVAILABLE, not DEADLINE_EXCEEDED: the request may be
  // retried, and DEADLINE_EXCEEDED stays the sign of the caller's own deadline.
  Timeout: rule(504, GrpcCode.UNAVAILABLE),
  ServiceUnavailable: rule(503, GrpcCode.UNAVAILABLE),
  // Not a Kubernetes reason: what k8ts answers for an API it does not implement.
  NotImplemented: rule(501, GrpcCode.UNIMPLEMENTED, 'never'),
};

/** Whether a reason is one of the table's (an empty or unknown reason is not). */
export function isStatusReason(reason: string | undefined): reason is StatusReason {
  return reason !== undefined && Object.hasOwn(REASONS, reason);
}

/** The HTTP code Kubernetes answers a reason with (404 for NotFound). */
export function httpCodeForReason(reason: StatusReason): number {
  return REASONS[reason].httpCode;
}

/** The gRPC code k8ts answers a reason with (NOT_FOUND for NotFound). */
export function grpcCodeForReason(reason: StatusReason): GrpcCode {
  return REASONS[reason].grpcCode;
}

/** The reason a client infers from a bare HTTP code (client-go's NewGenericServerResponse). */
const REASON_BY_HTTP: Readonly<Record<number, StatusReason>> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  406: 'NotAcceptable',
  409: 'Conflict',
  410: 'Gone',
  413: 'RequestEntityTooLarge',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  429: 'TooManyRequests',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

/** The reason an HTTP code stands for when nothing else is known; any other 5xx is InternalError. */
export function reasonForHttpCode(code: number): StatusReason | undefined {
  return REASON_BY_HTTP[code] ?? (code >= 500 && code < 600 ? 'InternalError' : undefined);
}

/**
 * The reason a bare gRPC code stands for, when a server attached no Status. Not the inverse
 * of grpcCodeForReason: several reasons share a code, and a deadline the caller set
 * (DEADLINE_EXCEEDED) is a Timeout.
 */
const REASON_BY_GRPC: Readonly<Partial<Record<GrpcCode, StatusReason>>> = {
  [GrpcCode.INVALID_ARGUMENT]: 'Invalid',
  [GrpcCode.DEADLINE_EXCEEDED]: 'Timeout',
  [GrpcCode.NOT_FOUND]: 'NotFound',
  [GrpcCode.ALREADY_EXISTS]: 'AlreadyExists',
  [GrpcCode.PERMISSION_DENIED]: 'Forbidden',
  [GrpcCode.RESOURCE_EXHAUSTED]: 'RequestEntityTooLarge',
  [GrpcCode.FAILED_PRECONDITION]: 'BadRequest',
  [GrpcCode.ABORTED]: 'Conflict',
  [GrpcCode.OUT_OF_RANGE]: 'Gone',
  [GrpcCode.UNIMPLEMENTED]: 'MethodNotAllowed',
  [GrpcCode.INTERNAL]: 'InternalError',
  [GrpcCode.UNAVAILABLE]: 'ServiceUnavailable',
  [GrpcCode.DATA_LOSS]: 'InternalError',
  [GrpcCode.UNAUTHENTICATED]: 'Unauthorized',
};

export function reasonForGrpcCode(code: number): StatusReason | undefined {
  return REASON_BY_GRPC[code as GrpcCode];
}

/**
 * The gRPC code a Status stands for (a watch ERROR event carries a Status and no gRPC code):
 * its reason's when the reason is known, else its HTTP code's, else UNKNOWN.
 */
export function grpcCodeForStatus(status: metav1.Status | undefined): GrpcCode {
  const stated = status?.reason;
  const reason = isStatusReason(stated) ? stated : reasonForHttpCode(status?.code ?? 0);
  return reason ? grpcCodeForReason(reason) : GrpcCode.UNKNOWN;
}

/** Whether a Status is of a reason, by Kubernetes' reading rules (top of file). */
export function statusHasReason(status: metav1.Status | undefined, reason: StatusReason): boolean {
  if (!status) return false;
  if (status.reason === reason) return true;
  const { httpCode, codeMatch } = REASONS[reason];
  if (codeMatch === 'never' || status.code !== httpCode) return false;
  return codeMatch === 'always' || !isStatusReason(status.reason);
}

/** The object does not exist (apierrors.IsNotFound). */
export const isNotFoundStatus = (status: metav1.Status | undefined): boolean => statusHasReason(status, 'NotFound');
/** The name is taken (apierrors.IsAlreadyExists). */
export const isAlreadyExistsStatus = (status: metav1.Status | undefined): boolean => statusHasReason(status, 'AlreadyExists');
/** A stale resourceVersion or precondition (apierrors.IsConflict). */
export const isConflictStatus = (status: metav1.Status | undefined): boolean => statusHasReason(status, 'Conflict');
/** The resource version is too old, Gone or Expired (apierrors.IsGone or IsResourceExpired): list again. */
export const isGoneStatus = (status: metav1.Status | undefined): boolean => statusHasReason(status, 'Gone') || statusHasReason(status, 'Expired');
/** The object failed validation (apierrors.IsInvalid). */
export const isInvalidStatus = (status: metav1.Status | undefined): boolean => statusHasReason(status, 'Invalid');
/** The request is malformed (apierrors.IsBadRequest). */
export const isBadRequestStatus = (status: metav1.Status | undefined): boolean => statusHasReason(status, 'BadRequest');
/** Not allowed, by the authorizer or by policy (apierrors.IsForbidden). */
export const isForbiddenStatus = (status: metav1.Status | undefined): boolean => statusHasReason(status, 'Forbidden');
/** No valid credentials (apierrors.IsUnauthorized). */
export const isUnauthorizedStatus = (status: metav1.Status | undefined): boolean => statusHasReason(status, 'Unauthorized');
/** The server gave up waiting; the request may still take effect (apierrors.IsTimeout). */
export const isTimeoutStatus = (status: metav1.Status | undefined): boolean => statusHasReason(status, 'Timeout');
/** The server cannot serve now (apierrors.IsServiceUnavailable). */
export const isServiceUnavailableStatus = (status: metav1.Status | undefined): boolean => statusHasReason(status, 'ServiceUnavailable');
