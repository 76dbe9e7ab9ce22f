// The etcd gRPC services of the store: every method of KV, Watch, Lease, Cluster,
// Maintenance and Auth is bound, the unsupported ones to UNIMPLEMENTED naming the RPC.
import * as grpc from '@grpc/grpc-js';
import { etcdserverpb as pb } from '@k8ts/api';
import type { ServiceBinding } from '@k8ts/kit';
import type { Store } from '../store';
import { alarm } from './alarm';
import { safeDefinition, unary } from './common';
import { compact } from './compact';
import { deleteRange } from './deleteRange';
import { leaseGrant } from './leaseGrant';
import { KeepAliveStreams, leaseKeepAlive } from './leaseKeepAlive';
import { leaseLeases } from './leaseLeases';
import { leaseRevoke } from './leaseRevoke';
import { leaseTimeToLive } from './leaseTimeToLive';
import { memberList } from './memberList';
import { put } from './put';
import { range } from './range';
import { status } from './status';
import { txn } from './txn';
import { unimplementedHandler } from './unimplemented';
import { WatchStreams } from './watch';

export interface FrontendOptions {
  maxTxnOps: number;
  maxRequestBytes: number;
  clientUrls: () => string[];
}

/** Binds a service: `impl` names the implemented methods; every other one is UNIMPLEMENTED. */
function bind(def: grpc.ServiceDefinition, impl: Record<string, grpc.UntypedHandleCall>, maxRequestBytes: number): ServiceBinding {
  const implementation: grpc.UntypedServiceImplementation = {};
  for (const [name, m] of Object.entries(def)) {
    const rpc = m.path.replace(/^\/etcdserverpb\./, '').replace('/', '.');
    implementation[name] = impl[name] ?? unimplementedHandler(m as grpc.MethodDefinition<unknown, unknown>, rpc);
  }
  return { definition: safeDefinition(def, maxRequestBytes), implementation };
}

export function etcdServices(store: Store, watches: WatchStreams, keepAlives: KeepAliveStreams, o: FrontendOptions): ServiceBinding[] {
  const log = store.logger;
  const u = <Req, Res>(fn: (req: Req) => Promise<Res>) => unary<Req, Res>(log, fn) as grpc.UntypedHandleCall;
  return [
    bind(
      pb.KVService as unknown as grpc.ServiceDefinition,
      {
        range: u(range(store)),
        put: u(put(store)),
        deleteRange: u(deleteRange(store)),
        txn: u(txn(store, o.maxTxnOps)),
        compact: u(compact(store)),
      },
      o.maxRequestBytes,
    ),
    bind(pb.WatchService as unknown as grpc.ServiceDefinition, { watch: watches.handler() as grpc.UntypedHandleCall }, o.maxRequestBytes),
    bind(
      pb.LeaseService as unknown as grpc.ServiceDefinition,
      {
        leaseGrant: u(leaseGrant(store)),
        leaseRevoke: u(leaseRevoke(store)),
        leaseKeepAlive: leaseKeepAlive(store, keepAlives) as grpc.UntypedHandleCall,
        leaseTimeToLive: u(leaseTimeToLive(store)),
        leaseLeases: u(leaseLeases(store)),
      },
      o.maxRequestBytes,
    ),
    bind(pb.ClusterService as unknown as grpc.ServiceDefinition, { memberList: u(memberList(store, o.clientUrls)) }, o.maxRequestBytes),
    bind(pb.MaintenanceService as unknown as grpc.ServiceDefinition, { status: u(status(store)), alarm: u(alarm(store)) }, o.maxRequestBytes),
    bind(pb.AuthService as unknown as grpc.ServiceDefinition, {}, o.maxRequestBytes),
  ];
}
