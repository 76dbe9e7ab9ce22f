// The one mapping from wire errors to ApiError: gRPC codes to Kubernetes reasons, the
// server's message without grpc-js' prefix, an attached Status, watch ERROR events.
import * as grpc from '@grpc/grpc-js';
import { metav1 } from '@k8ts/api';
import {
  ApiError,
  STATUS_METADATA_KEY,
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
  toApiError,
} from '../src';

function serviceError(code: grpc.status, details: string, metadata = new grpc.Metadata()): grpc.ServiceError {
  const err = new Error(`${code} ${grpc.status[code]}: ${details}`) as grpc.ServiceError;
  err.code = code;
  err.details = details;
  err.metadata = metadata;
  return err;
}

describe('toApiError', () => {
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
    const err = toApiError(serviceError(code, 'pods "web" not found'));
    expect(err).toBeInstanceOf(ApiError);
    expect(err.name).toBe('ApiError');
    expect(err.code).toBe(code);
    expect(err.reason).toBe(reason);
    expect(err.codeName).toBe(grpc.status[code]);
    expect(err.message).toBe('pods "web" not found'); // the server's words, no "5 NOT_FOUND:" prefix
    expect(err.cause).toBeInstanceOf(Error);
    if (predicate) {
      expect(predicate(err)).toBe(true);
      expect(predicate(err.cause)).toBe(true); // the predicates accept raw ServiceErrors too
      expect(predicate(new ApiError(grpc.status.UNKNOWN, 'x'))).toBe(false);
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
    const err = toApiError(serviceError(grpc.status.INVALID_ARGUMENT, 'short', md));
    expect(err.reason).toBe('Invalid');
    expect(err.message).toBe('Pod "web" is invalid: 2 problems');
    expect(err.causes.map((c) => c.field)).toEqual(['spec.containers', 'spec.containers[0].ports[0].containerPort']);
    expect(err.status?.code).toBe(422);
  });

  test('a garbled Status is ignored', () => {
    const md = new grpc.Metadata();
    md.set(STATUS_METADATA_KEY, Buffer.from([0xff, 0xff, 0xff]));
    const err = toApiError(serviceError(grpc.status.ABORTED, 'conflict', md));
    expect(err.reason).toBe('Conflict');
    expect(err.message).toBe('conflict');
  });

  test('ApiErrors pass through; anything else is UNKNOWN with a cause', () => {
    const api = new ApiError(grpc.status.NOT_FOUND, 'x');
    expect(toApiError(api)).toBe(api);
    const plain = new TypeError('boom');
    const err = toApiError(plain);
    expect(err.code).toBe(grpc.status.UNKNOWN);
    expect(err.reason).toBe('Unknown');
    expect(err.message).toBe('boom');
    expect(err.cause).toBe(plain);
    expect(toApiError('text').message).toBe('text');
  });
});

describe('apiErrorFromStatus (watch ERROR events)', () => {
  test('410 Expired is Gone', () => {
    const err = apiErrorFromStatus({ status: 'Failure', reason: 'Expired', code: 410, message: 'too old resource version: 5 (10)' });
    expect(isGone(err)).toBe(true);
    expect(err.reason).toBe('Expired');
    expect(err.message).toBe('too old resource version: 5 (10)');
  });

  test('the reason decides when the code is missing; nothing known is UNKNOWN', () => {
    expect(isNotFound(apiErrorFromStatus({ reason: 'NotFound' }))).toBe(true);
    expect(isGone(apiErrorFromStatus({ reason: 'Gone' }))).toBe(true);
    expect(apiErrorFromStatus({ code: 500 }).code).toBe(grpc.status.INTERNAL);
    const unknown = apiErrorFromStatus(undefined);
    expect(unknown.code).toBe(grpc.status.UNKNOWN);
    expect(unknown.message).toBe('watch ended with an error event');
  });
});
