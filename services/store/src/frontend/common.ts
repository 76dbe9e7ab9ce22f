// Shared plumbing of the etcd front end: request decoding that never crashes (a request
// that does not decode, or is larger than the limit, becomes a marker the handler answers
// with INVALID_ARGUMENT) and the unary handler wrapper.
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { etcdErrors, invalidArgument, isStoreError, StoreError, toStoreError } from '../errors';

const BAD = Symbol('bad request');

/** What a handler receives when the request could not be decoded or was too large. */
export interface BadRequest {
  [BAD]: StoreError;
}

export function badRequest(req: unknown): StoreError | undefined {
  return req && typeof req === 'object' && BAD in (req as object) ? (req as BadRequest)[BAD] : undefined;
}

/**
 * A copy of a grpc-js service definition whose request decoding catches errors and checks
 * the request size, so that malformed requests reach the handler as BadRequest, and whose
 * response encoding passes a Buffer through as already-encoded bytes (the watch stream
 * encodes each event once for all its watchers).
 */
export function safeDefinition(def: grpc.ServiceDefinition, maxRequestBytes: number): grpc.ServiceDefinition {
  const out: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const [name, m] of Object.entries(def)) {
    const decode = m.requestDeserialize;
    const encode = m.responseSerialize;
    out[name] = {
      ...m,
      responseSerialize: (value: unknown) => (Buffer.isBuffer(value) ? value : encode(value)),
      requestDeserialize: (buf: Buffer) => {
        if (buf.length > maxRequestBytes) {
          const e = etcdErrors.requestTooLarge();
          return { [BAD]: e } as BadRequest;
        }
        try {
          return decode(buf);
        } catch (err) {
          return { [BAD]: invalidArgument(`cannot decode the ${m.path} request: ${(err as Error).message}`) } as BadRequest;
        }
      },
    };
  }
  return out as grpc.ServiceDefinition;
}

/** Wraps an async unary handler: bad requests, thrown errors and results go to the callback once. */
export function unary<Req, Res>(logger: Logger, fn: (req: Req, call: grpc.ServerUnaryCall<Req, Res>) => Promise<Res>): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    const bad = badRequest(call.request);
    if (bad) {
      callback(bad);
      return;
    }
    fn(call.request, call).then(
      (res) => callback(null, res),
      (err: unknown) => {
        if (!isStoreError(err)) logger.error({ err, method: call.getPath() }, 'unexpected error in handler');
        callback(toStoreError(err));
      },
    );
  };
}
