// @k8ts/controller-manager: kube-controller-manager's counterpart. start(config) connects to
// the apiserver, serves health, InfoService and metrics through the kit, and runs the enabled
// controllers under one leader election. Everything else is importable for tests.
import * as fs from 'fs';
import { connectFromConfig } from '@k8ts/client';
import { ConfigError, type KitServer, createLogger, serverOptionsFromConfig, startServer } from '@k8ts/kit';
import { type ControllerManagerConfig, enabledControllers } from './config';
import { CONTROLLER_NAMES, type ControllerSettings } from './controllers';
import { ControllerManager } from './manager';
import { controllerMetrics } from './metrics';
import { grpcTokenRequester } from './tokenrequest';

export { controllerManagerFlags, enabledControllers, flags } from './config';
export type { ControllerManagerConfig } from './config';
export { ControllerManager } from './manager';
export type { ManagerOptions, LeaderElectionSettings } from './manager';
export { BaseController } from './controller';
export type { Controller, ControllerContext, ReconcileLoop } from './controller';
export { CONTROLLERS, CONTROLLER_NAMES } from './controllers';
export type { ControllerFactory, ControllerSettings } from './controllers';
export { controllerMetrics } from './metrics';
export type { ControllerMetrics } from './metrics';
export { grpcTokenRequester } from './tokenrequest';
export type { TokenRequester } from './tokenrequest';

/** A running controller-manager. */
export interface ControllerManagerServer {
  readonly server: KitServer;
  readonly manager: ControllerManager;
  /** Stops the controllers (releasing the leader lease), then the server. */
  shutdown(): Promise<void>;
}

function number(config: ControllerManagerConfig, key: 'nodeEvictionRate' | 'secondaryNodeEvictionRate' | 'unhealthyZoneThreshold'): number {
  const n = Number(config[key]);
  if (!Number.isFinite(n)) throw new ConfigError(`invalid ${key}: ${config[key]}`);
  return n;
}

/** The settings the controllers get, from the configuration. */
export function settingsFromConfig(config: ControllerManagerConfig): ControllerSettings {
  return {
    concurrentReplicasetSyncs: config.concurrentReplicasetSyncs,
    concurrentDeploymentSyncs: config.concurrentDeploymentSyncs,
    concurrentJobSyncs: config.concurrentJobSyncs,
    concurrentEndpointSyncs: config.concurrentEndpointSyncs,
    concurrentNamespaceSyncs: config.concurrentNamespaceSyncs,
    concurrentServiceaccountSyncs: config.concurrentServiceaccountSyncs,
    concurrentServiceaccountTokenSyncs: config.concurrentServiceaccountTokenSyncs,
    concurrentGcSyncs: config.concurrentGcSyncs,
    concurrentNodeSyncs: config.concurrentNodeSyncs,
    nodeMonitorPeriod: config.nodeMonitorPeriod,
    nodeMonitorGracePeriod: config.nodeMonitorGracePeriod,
    nodeStartupGracePeriod: config.nodeStartupGracePeriod,
    nodeEvictionRate: number(config, 'nodeEvictionRate'),
    secondaryNodeEvictionRate: number(config, 'secondaryNodeEvictionRate'),
    unhealthyZoneThreshold: number(config, 'unhealthyZoneThreshold'),
    largeClusterSizeThreshold: config.largeClusterSizeThreshold,
    clusterCidr: config.clusterCidr,
    nodeCidrMaskSize: config.nodeCidrMaskSize,
    namespaceSyncPeriod: config.namespaceSyncPeriod,
    terminatedPodGcThreshold: config.terminatedPodGcThreshold,
    rootCA: config.rootCaFile ? fs.readFileSync(config.rootCaFile) : undefined,
  };
}

/** Checks the configuration and says which controllers run. Throws ConfigError. */
export function controllersFromConfig(config: ControllerManagerConfig): string[] {
  let names = enabledControllers(config.controllers ?? ['*'], CONTROLLER_NAMES);
  if (!config.allocateNodeCidrs) names = names.filter((n) => n !== 'nodeipam');
  if (config.leaderElect && config.leaderElectRenewDeadline >= config.leaderElectLeaseDuration) {
    throw new ConfigError('--leader-elect-renew-deadline must be shorter than --leader-elect-lease-duration', { flag: 'leader-elect-renew-deadline' });
  }
  if (config.leaderElect && config.leaderElectRetryPeriod >= config.leaderElectRenewDeadline) {
    throw new ConfigError('--leader-elect-retry-period must be shorter than --leader-elect-renew-deadline', { flag: 'leader-elect-retry-period' });
  }
  if (names.includes('nodeipam')) {
    const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(config.clusterCidr);
    if (!m || Number(m[5]) > config.nodeCidrMaskSize) {
      throw new ConfigError(
        `invalid --cluster-cidr ${JSON.stringify(config.clusterCidr)} with --node-cidr-mask-size ${config.nodeCidrMaskSize}: want an IPv4 CIDR no longer than the mask size`,
        { flag: 'cluster-cidr', value: config.clusterCidr },
      );
    }
  }
  return names;
}

/** Starts the controller-manager: kit server, apiserver connection, controllers. */
export async function start(config: ControllerManagerConfig): Promise<ControllerManagerServer> {
  const controllers = controllersFromConfig(config);
  const settings = settingsFromConfig(config);
  const logger = createLogger('controller-manager', config.logLevel);
  const cs = connectFromConfig(config, { userAgent: 'kube-controller-manager/v0.1.0', logger });
  let server: KitServer;
  try {
    server = await startServer({ component: 'controller-manager', ...serverOptionsFromConfig(config), config: { ...config }, services: [], logger });
  } catch (err) {
    cs.close();
    throw err;
  }
  settings.tokens = grpcTokenRequester(cs, () => cs.bearerToken());
  const manager = new ControllerManager({
    clientset: cs,
    controllers,
    settings,
    logger,
    metrics: controllerMetrics(server.registry),
    leaderElection: config.leaderElect
      ? {
          namespace: config.leaderElectResourceNamespace,
          name: config.leaderElectResourceName,
          leaseDurationMs: config.leaderElectLeaseDuration,
          renewDeadlineMs: config.leaderElectRenewDeadline,
          retryPeriodMs: config.leaderElectRetryPeriod,
        }
      : undefined,
    onReady: (ready) => server.setReady(ready),
  });
  manager.start();
  logger.info({ apiserver: config.apiserver, controllers, leaderElect: config.leaderElect, identity: manager.identity }, 'controller-manager: started');
  let stopped: Promise<void> | undefined;
  return {
    server,
    manager,
    shutdown: () =>
      (stopped ??= (async () => {
        await manager.stop();
        await server.shutdown();
        cs.close();
      })()),
  };
}
