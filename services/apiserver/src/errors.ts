// API errors: one class, ApiError, carrying what Kubernetes puts in a metav1.Status (reason,
// HTTP code, the object concerned, the causes) plus the gRPC code it maps to. Every handler
// error goes through toServiceError, the one place where API errors become gRPC errors: the
// message is the gRPC status details, and the Status itself travels as binary trailer
// metadata under "k8ts-status-bin" (see k8ts.meta.v1.Status). The reasons with their HTTP and
// gRPC codes, and that wire form, are @k8ts/machinery's (status/), shared with the client.
import * as grpc from '@grpc/grpc-js';
import type { metav1 } from '@k8ts/api';
import { grpcError, MAX_ERROR_MESSAGE_BYTES } from '@k8ts/kit';
import { STATUS_METADATA_KEY, type StatusReason, attachStatus, grpcCodeForReason, httpCodeForReason, statusFromMetadata } from '@k8ts/machinery';
import { boundStatus, quoteName } from './errorlimits';

export { STATUS_METADATA_KEY };

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

/** What an ApiError may carry besides its codes, reason and message. */
export interface ApiErrorOptions {
  subject?: ErrorSubject;
  causes?: FieldError[];
  retryAfterSeconds?: number;
  cause?: unknown;
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
    opts: ApiErrorOptions = {},
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

/**
 * An ApiError of a reason, with the HTTP and gRPC codes of the shared table; `grpcCode`
 * overrides the table where k8ts answers a reason with a more precise gRPC code.
 */
export function apiErrorOf(reason: StatusReason, message: string, opts: ApiErrorOptions & { grpcCode?: grpc.status } = {}): ApiError {
  const { grpcCode, ...rest } = opts;
  return new ApiError(grpcCode ?? grpcCodeForReason(reason), reason, httpCodeForReason(reason), message, rest);
}

/** 'pods' or 'deployments.apps': how Kubernetes names a resource in messages. */
export function groupResource(resource: string, group: string): string {
  return group ? `${resource}.${group}` : resource;
}

export function notFound(resource: string, group: string, name: string): ApiError {
  return apiErrorOf('NotFound', `${groupResource(resource, group)} ${quoteName(name)} not found`, {
    subject: { group, kind: resource, name },
  });
}

export function alreadyExists(resource: string, group: string, name: string): ApiError {
  return apiErrorOf('AlreadyExists', `${groupResource(resource, group)} ${quoteName(name)} already exists`, {
    subject: { group, kind: resource, name },
  });
}

/** The optimistic-concurrency message of Kubernetes, for a stale resourceVersion. */
export const MODIFIED_MESSAGE = 'the object has been modified; please apply your changes to the latest version and try again';

export function conflict(resource: string, group: string, name: string, message: string = MODIFIED_MESSAGE): ApiError {
  return apiErrorOf('Conflict', `Operation cannot be fulfilled on ${groupResource(resource, group)} ${quoteName(name)}: ${message}`, {
    subject: { group, kind: resource, name },
  });
}

/** An object failed validation: every field error, in one INVALID_ARGUMENT. */
export function invalid(kind: string, group: string, name: string, causes: FieldError[]): ApiError {
  const text = causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message));
  const body = text.length === 1 ? text[0] : `[${text.join(', ')}]`;
  return apiErrorOf('Invalid', `${kind} ${quoteName(name)} is invalid: ${body}`, {
    subject: { group, kind, name },
    causes,
  });
}

export function badRequest(message: string): ApiError {
  return apiErrorOf('BadRequest', message);
}

/**
 * Forbidden by the state of the system (admission, a terminating namespace, ...): 403
 * Forbidden as in Kubernetes, but FAILED_PRECONDITION over gRPC, so that gRPC callers can
 * tell it from the authorizer's PERMISSION_DENIED.
 */
export function forbiddenByPolicy(resource: string, group: string, name: string, why: string): ApiError {
  const what = name ? `${groupResource(resource, group)} ${quoteName(name)}` : groupResource(resource, group);
  return apiErrorOf('Forbidden', `${what} is forbidden: ${why}`, {
    subject: { group, kind: resource, name },
    grpcCode: grpc.status.FAILED_PRECONDITION,
  });
}

/** Forbidden by the authorizer: PERMISSION_DENIED. */
export function forbidden(resource: string, group: string, name: string, why: string): ApiError {
  const what = name ? `${groupResource(resource, group)} ${quoteName(name)}` : groupResource(resource, group);
  return apiErrorOf('Forbidden', `${what} is forbidden: ${why}`, {
    subject: { group, kind: resource, name },
  });
}

export function unauthorized(message = 'Unauthorized'): ApiError {
  return apiErrorOf('Unauthorized', message);
}

/** A resource version (or continue token) older than what is retained: Kubernetes' 410 Gone. */
export function gone(message: string): ApiError {
  return apiErrorOf('Expired', message);
}

export function tooLarge(message: string): ApiError {
  return apiErrorOf('RequestEntityTooLarge', message);
}

export function unavailable(message: string, cause?: unknown): ApiError {
  return apiErrorOf('ServiceUnavailable', message, { retryAfterSeconds: 1, cause });
}

export function timeout(message: string): ApiError {
  return apiErrorOf('Timeout', message, { retryAfterSeconds: 1 });
}

export function internal(message: string, cause?: unknown): ApiError {
  return apiErrorOf('InternalError', message, { cause });
}

export function notImplemented(message: string): ApiError {
  return apiErrorOf('NotImplemented', message);
}

/**
 * Converts anything thrown by a handler into the gRPC error to send. The Status and the
 * message are bounded (errorlimits.ts): whatever the request held, the trailers stay small
 * enough for every gRPC client to read.
 */
export function toServiceError(err: unknown): grpc.ServiceError {
  if (err instanceof ApiError) {
    const status = boundStatus(err.toStatus());
    const md = new grpc.Metadata();
    attachStatus(md, status);
    return grpcError(err.code, status.message ?? err.message, md);
  }
  const e = err as Partial<grpc.ServiceError>;
  if (e && typeof e.code === 'number' && typeof e.details === 'string' && e.name === 'ServiceError') {
    const passed = e as grpc.ServiceError;
    return Buffer.byteLength(passed.details) <= MAX_ERROR_MESSAGE_BYTES ? passed : grpcError(passed.code, passed.details, passed.metadata);
  }
  return toServiceError(internal(`internal error: ${(err as Error)?.message ?? String(err)}`, err));
}

/** Reads the Status attached to a gRPC error (for clients and tests). */
export function statusOf(err: { metadata?: grpc.Metadata }): metav1.Status | undefined {
  return statusFromMetadata(err.metadata);
}
