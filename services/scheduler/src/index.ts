// @k8ts/scheduler: start(config) wires the scheduler to an apiserver through @k8ts/client:
// informers on pending pods (spec.nodeName empty; those of this scheduler's profiles),
// bound pods, nodes and namespaces feed the queue and the cache; binds go through
// pods.bind; events through the client's event recorder; PodScheduled conditions through
// pods.updateStatus; leader election on a Lease (kube-system/kube-scheduler by default)
// decides which replica schedules. The kit server gives health, InfoService and /metrics.
import * as os from 'os';
import { randomUUID } from 'crypto';
import { Informer, LeaderElector, apiserverFlags, connectFromConfig, createEventRecorder, isForbidden, isNotFound, listWatchFor } from '@k8ts/client';
import type { ApiserverConfig, Clientset, EventHandlers, EventRecorder, KubeObject, ResourceClient, SelectOptions } from '@k8ts/client';
import { ConfigError, createLogger, serverOptionsFromConfig, startServer } from '@k8ts/kit';
import type { FlagSpec, KitServer } from '@k8ts/kit';
import { SchedulerCache } from './cache/cache';
import { ApiPodConditionWriter } from './conditions';
import { buildFramework, loadSchedulerConfig } from './config';
import type { SchedulerConfig } from './config';
import type { Framework } from './framework/framework';
import type { Binder, FrameworkHandle } from './framework/types';
import { SchedulerMetrics } from './metrics';
import { DEFAULT_SCHEDULER_NAME } from './podinfo';
import type { PodInfo } from './podinfo';
import { SchedulingQueue } from './queue/queue';
import { Scheduler } from './scheduler';

export { Scheduler } from './scheduler';
export { SchedulerCache } from './cache/cache';
export { SchedulingQueue } from './queue/queue';
export { Framework } from './framework/framework';
export { Status } from './framework/status';
export { parseSchedulerConfig, buildFramework } from './config';
export { registry, DEFAULT_PLUGINS } from './plugins/registry';
export { PodInfo } from './podinfo';

const COMPONENT = 'scheduler';

/** The scheduler's own flags (main.ts adds the kit's serverFlags). */
export const flags: FlagSpec[] = [
  ...apiserverFlags,
  {
    name: 'scheduler-name',
    type: 'string',
    default: DEFAULT_SCHEDULER_NAME,
    description: 'The name pods choose this scheduler by (spec.schedulerName) when --config names no profile.',
  },
  { name: 'config', type: 'file', description: 'A KubeSchedulerConfiguration YAML file: profiles, plugins, weights, backoff (see README).' },
  { name: 'leader-elect', type: 'bool', default: true, description: 'Schedule only while holding the lease, so that of several replicas one schedules.' },
  { name: 'lease-namespace', type: 'string', default: 'kube-system', description: 'The namespace of the leader election Lease.' },
  { name: 'lease-name', type: 'string', default: 'kube-scheduler', description: 'The name of the leader election Lease.' },
  { name: 'lease-duration', type: 'duration', default: '15s', min: 1000, description: 'How long a lease stays valid after its last renewal.' },
  { name: 'renew-deadline', type: 'duration', default: '10s', min: 500, description: 'The leader gives up when it could not renew for this long.' },
  { name: 'retry-period', type: 'duration', default: '2s', min: 100, description: 'How often candidates try to acquire, and the leader renews, the lease.' },
  { name: 'identity', type: 'string', default: '', description: 'This replica\'s leader election identity; default "<hostname>_<uuid>".' },
  { name: 'max-inflight-binds', type: 'int', default: 512, min: 1, description: 'At most this many binds in flight; scheduling waits while it is reached.' },
];

/** The configuration start() takes: the parsed flags (camelCased), as parseConfig returns them. */
export interface SchedulerFlags extends ApiserverConfig {
  apiserver: string;
  schedulerName?: string;
  config?: string;
  leaderElect?: boolean;
  leaseNamespace?: string;
  leaseName?: string;
  leaseDuration?: number;
  renewDeadline?: number;
  retryPeriod?: number;
  identity?: string;
  maxInflightBinds?: number;
  listen?: string;
  metricsListen?: string;
  logLevel?: string;
  [key: string]: unknown;
}

export interface StartOptions {
  /** Use this clientset instead of connecting to --apiserver (tests: the client's fake). */
  clientset?: Clientset;
  /** Random numbers for breaking ties between best nodes. */
  random?: () => number;
}

/** A running scheduler. */
export interface SchedulerService {
  readonly server: KitServer;
  readonly scheduler: Scheduler;
  readonly identity: string;
  readonly config: SchedulerConfig;
  /** True while this replica holds the lease (always, without leader election) and schedules. */
  isLeader(): boolean;
  /** Resolves once the informers have synced. */
  synced(): Promise<boolean>;
  shutdown(): Promise<void>;
}

async function withTimeout(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p.then(() => undefined), new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
  if (timer) clearTimeout(timer);
}

/** Starts the scheduler. Throws ConfigError for bad flags or a bad --config file. */
export async function start(flagsIn: SchedulerFlags, opts: StartOptions = {}): Promise<SchedulerService> {
  const f = flagsIn;
  const schedulerName = f.schedulerName || DEFAULT_SCHEDULER_NAME;
  const config = loadSchedulerConfig(f.config, schedulerName);
  const identity = f.identity || `${os.hostname()}_${randomUUID()}`;
  const leaseDurationMs = f.leaseDuration ?? 15_000;
  const renewDeadlineMs = f.renewDeadline ?? 10_000;
  const retryPeriodMs = f.retryPeriod ?? 2_000;
  if (f.leaderElect !== false) {
    if (renewDeadlineMs >= leaseDurationMs) throw new ConfigError('--renew-deadline must be shorter than --lease-duration', { flag: 'renew-deadline' });
    if (retryPeriodMs >= renewDeadlineMs) throw new ConfigError('--retry-period must be shorter than --renew-deadline', { flag: 'retry-period' });
  }
  const logger = createLogger(COMPONENT, f.logLevel);
  const clientset = opts.clientset ?? connectFromConfig(f, { userAgent: 'kube-scheduler/v0.1.0', logger });

  // The scheduling machinery, built before the server so that config errors come first.
  const cache = new SchedulerCache();
  const binder: Binder = {
    bind: async (pod: PodInfo, nodeName: string) => {
      await clientset.pods.bind({
        apiVersion: 'v1',
        kind: 'Binding',
        metadata: { namespace: pod.namespace, name: pod.name, uid: pod.uid },
        target: { apiVersion: 'v1', kind: 'Node', name: nodeName },
      });
    },
  };
  const handle: FrameworkHandle = { cache, binder, now: () => Date.now() };
  const frameworks = new Map<string, Framework>();
  config.profiles.forEach((p, index) => {
    frameworks.set(p.schedulerName, buildFramework(p, config, handle, { random: opts.random, source: f.config || 'defaults', index }));
  });
  const queue = new SchedulingQueue({
    initialBackoffMs: config.podInitialBackoffMs,
    maxBackoffMs: config.podMaxBackoffMs,
    maxUnschedulableMs: config.podMaxUnschedulableMs,
    isRelevant: Scheduler.relevance(Scheduler.pluginEvents(frameworks.values())),
  });

  const stop = new AbortController();
  let leading = false;
  let electionDone: Promise<void> = Promise.resolve();

  const server = await startServer({
    component: COMPONENT,
    ...serverOptionsFromConfig(f),
    services: [],
    config: { ...f, identity },
    logger,
    onShutdown: () => stop.abort(),
  });
  const metrics = new SchedulerMetrics(server.registry, { queue: () => queue, cache: () => cache });

  const recorder: EventRecorder = createEventRecorder({ events: clientset.events, component: schedulerName, host: identity, maxQueue: 10_000, logger });
  const conditions = new ApiPodConditionWriter(clientset.pods, { logger });
  const scheduler = new Scheduler({
    cache,
    queue,
    frameworks,
    recorder,
    conditions,
    metrics,
    logger,
    maxInflightBinds: f.maxInflightBinds ?? 512,
    isNotFound,
  });

  // Informers: pending pods, bound pods, nodes, and namespaces when readable (only pod
  // affinity terms with a namespaceSelector need their labels; Kubernetes' scheduler role
  // may not grant them). The scheduler never changes cached objects, so they are not frozen
  // (freezing every pod of a busy cluster costs CPU for nothing).
  let readNamespaces = true;
  try {
    await clientset.namespaces.list({ limit: 1 });
  } catch (err) {
    // Unreachable or the like: the informer will retry. Forbidden: do without.
    if (isForbidden(err)) {
      readNamespaces = false;
      logger.warn({}, 'cannot list namespaces: pod affinity namespaceSelectors will select no namespace');
    }
  }
  const informer = <T extends KubeObject>(name: string, client: ResourceClient<T>, select: SelectOptions, handlers: EventHandlers<T>) => {
    const inf = new Informer<T>(listWatchFor(client, select), { name, logger, freeze: false });
    inf.addEventHandler(handlers);
    return inf;
  };
  const informers: Informer<KubeObject>[] = [
    informer('pending pods', clientset.pods, { fieldSelector: 'spec.nodeName=' }, {
      onAdd: (p) => scheduler.onPendingPodAdd(p),
      onUpdate: (o, p) => scheduler.onPendingPodUpdate(o, p),
      onDelete: (p) => scheduler.onPendingPodDelete(p),
    }),
    informer('bound pods', clientset.pods, { fieldSelector: 'spec.nodeName!=' }, {
      onAdd: (p) => scheduler.onAssignedPodAdd(p),
      onUpdate: (o, p) => scheduler.onAssignedPodUpdate(o, p),
      onDelete: (p) => scheduler.onAssignedPodDelete(p),
    }),
    informer('nodes', clientset.nodes, {}, {
      onAdd: (n) => scheduler.onNodeAdd(n),
      onUpdate: (o, n) => scheduler.onNodeUpdate(o, n),
      onDelete: (n) => scheduler.onNodeDelete(n),
    }),
  ] as Informer<KubeObject>[];
  if (readNamespaces) {
    informers.push(
      informer('namespaces', clientset.namespaces, {}, {
        onAdd: (n) => scheduler.onNamespaceAdd(n),
        onUpdate: (o, n) => scheduler.onNamespaceUpdate(o, n),
        onDelete: (n) => scheduler.onNamespaceDelete(n),
      }) as unknown as Informer<KubeObject>,
    );
  }
  for (const inf of informers) inf.start(stop.signal);
  const synced = Promise.all(informers.map((inf) => inf.waitForSync(stop.signal)))
    .then((all) => all.every(Boolean))
    .then((ok) => {
      if (ok) {
        server.setReady(true);
        logger.info({ nodes: cache.nodeCount, pods: cache.podCount, pending: queue.counts().active }, 'informers synced');
      }
      return ok;
    });

  /** Schedules while `signal` is not aborted (the leader's term). */
  const lead = async (signal: AbortSignal) => {
    if (!(await synced) || signal.aborted) return;
    leading = true;
    metrics.leader.set(1);
    logger.info({ identity, profiles: [...frameworks.keys()] }, 'scheduling');
    try {
      await scheduler.run(signal);
    } finally {
      leading = false;
      metrics.leader.set(0);
    }
  };

  if (f.leaderElect !== false) {
    // A replica that lost the lease campaigns again (the elector waits for the term's
    // scheduling loop to end first).
    const elector = new LeaderElector({
      leases: clientset.leases,
      namespace: f.leaseNamespace || 'kube-system',
      name: f.leaseName || 'kube-scheduler',
      identity,
      leaseDurationMs,
      renewDeadlineMs,
      retryPeriodMs,
      logger,
      callbacks: {
        onStartedLeading: (signal) => {
          logger.info({ identity }, 'became the leader');
          return lead(signal);
        },
        onStoppedLeading: () => logger.info({ identity }, 'stopped leading'),
        onNewLeader: (holder) => {
          if (holder !== identity) logger.info({ leader: holder }, 'another replica leads');
        },
      },
    });
    electionDone = elector.runUntilStopped(stop.signal).catch((err) => logger.error({ err: String(err) }, 'leader election failed'));
  } else {
    electionDone = lead(stop.signal).catch((err) => logger.error({ err: String(err) }, 'scheduling loop failed'));
  }

  let shut: Promise<void> | undefined;
  const shutdown = () => {
    shut ??= (async () => {
      stop.abort();
      await withTimeout(electionDone, 10_000);
      await withTimeout(scheduler.waitForBinds(), 10_000);
      queue.close();
      conditions.close();
      await withTimeout(Promise.all(informers.map((inf) => inf.stop())), 5_000);
      await withTimeout(recorder.close(), 2_000);
      if (!opts.clientset) clientset.close();
      await server.shutdown();
    })();
    return shut;
  };

  return {
    server,
    scheduler,
    identity,
    config,
    isLeader: () => leading,
    synced: () => synced,
    shutdown,
  };
}

