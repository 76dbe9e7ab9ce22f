// The errors the store answers with. Errors that etcd also has use etcd's exact message and
// gRPC code (api/v3rpc/rpctypes), because etcd clients (Kubernetes' among them) recognise
// errors by their message. The store's own errors start with "store:" and say what to do.
// Every error is built by the kit's grpcError, which bounds its message (1 KiB), so no answer
// carries a large key or value back in its trailers.
import * as grpc from '@grpc/grpc-js';
import { grpcError } from '@k8ts/kit';

const { INVALID_ARGUMENT, OUT_OF_RANGE, NOT_FOUND, FAILED_PRECONDITION, UNAVAILABLE, UNIMPLEMENTED, ABORTED } = grpc.status;

/** A gRPC error with a code and a message (the kit's ServiceError). */
export type StoreError = grpc.ServiceError;

/** Builds an error with etcd's wording. */
export const etcdErrors = {
  emptyKey: () => grpcError(INVALID_ARGUMENT, 'etcdserver: key is not provided'),
  keyNotFound: () => grpcError(INVALID_ARGUMENT, 'etcdserver: key not found'),
  valueProvided: () => grpcError(INVALID_ARGUMENT, 'etcdserver: value is provided'),
  leaseProvided: () => grpcError(INVALID_ARGUMENT, 'etcdserver: lease is provided'),
  tooManyOps: () => grpcError(INVALID_ARGUMENT, 'etcdserver: too many operations in txn request'),
  duplicateKey: () => grpcError(INVALID_ARGUMENT, 'etcdserver: duplicate key given in txn request'),
  invalidSortOption: () => grpcError(INVALID_ARGUMENT, 'etcdserver: invalid sort option'),
  compacted: () => grpcError(OUT_OF_RANGE, 'etcdserver: mvcc: required revision has been compacted'),
  futureRev: () => grpcError(OUT_OF_RANGE, 'etcdserver: mvcc: required revision is a future revision'),
  leaseNotFound: () => grpcError(NOT_FOUND, 'etcdserver: requested lease not found'),
  leaseExist: () => grpcError(FAILED_PRECONDITION, 'etcdserver: lease already exists'),
  leaseTTLTooLarge: () => grpcError(OUT_OF_RANGE, 'etcdserver: too large lease TTL'),
  requestTooLarge: () => grpcError(INVALID_ARGUMENT, 'etcdserver: request is too large'),
  stopped: () => grpcError(UNAVAILABLE, 'etcdserver: server stopped'),
};

/** The cancel reason of a watch whose start revision was compacted (etcd's mvcc.ErrCompacted). */
export const WATCH_COMPACTED_REASON = 'mvcc: required revision has been compacted';

/** INVALID_ARGUMENT for a malformed request, naming the field. */
export function invalidArgument(message: string): StoreError {
  return grpcError(INVALID_ARGUMENT, `store: ${message}`);
}

/** UNIMPLEMENTED naming the RPC or field the store does not support. */
export function unimplemented(what: string): StoreError {
  return grpcError(UNIMPLEMENTED, `store: ${what} is not supported by the k8ts store`);
}

/** UNAVAILABLE: the store cannot serve the request now (JetStream unreachable, no quorum, not ready). */
export function unavailable(message: string): StoreError {
  return grpcError(UNAVAILABLE, `store: ${message}`);
}

/** ABORTED: a write kept losing compare-and-swap races and was given up. */
export function aborted(message: string): StoreError {
  return grpcError(ABORTED, `store: ${message}`);
}

/** Whether a value is a gRPC error (has a numeric code). */
export function isStoreError(err: unknown): err is StoreError {
  return err instanceof Error && typeof (err as StoreError).code === 'number';
}

/** Any error as a gRPC error: gRPC errors unchanged, anything else UNKNOWN with its message. */
export function toStoreError(err: unknown): StoreError {
  if (isStoreError(err)) return err;
  return grpcError(grpc.status.UNKNOWN, `store: internal error: ${(err as Error)?.message ?? String(err)}`);
}
