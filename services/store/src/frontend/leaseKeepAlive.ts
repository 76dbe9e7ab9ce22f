// Lease.LeaseKeepAlive: one response per request, in order; TTL 0 for a lease that does not
// exist, as etcd.
import * as grpc from '@grpc/grpc-js';
import { etcdserverpb as pb } from '@k8ts/api';
import { isStoreError, toStoreError } from '../errors';
import type { Store } from '../store';
import { badRequest } from './common';

export function leaseKeepAlive(store: Store) {
  return (call: grpc.ServerDuplexStream<pb.LeaseKeepAliveRequest, pb.LeaseKeepAliveResponse>): void => {
    let chain = Promise.resolve();
    let done = false;
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
      void chain.then(() => {
        if (!done) {
          done = true;
          call.end();
        }
      });
    });
    call.on('cancelled', () => {
      done = true;
    });
    call.on('error', () => {
      done = true;
    });
  };
}
