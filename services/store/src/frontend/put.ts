// KV.Put: a one-operation txn.
import { etcdserverpb as pb } from '@k8ts/api';
import type { Store } from '../store';
import { checkPutRequest } from '../validate';

export function put(store: Store) {
  return async (req: pb.PutRequest): Promise<pb.PutResponse> => {
    const err = checkPutRequest(req);
    if (err) throw err;
    const resp = await store.txn({ compare: [], success: [{ requestPut: req }], failure: [] });
    const op = resp.responses?.[0]?.responsePut;
    return { header: resp.header, prevKv: op?.prevKv };
  };
}
