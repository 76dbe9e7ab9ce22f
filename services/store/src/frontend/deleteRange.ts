// KV.DeleteRange: a one-operation txn.
import { etcdserverpb as pb } from '@k8ts/api';
import type { Store } from '../store';
import { checkDeleteRequest } from '../validate';

export function deleteRange(store: Store) {
  return async (req: pb.DeleteRangeRequest): Promise<pb.DeleteRangeResponse> => {
    const err = checkDeleteRequest(req);
    if (err) throw err;
    const resp = await store.txn({ compare: [], success: [{ requestDeleteRange: req }], failure: [] });
    const op = resp.responses?.[0]?.responseDeleteRange;
    return { header: resp.header, deleted: op?.deleted ?? 0, prevKvs: op?.prevKvs ?? [] };
  };
}
