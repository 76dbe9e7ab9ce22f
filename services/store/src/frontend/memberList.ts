// Cluster.MemberList: the answering replica, with the client URL it advertises. Store
// replicas do not know each other (they share only the stream), so each lists itself.
import { etcdserverpb as pb } from '@k8ts/api';
import type { Store } from '../store';

export function memberList(store: Store, clientUrls: () => string[]) {
  return async (): Promise<pb.MemberListResponse> => {
    return {
      header: store.header(store.index.rev),
      members: [{ ID: store.memberId, name: store.opts.name, peerURLs: [], clientURLs: clientUrls(), isLearner: false }],
    };
  };
}
