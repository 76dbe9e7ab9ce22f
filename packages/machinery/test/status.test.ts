import * as grpc from '@grpc/grpc-js';
import { metav1 } from '@k8ts/api';
import {
  GrpcCode,
  STATUS_METADATA_KEY,
  type StatusReason,
  attachStatus,
  decodeStatus,
  encodeStatus,
  grpcCodeForReason,
  grpcCodeForStatus,
  httpCodeForReason,
  isAlreadyExistsStatus,
  isConflictStatus,
  isForbiddenStatus,
  isGoneStatus,
  isInvalidStatus,
  isNotFoundStatus,
  isStatusReason,
  isTimeoutStatus,
  reasonForGrpcCode,
  reasonForHttpCode,
  statusFromMetadata,
  statusHasReason,
} from '@k8ts/machinery';

// Kubernetes' reasons and the HTTP code each is answered with (metav1.StatusReason docs).
const KUBERNETES: [StatusReason, number][] = [
  ['Unauthorized', 401],
  ['Forbidden', 403],
  ['NotFound', 404],
  ['AlreadyExists', 409],
  ['Conflict', 409],
  ['Gone', 410],
  ['Expired', 410],
  ['Invalid', 422],
  ['BadRequest', 400],
  ['MethodNotAllowed', 405],
  ['NotAcceptable', 406],
  ['UnsupportedMediaType', 415],
  ['RequestEntityTooLarge', 413],
  ['TooManyRequests', 429],
  ['InternalError', 500],
  ['ServerTimeout', 500],
  ['StoreReadError', 500],
  ['Timeout', 504],
  ['ServiceUnavailable', 503],
];

describe('gRPC codes', () => {
  it('are the numbers of @grpc/grpc-js', () => {
    for (const [name, code] of Object.entries(GrpcCode)) expect({ name, code }).toEqual({ name, code: grpc.status[name as keyof typeof grpc.status] });
    expect(Object.keys(GrpcCode)).toHaveLength(17);
  });
});

describe('reasons, HTTP codes and gRPC codes', () => {
  it('answers each Kubernetes reason with its HTTP code', () => {
    for (const [reason, http] of KUBERNETES) expect({ reason, http: httpCodeForReason(reason) }).toEqual({ reason, http });
  });

  it('maps the reasons to the gRPC codes k8ts answers with', () => {
    expect(grpcCodeForReason('NotFound')).toBe(grpc.status.NOT_FOUND);
    expect(grpcCodeForReason('AlreadyExists')).toBe(grpc.status.ALREADY_EXISTS);
    expect(grpcCodeForReason('Conflict')).toBe(grpc.status.ABORTED);
    expect(grpcCodeForReason('Invalid')).toBe(grpc.status.INVALID_ARGUMENT);
    expect(grpcCodeForReason('Forbidden')).toBe(grpc.status.PERMISSION_DENIED);
    expect(grpcCodeForReason('Unauthorized')).toBe(grpc.status.UNAUTHENTICATED);
    expect(grpcCodeForReason('Expired')).toBe(grpc.status.OUT_OF_RANGE);
    expect(grpcCodeForReason('Timeout')).toBe(grpc.status.UNAVAILABLE);
    expect(grpcCodeForReason('NotImplemented')).toBe(grpc.status.UNIMPLEMENTED);
    expect(httpCodeForReason('NotImplemented')).toBe(501);
  });

  it('knows the table reasons and nothing else', () => {
    for (const [reason] of KUBERNETES) expect(isStatusReason(reason)).toBe(true);
    for (const other of ['', 'Unknown', 'notfound', 'toString', undefined]) expect(isStatusReason(other)).toBe(false);
  });

  it('infers a reason from a bare HTTP code as client-go does', () => {
    expect(reasonForHttpCode(404)).toBe('NotFound');
    expect(reasonForHttpCode(409)).toBe('Conflict');
    expect(reasonForHttpCode(422)).toBe('Invalid');
    expect(reasonForHttpCode(504)).toBe('Timeout');
    expect(reasonForHttpCode(502)).toBe('InternalError');
    expect(reasonForHttpCode(418)).toBeUndefined();
    expect(reasonForHttpCode(200)).toBeUndefined();
  });

  it('names the reason of a bare gRPC code', () => {
    expect(reasonForGrpcCode(grpc.status.NOT_FOUND)).toBe('NotFound');
    expect(reasonForGrpcCode(grpc.status.DEADLINE_EXCEEDED)).toBe('Timeout');
    expect(reasonForGrpcCode(grpc.status.OUT_OF_RANGE)).toBe('Gone');
    expect(reasonForGrpcCode(grpc.status.CANCELLED)).toBeUndefined();
    expect(reasonForGrpcCode(99)).toBeUndefined();
  });

  it('gives a Status the gRPC code of its reason, else of its HTTP code, else UNKNOWN', () => {
    expect(grpcCodeForStatus({ reason: 'AlreadyExists', code: 409 })).toBe(grpc.status.ALREADY_EXISTS);
    expect(grpcCodeForStatus({ reason: 'Expired', code: 410 })).toBe(grpc.status.OUT_OF_RANGE);
    expect(grpcCodeForStatus({ reason: 'Whatever', code: 409 })).toBe(grpc.status.ABORTED);
    expect(grpcCodeForStatus({ code: 500 })).toBe(grpc.status.INTERNAL);
    expect(grpcCodeForStatus({ code: 418 })).toBe(grpc.status.UNKNOWN);
    expect(grpcCodeForStatus(undefined)).toBe(grpc.status.UNKNOWN);
  });
});

describe('reading a Status as Kubernetes does (apierrors.Is*)', () => {
  it('matches the stated reason', () => {
    expect(isNotFoundStatus({ reason: 'NotFound' })).toBe(true);
    expect(isAlreadyExistsStatus({ reason: 'AlreadyExists', code: 409 })).toBe(true);
    expect(isConflictStatus({ reason: 'AlreadyExists', code: 409 })).toBe(false);
    expect(isNotFoundStatus({ reason: 'Conflict', code: 404 })).toBe(false);
    expect(isNotFoundStatus(undefined)).toBe(false);
  });

  it('falls back to the HTTP code only when the reason is not a known one', () => {
    expect(isNotFoundStatus({ code: 404 })).toBe(true);
    expect(isNotFoundStatus({ reason: 'SomethingNew', code: 404 })).toBe(true);
    expect(isConflictStatus({ code: 409 })).toBe(true);
    expect(isInvalidStatus({ code: 422 })).toBe(true);
    expect(isForbiddenStatus({ code: 403 })).toBe(true);
    expect(isTimeoutStatus({ code: 504 })).toBe(true);
  });

  it('never takes AlreadyExists or Expired from a code, and always takes TooManyRequests from 429', () => {
    expect(isAlreadyExistsStatus({ code: 409 })).toBe(false);
    expect(statusHasReason({ code: 410 }, 'Expired')).toBe(false);
    expect(statusHasReason({ reason: 'ServiceUnavailable', code: 429 }, 'TooManyRequests')).toBe(true);
    expect(statusHasReason({ reason: 'InternalError', code: 413 }, 'RequestEntityTooLarge')).toBe(true);
  });

  it('counts Gone and Expired as gone', () => {
    expect(isGoneStatus({ reason: 'Expired', code: 410 })).toBe(true);
    expect(isGoneStatus({ reason: 'Gone', code: 410 })).toBe(true);
    expect(isGoneStatus({ code: 410 })).toBe(true);
    expect(isGoneStatus({ reason: 'NotFound', code: 404 })).toBe(false);
  });
});

describe('the Status wire form', () => {
  const status: metav1.Status = {
    status: 'Failure',
    message: 'Pod "web" is invalid: spec.containers[0].image: Required value',
    reason: 'Invalid',
    code: 422,
    details: { name: 'web', group: '', kind: 'Pod', uid: '', causes: [{ reason: 'FieldValueRequired', message: 'Required value', field: 'spec.containers[0].image' }], retryAfterSeconds: 0 },
  };

  it('uses the binary metadata key k8ts-status-bin', () => {
    expect(STATUS_METADATA_KEY).toBe('k8ts-status-bin');
  });

  it('encodes a Status as k8ts.meta.v1.Status bytes and decodes it back', () => {
    const bytes = encodeStatus(status);
    expect(metav1.Status.decode(bytes)).toEqual(metav1.Status.decode(metav1.Status.encode(status).finish()));
    expect(decodeStatus(bytes)).toMatchObject({ reason: 'Invalid', code: 422, details: { causes: [{ field: 'spec.containers[0].image' }] } });
    expect(decodeStatus(Buffer.from([0xff, 0xff, 0xff]))).toBeUndefined();
  });

  it('travels in grpc-js metadata', () => {
    const md = new grpc.Metadata();
    attachStatus(md, status);
    const [value] = md.get(STATUS_METADATA_KEY);
    expect(Buffer.isBuffer(value)).toBe(true);
    expect(statusFromMetadata(md)).toMatchObject({ reason: 'Invalid', code: 422, message: status.message });
  });

  it('skips malformed values and finds none where there is none', () => {
    const md = new grpc.Metadata();
    md.add(STATUS_METADATA_KEY, Buffer.from([0xff, 0xff, 0xff]));
    expect(statusFromMetadata(md)).toBeUndefined();
    md.add(STATUS_METADATA_KEY, encodeStatus({ reason: 'NotFound', code: 404 }));
    expect(statusFromMetadata(md)).toMatchObject({ reason: 'NotFound', code: 404 });
    expect(statusFromMetadata(new grpc.Metadata())).toBeUndefined();
    expect(statusFromMetadata(undefined)).toBeUndefined();
    expect(statusFromMetadata({})).toBeUndefined();
  });
});
