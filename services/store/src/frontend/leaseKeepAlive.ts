// Lease.LeaseKeepAlive: one response per request, in order; TTL 0 for a lease that does not
// exist, as etcd.
import * as grpc from '@grpc/grpc-js';
import { etcdserverpb as pb } from '@k8ts/api';
import { isStoreError, toStoreError } from '../errors';
import type { Store } from '../store';
import { badRequest } from './common';

type KeepAliveCall = grpc.ServerDuplexStream<pb.LeaseKeepAliveRequest, pb.LeaseKeepAliveResponse>;

/** The open keep-alive streams, so that shutdown can end them. */
export class KeepAliveStreams {
  /** Each open stream and the function that ends it (once). */
  readonly open = new Map<KeepAliveCall, () => void>();
  closeAll(): void {
    for (const end of [...this.open.values()]) end();
    this.open.clear();
  }
}

export function leaseKeepAlive(store: Store, streams: KeepAliveStreams) {
  return (call: KeepAliveCall): void => {
    let chain = Promise.resolve();
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      call.end();
    };
    streams.open.set(call, finish);
    call.on('close', () => streams.open.delete(call));
    const fail = (err: unknown) => {
      if (done) return;
      done = true;
      if (!isStoreError(err)) store.logger.error({ err }, 'unexpected error in LeaseKeepAlive');
      call.emit('error', toStoreError(err));
    };
    call.on('data', (req: pb.LeaseKeepAliveRequest) => {
      const bad = badRequest(req);
      if (bad) return fail(bad);
      chain = chain.then(async () => {
        if (done) return;
        try {
          const ttl = await store.lessor.renew(req.ID ?? 0);
          if (!done) call.write({ header: store.header(store.index.rev), ID: req.ID ?? 0, TTL: ttl });
        } catch (err) {
          fail(err);
        }
      });
    });
    call.on('end', () => {
      void chain.then(finish);
    });
    call.on('cancelled', () => {
      done = true;
    });
    call.on('error', () => {
      done = true;
    });
  };
}
