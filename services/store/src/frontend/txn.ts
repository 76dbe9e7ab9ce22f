// KV.Txn.
import { etcdserverpb as pb } from '@k8ts/api';
import type { Store } from '../store';
import { checkIntervals, checkTxnRequest } from '../validate';

export function txn(store: Store, maxTxnOps: number) {
  return async (req: pb.TxnRequest): Promise<pb.TxnResponse> => {
    const err =
      checkTxnRequest(req, maxTxnOps) ?? checkIntervals(req.success ?? []).error ?? checkIntervals(req.failure ?? []).error;
    if (err) throw err;
    return store.txn(req);
  };
}
