// API errors: one class, ApiError, carrying what Kubernetes puts in a metav1.Status (reason,
// HTTP code, the object concerned, the causes) plus the gRPC code it maps to. Every handler
// error goes through toServiceError, the one place where API errors become gRPC errors: the
// message is the gRPC status details, and the Status itself travels as binary trailer
// metadata under "k8ts-status-bin" (see k8ts.meta.v1.Status).
import * as grpc from '@grpc/grpc-js';
import { metav1 } from '@k8ts/api';
import { grpcError } from '@k8ts/kit';

/** The binary metadata key carrying an encoded k8ts.meta.v1.Status. */
export const STATUS_METADATA_KEY = 'k8ts-status-bin';

/** One field problem, as Kubernetes' field.Error: the path, the cause type and its text. */
export interface FieldError {
  /** 'spec.containers[0].image' */
  field: string;
  /** FieldValueRequired, FieldValueInvalid, FieldValueNotSupported, FieldValueDuplicate, FieldValueForbidden, FieldValueTooLong, FieldValueTooMany */
  type: string;
  /** The body without the field path: 'Required value', 'Invalid value: "x": ...'. */
  message: string;
}

/** What an error is about: the resource (plural, with group) and the object's name. */
export interface ErrorSubject {
  group?: string;
  /** The resource ('pods') or, for Invalid, the Kind ('Pod'). */
  kind?: string;
  name?: string;
  uid?: string;
}

export class ApiError extends Error {
  readonly code: grpc.status;
  /** Kubernetes' StatusReason: NotFound, AlreadyExists, Conflict, Invalid, Forbidden, ... */
  readonly reason: string;
  /** The HTTP status code Kubernetes would have answered with. */
  readonly httpCode: number;
  readonly subject: ErrorSubject;
  readonly causes: FieldError[];
  readonly retryAfterSeconds: number;

  constructor(
    code: grpc.status,
    reason: string,
    httpCode: number,
    message: string,
    opts: { subject?: ErrorSubject; causes?: FieldError[]; retryAfterSeconds?: number; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'ApiError';
    this.code = code;
    this.reason = reason;
    this.httpCode = httpCode;
    this.subject = opts.subject ?? {};
    this.causes = opts.causes ?? [];
    this.retryAfterSeconds = opts.retryAfterSeconds ?? 0;
  }

  /** The k8ts.meta.v1.Status describing this error. */
  toStatus(): metav1.Status {
    return {
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      code: this.httpCode,
      details: {
        name: this.subject.name ?? '',
        group: this.subject.group ?? '',
        kind: this.subject.kind ?? '',
        uid: this.subject.uid ?? '',
        causes: this.causes.map((c) => ({ reason: c.type, message: c.message, field: c.field })),
        retryAfterSeconds: this.retryAfterSeconds,
      },
    };
  }
}

/** 'pods' or 'deployments.apps': how Kubernetes names a resource in messages. */
export function groupResource(resource: string, group: string): string {
  return group ? `${resource}.${group}` : resource;
}

export function notFound(resource: string, group: string, name: string): ApiError {
  return new ApiError(grpc.status.NOT_FOUND, 'NotFound', 404, `${groupResource(resource, group)} "${name}" not found`, {
    subject: { group, kind: resource, name },
  });
}

export function alreadyExists(resource: string, group: string, name: string): ApiError {
  return new ApiError(grpc.status.ALREADY_EXISTS, 'AlreadyExists', 409, `${groupResource(resource, group)} "${name}" already exists`, {
    subject: { group, kind: resource, name },
  });
}

/** The optimistic-concurrency message of Kubernetes, for a stale resourceVersion. */
export const MODIFIED_MESSAGE = 'the object has been modified; please apply your changes to the latest version and try again';

export function conflict(resource: string, group: string, name: string, message: string = MODIFIED_MESSAGE): ApiError {
  return new ApiError(
    grpc.status.ABORTED,
    'Conflict',
    409,
    `Operation cannot be fulfilled on ${groupResource(resource, group)} "${name}": ${message}`,
    { subject: { group, kind: resource, name } },
  );
}

/** An object failed validation: every field error, in one INVALID_ARGUMENT. */
export function invalid(kind: string, group: string, name: string, causes: FieldError[]): ApiError {
  const text = causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message));
  const body = text.length === 1 ? text[0] : `[${text.join(', ')}]`;
  return new ApiError(grpc.status.INVALID_ARGUMENT, 'Invalid', 422, `${kind} "${name}" is invalid: ${body}`, {
    subject: { group, kind, name },
    causes,
  });
}

export function badRequest(message: string): ApiError {
  return new ApiError(grpc.status.INVALID_ARGUMENT, 'BadRequest', 400, message);
}

/** Forbidden by the state of the system (admission, a terminating namespace, ...). */
export function forbiddenByPolicy(resource: string, group: string, name: string, why: string): ApiError {
  const what = name ? `${groupResource(resource, group)} "${name}"` : groupResource(resource, group);
  return new ApiError(grpc.status.FAILED_PRECONDITION, 'Forbidden', 403, `${what} is forbidden: ${why}`, {
    subject: { group, kind: resource, name },
  });
}

/** Forbidden by the authorizer: PERMISSION_DENIED. */
export function forbidden(resource: string, group: string, name: string, why: string): ApiError {
  const what = name ? `${groupResource(resource, group)} "${name}"` : groupResource(resource, group);
  return new ApiError(grpc.status.PERMISSION_DENIED, 'Forbidden', 403, `${what} is forbidden: ${why}`, {
    subject: { group, kind: resource, name },
  });
}

export function unauthorized(message = 'Unauthorized'): ApiError {
  return new ApiError(grpc.status.UNAUTHENTICATED, 'Unauthorized', 401, message);
}

/** A resource version (or continue token) older than what is retained: Kubernetes' 410 Gone. */
export function gone(message: string): ApiError {
  return new ApiError(grpc.status.OUT_OF_RANGE, 'Expired', 410, message);
}

export function tooLarge(message: string): ApiError {
  return new ApiError(grpc.status.RESOURCE_EXHAUSTED, 'RequestEntityTooLarge', 413, message);
}

export function unavailable(message: string, cause?: unknown): ApiError {
  return new ApiError(grpc.status.UNAVAILABLE, 'ServiceUnavailable', 503, message, { retryAfterSeconds: 1, cause });
}

export function timeout(message: string): ApiError {
  return new ApiError(grpc.status.UNAVAILABLE, 'Timeout', 504, message, { retryAfterSeconds: 1 });
}

export function internal(message: string, cause?: unknown): ApiError {
  return new ApiError(grpc.status.INTERNAL, 'InternalError', 500, message, { cause });
}

export function notImplemented(message: string): ApiError {
  return new ApiError(grpc.status.UNIMPLEMENTED, 'NotImplemented', 501, message);
}

/** Converts anything thrown by a handler into the gRPC error to send. */
export function toServiceError(err: unknown): grpc.ServiceError {
  if (err instanceof ApiError) {
    const md = new grpc.Metadata();
    md.set(STATUS_METADATA_KEY, Buffer.from(metav1.Status.encode(err.toStatus()).finish()));
    return grpcError(err.code, err.message, md);
  }
  const e = err as Partial<grpc.ServiceError>;
  if (e && typeof e.code === 'number' && typeof e.details === 'string' && e.name === 'ServiceError') {
    return e as grpc.ServiceError;
  }
  return toServiceError(internal(`internal error: ${(err as Error)?.message ?? String(err)}`, err));
}

/** Reads the Status attached to a gRPC error (for clients and tests). */
export function statusOf(err: { metadata?: grpc.Metadata }): metav1.Status | undefined {
  const v = err.metadata?.get(STATUS_METADATA_KEY)?.[0];
  if (!v || typeof v === 'string') return undefined;
  return metav1.Status.decode(v);
}
