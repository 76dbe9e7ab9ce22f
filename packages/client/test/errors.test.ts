// The one mapping from wire errors to StatusError: gRPC codes to Kubernetes reasons, the
// server's message without grpc-js' prefix, an attached Status, watch ERROR events.
import * as grpc from '@grpc/grpc-js';
import { metav1 } from '@k8ts/api';
import {
  ApiError,
  STATUS_METADATA_KEY,
  StatusError,
  apiErrorFromStatus,
  isAlreadyExists,
  isConflict,
  isForbidden,
  isGone,
  isInvalid,
  isNotFound,
  isTimeout,
  isUnauthorized,
  isUnavailable,
  statusErrorFromStatus,
  toApiError,
  toStatusError,
} from '../src';

function serviceError(code: grpc.status, details: string, metadata = new grpc.Metadata()): grpc.ServiceError {
  const err = new Error(`${code} ${grpc.status[code]}: ${details}`) as grpc.ServiceError;
  err.code = code;
  err.details = details;
  err.metadata = metadata;
  return err;
}

function withStatus(code: grpc.status, status: metav1.Status): grpc.ServiceError {
  const md = new grpc.Metadata();
  md.set(STATUS_METADATA_KEY, Buffer.from(metav1.Status.encode(status).finish()));
  return serviceError(code, status.message ?? '', md);
}

describe('toStatusError', () => {
  test.each([
    [grpc.status.NOT_FOUND, 'NotFound', isNotFound],
    [grpc.status.ALREADY_EXISTS, 'AlreadyExists', isAlreadyExists],
    [grpc.status.ABORTED, 'Conflict', isConflict],
    [grpc.status.OUT_OF_RANGE, 'Gone', isGone],
    [grpc.status.INVALID_ARGUMENT, 'Invalid', isInvalid],
    [grpc.status.UNAUTHENTICATED, 'Unauthorized', isUnauthorized],
    [grpc.status.PERMISSION_DENIED, 'Forbidden', isForbidden],
    [grpc.status.UNAVAILABLE, 'ServiceUnavailable', isUnavailable],
    [grpc.status.DEADLINE_EXCEEDED, 'Timeout', isTimeout],
    [grpc.status.RESOURCE_EXHAUSTED, 'RequestEntityTooLarge', undefined],
    [grpc.status.UNIMPLEMENTED, 'MethodNotAllowed', undefined],
    [grpc.status.INTERNAL, 'InternalError', undefined],
    [grpc.status.CANCELLED, 'Cancelled', undefined],
  ])('code %s is reason %s', (code, reason, predicate) => {
    const err = toStatusError(serviceError(code, 'pods "web" not found'));
    expect(err).toBeInstanceOf(StatusError);
    expect(err.name).toBe('StatusError');
    expect(err.code).toBe(code);
    expect(err.reason).toBe(reason);
    expect(err.codeName).toBe(grpc.status[code]);
    expect(err.message).toBe('pods "web" not found'); // the server's words, no "5 NOT_FOUND:" prefix
    expect(err.cause).toBeInstanceOf(Error);
    if (predicate) {
      expect(predicate(err)).toBe(true);
      expect(predicate(err.cause)).toBe(true); // the predicates accept raw ServiceErrors too
      expect(predicate(new StatusError(grpc.status.UNKNOWN, 'x'))).toBe(false);
    }
  });

  test('an attached Status supplies reason, message and causes', () => {
    const status = metav1.Status.fromPartial({
      status: 'Failure',
      reason: 'Invalid',
      message: 'Pod "web" is invalid: 2 problems',
      code: 422,
      details: {
        name: 'web',
        kind: 'pods',
        causes: [
          { reason: 'FieldValueRequired', message: 'Required value', field: 'spec.containers' },
          { reason: 'FieldValueInvalid', message: 'must be 1-65535', field: 'spec.containers[0].ports[0].containerPort' },
        ],
      },
    });
    const md = new grpc.Metadata();
    md.set(STATUS_METADATA_KEY, Buffer.from(metav1.Status.encode(status).finish()));
    const err = toStatusError(serviceError(grpc.status.INVALID_ARGUMENT, 'short', md));
    expect(err.reason).toBe('Invalid');
    expect(err.message).toBe('Pod "web" is invalid: 2 problems');
    expect(err.causes.map((c) => c.field)).toEqual(['spec.containers', 'spec.containers[0].ports[0].containerPort']);
    expect(err.status?.code).toBe(422);
  });

  test('a garbled Status is ignored', () => {
    const md = new grpc.Metadata();
    md.set(STATUS_METADATA_KEY, Buffer.from([0xff, 0xff, 0xff]));
    const err = toStatusError(serviceError(grpc.status.ABORTED, 'conflict', md));
    expect(err.reason).toBe('Conflict');
    expect(err.message).toBe('conflict');
  });

  test('StatusErrors pass through; anything else is UNKNOWN with a cause', () => {
    const api = new StatusError(grpc.status.NOT_FOUND, 'x');
    expect(toStatusError(api)).toBe(api);
    const plain = new TypeError('boom');
    const err = toStatusError(plain);
    expect(err.code).toBe(grpc.status.UNKNOWN);
    expect(err.reason).toBe('Unknown');
    expect(err.message).toBe('boom');
    expect(err.cause).toBe(plain);
    expect(toStatusError('text').message).toBe('text');
  });

  test('a reason not in the table says nothing: the code decides', () => {
    const err = toStatusError(withStatus(grpc.status.NOT_FOUND, { reason: 'SomethingNew', code: 404, message: 'gone fishing' }));
    expect(err.reason).toBe('NotFound');
    expect(err.message).toBe('gone fishing');
  });
});

describe('predicates read the Status as Kubernetes does', () => {
  test('a namespace refusing objects (FAILED_PRECONDITION, 403 Forbidden) is forbidden', () => {
    const err = withStatus(grpc.status.FAILED_PRECONDITION, { reason: 'Forbidden', code: 403, message: 'pods "p" is forbidden: unable to create new content in namespace gone because it is being terminated' });
    expect(isForbidden(err)).toBe(true);
    expect(isForbidden(toStatusError(err))).toBe(true);
    expect(toStatusError(err).reason).toBe('Forbidden');
  });

  test('a server that gave up waiting (UNAVAILABLE, 504 Timeout) is a timeout, and unavailable', () => {
    const err = toStatusError(withStatus(grpc.status.UNAVAILABLE, { reason: 'Timeout', code: 504, message: 'Timeout: Too large resource version' }));
    expect(isTimeout(err)).toBe(true);
    expect(isUnavailable(err)).toBe(true);
    expect(isTimeout(new StatusError(grpc.status.UNAVAILABLE, 'connection refused'))).toBe(false);
  });

  test('a Status of another reason does not match', () => {
    const err = toStatusError(withStatus(grpc.status.ALREADY_EXISTS, { reason: 'AlreadyExists', code: 409, message: 'pods "p" already exists' }));
    expect(isAlreadyExists(err)).toBe(true);
    expect(isConflict(err)).toBe(false);
    expect(isNotFound(err)).toBe(false);
  });
});

describe('the deprecated names', () => {
  test('are the same class and functions', () => {
    expect(ApiError).toBe(StatusError);
    expect(toApiError).toBe(toStatusError);
    expect(apiErrorFromStatus).toBe(statusErrorFromStatus);
    const err: ApiError = new ApiError(grpc.status.NOT_FOUND, 'x');
    expect(err).toBeInstanceOf(StatusError);
    expect(err.name).toBe('StatusError');
  });
});

describe('statusErrorFromStatus (watch ERROR events)', () => {
  test('410 Expired is Gone', () => {
    const err = statusErrorFromStatus({ status: 'Failure', reason: 'Expired', code: 410, message: 'too old resource version: 5 (10)' });
    expect(isGone(err)).toBe(true);
    expect(err.reason).toBe('Expired');
    expect(err.message).toBe('too old resource version: 5 (10)');
  });

  test('the reason decides when the code is missing; nothing known is UNKNOWN', () => {
    expect(isNotFound(statusErrorFromStatus({ reason: 'NotFound' }))).toBe(true);
    expect(isGone(statusErrorFromStatus({ reason: 'Gone' }))).toBe(true);
    expect(statusErrorFromStatus({ code: 500 }).code).toBe(grpc.status.INTERNAL);
    expect(statusErrorFromStatus({ code: 404 })).toMatchObject({ code: grpc.status.NOT_FOUND, reason: 'NotFound' });
    expect(statusErrorFromStatus({ reason: 'AlreadyExists', code: 409 }).code).toBe(grpc.status.ALREADY_EXISTS);
    const unknown = statusErrorFromStatus(undefined);
    expect(unknown.code).toBe(grpc.status.UNKNOWN);
    expect(unknown.message).toBe('watch ended with an error event');
  });
});
