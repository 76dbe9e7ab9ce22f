// The registry of controllers: one entry per folder, each a name and a factory. Adding a
// controller touches its folder and one line here.
import type { Controller, ControllerContext } from '../controller';
import type { TokenRequester } from '../tokenrequest';
import { DeploymentController } from './deployment';
import { EndpointsController } from './endpoints';
import { GarbageCollector } from './garbagecollector';
import { JobController } from './job';
import { NamespaceController } from './namespace';
import { NodeIpamController } from './nodeipam';
import { NodeLifecycleController } from './nodelifecycle';
import { PodGcController } from './podgc';
import { ReplicaSetController } from './replicaset';
import { ServiceAccountController } from './serviceaccount';
import { TokenController } from './token';

/** What a factory gets besides the shared context. */
export interface ControllerSettings {
  concurrentReplicasetSyncs: number;
  concurrentDeploymentSyncs: number;
  concurrentJobSyncs: number;
  concurrentEndpointSyncs: number;
  concurrentNamespaceSyncs: number;
  concurrentServiceaccountSyncs: number;
  concurrentServiceaccountTokenSyncs: number;
  concurrentGcSyncs: number;
  concurrentNodeSyncs: number;
  nodeMonitorPeriod: number;
  nodeMonitorGracePeriod: number;
  nodeStartupGracePeriod: number;
  nodeEvictionRate: number;
  secondaryNodeEvictionRate: number;
  unhealthyZoneThreshold: number;
  largeClusterSizeThreshold: number;
  clusterCidr: string;
  nodeCidrMaskSize: number;
  namespaceSyncPeriod: number;
  terminatedPodGcThreshold: number;
  rootCA?: Buffer;
  tokens?: TokenRequester;
}

export type ControllerFactory = (ctx: ControllerContext, s: ControllerSettings) => Controller;

export const CONTROLLERS: Record<string, ControllerFactory> = {
  replicaset: (ctx, s) => new ReplicaSetController(ctx, { workers: s.concurrentReplicasetSyncs }),
  job: (ctx, s) => new JobController(ctx, { workers: s.concurrentJobSyncs }),
  deployment: (ctx, s) => new DeploymentController(ctx, { workers: s.concurrentDeploymentSyncs }),
  endpoints: (ctx, s) => new EndpointsController(ctx, { workers: s.concurrentEndpointSyncs }),
  nodelifecycle: (ctx, s) =>
    new NodeLifecycleController(ctx, {
      workers: s.concurrentNodeSyncs,
      monitorPeriodMs: s.nodeMonitorPeriod,
      gracePeriodMs: s.nodeMonitorGracePeriod,
      startupGracePeriodMs: s.nodeStartupGracePeriod,
      evictionRate: s.nodeEvictionRate,
      secondaryEvictionRate: s.secondaryNodeEvictionRate,
      unhealthyZoneThreshold: s.unhealthyZoneThreshold,
      largeClusterThreshold: s.largeClusterSizeThreshold,
    }),
  podgc: (ctx, s) => new PodGcController(ctx, { terminatedPodThreshold: s.terminatedPodGcThreshold }),
  nodeipam: (ctx, s) => new NodeIpamController(ctx, { clusterCidr: s.clusterCidr, nodeCidrMaskSize: s.nodeCidrMaskSize }),
  namespace: (ctx, s) => new NamespaceController(ctx, { workers: s.concurrentNamespaceSyncs, recheckMs: s.namespaceSyncPeriod }),
  serviceaccount: (ctx, s) => new ServiceAccountController(ctx, { workers: s.concurrentServiceaccountSyncs }),
  token: (ctx, s) => {
    if (!s.tokens) throw new Error('the token controller needs a token requester');
    return new TokenController(ctx, { tokens: s.tokens, rootCA: s.rootCA, workers: s.concurrentServiceaccountTokenSyncs });
  },
  garbagecollector: (ctx, s) => new GarbageCollector(ctx, { workers: s.concurrentGcSyncs }),
};

/** Every controller's name, in the order they start. */
export const CONTROLLER_NAMES: readonly string[] = Object.keys(CONTROLLERS);

export { DeploymentController, EndpointsController, GarbageCollector, JobController, NamespaceController, NodeIpamController, NodeLifecycleController, PodGcController, ReplicaSetController, ServiceAccountController, TokenController };
