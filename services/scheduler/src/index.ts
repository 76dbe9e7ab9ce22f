// @k8ts/scheduler: start(config) wires the scheduler to an apiserver through @k8ts/client:
// informers on pending pods (spec.nodeName empty; those of this scheduler's profiles),
// bound pods, nodes and namespaces feed the queue and the cache; binds go through
// pods.bind; events through the client's event recorder; PodScheduled conditions through
// pods.updateStatus; leader election on a Lease (kube-system/kube-scheduler by default)
// decides which replica schedules. The kit server gives health, InfoService and /metrics.
import * as os from 'os';
import { randomUUID } from 'crypto';
import { Informer, LeaderElector, connectFromConfig, createEventRecorder, isForbidden, isNotFound, listWatchFor } from '@k8ts/client';
import type { Clientset, EventHandlers, EventRecorder, KubeObject, ResourceClient, SelectOptions } from '@k8ts/client';
import { ConfigError, createLogger, serverOptionsFromConfig, startServer } from '@k8ts/kit';
import type { KitServer } from '@k8ts/kit';
import type { Logger } from 'pino';
import { SchedulerCache } from './cache/cache';
import { ApiPodConditionWriter } from './conditions';
import { buildFramework, loadSchedulerConfig } from './config';
import type { SchedulerConfig, SchedulerFlags } from './config';
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

export { flags } from './config';
export type { SchedulerFlags } from './config';

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

/** The leader election timing in ms, checked as Kubernetes does: retry < renew < lease. */
interface ElectionTiming {
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
}

function electionTiming(f: SchedulerFlags): ElectionTiming {
  const timing = { leaseDurationMs: f.leaseDuration ?? 15_000, renewDeadlineMs: f.renewDeadline ?? 10_000, retryPeriodMs: f.retryPeriod ?? 2_000 };
  if (f.leaderElect !== false) {
    if (timing.renewDeadlineMs >= timing.leaseDurationMs) throw new ConfigError('--renew-deadline must be shorter than --lease-duration', { flag: 'renew-deadline' });
    if (timing.retryPeriodMs >= timing.renewDeadlineMs) throw new ConfigError('--retry-period must be shorter than --renew-deadline', { flag: 'retry-period' });
  }
  return timing;
}

/** The scheduling machinery that needs no server: cache, one framework per profile, queue. */
interface Machinery {
  cache: SchedulerCache;
  frameworks: Map<string, Framework>;
  queue: SchedulingQueue;
}

function podBinder(clientset: Clientset): Binder {
  return {
    bind: async (pod: PodInfo, nodeName: string) => {
      await clientset.pods.bind({
        apiVersion: 'v1',
        kind: 'Binding',
        metadata: { namespace: pod.namespace, name: pod.name, uid: pod.uid },
        target: { apiVersion: 'v1', kind: 'Node', name: nodeName },
      });
    },
  };
}

function buildMachinery(config: SchedulerConfig, clientset: Clientset, f: SchedulerFlags, random: StartOptions['random']): Machinery {
  const cache = new SchedulerCache();
  const handle: FrameworkHandle = { cache, binder: podBinder(clientset), now: () => Date.now() };
  const frameworks = new Map<string, Framework>();
  config.profiles.forEach((p, index) => {
    frameworks.set(p.schedulerName, buildFramework(p, config, handle, { random, source: f.config || 'defaults', index }));
  });
  const queue = new SchedulingQueue({
    initialBackoffMs: config.podInitialBackoffMs,
    maxBackoffMs: config.podMaxBackoffMs,
    maxUnschedulableMs: config.podMaxUnschedulableMs,
    isRelevant: Scheduler.relevance(Scheduler.pluginEvents(frameworks.values())),
  });
  return { cache, frameworks, queue };
}

/**
 * Whether the scheduler may read namespaces. Only pod affinity terms with a namespaceSelector
 * need their labels, and Kubernetes' scheduler role may not grant them: Forbidden means do
 * without; any other failure (unreachable, ...) is left to the informer's retries.
 */
async function canReadNamespaces(clientset: Clientset, logger: Logger): Promise<boolean> {
  try {
    await clientset.namespaces.list({ limit: 1 });
  } catch (err) {
    if (isForbidden(err)) {
      logger.warn({}, 'cannot list namespaces: pod affinity namespaceSelectors will select no namespace');
      return false;
    }
  }
  return true;
}

/**
 * The informers feeding the scheduler: pending pods, bound pods, nodes, and namespaces when
 * readable. The scheduler never changes cached objects, so they are not frozen (freezing
 * every pod of a busy cluster costs CPU for nothing).
 */
function schedulerInformers(clientset: Clientset, scheduler: Scheduler, readNamespaces: boolean, logger: Logger): Informer<KubeObject>[] {
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
  return informers;
}

/** Starts the informers; resolves true once all have synced, and then marks the server ready. */
function startInformers(informers: Informer<KubeObject>[], m: Machinery, server: KitServer, signal: AbortSignal, logger: Logger): Promise<boolean> {
  for (const inf of informers) inf.start(signal);
  return Promise.all(informers.map((inf) => inf.waitForSync(signal)))
    .then((all) => all.every(Boolean))
    .then((ok) => {
      if (ok) {
        server.setReady(true);
        logger.info({ nodes: m.cache.nodeCount, pods: m.cache.podCount, pending: m.queue.counts().active }, 'informers synced');
      }
      return ok;
    });
}

/** What the leader's term needs, and whether this replica leads now. */
interface Leadership {
  scheduler: Scheduler;
  metrics: SchedulerMetrics;
  synced: Promise<boolean>;
  identity: string;
  profiles: string[];
  logger: Logger;
  leading: boolean;
}

/** Schedules while `signal` is not aborted (the leader's term). */
async function lead(l: Leadership, signal: AbortSignal): Promise<void> {
  if (!(await l.synced) || signal.aborted) return;
  l.leading = true;
  l.metrics.leader.set(1);
  l.logger.info({ identity: l.identity, profiles: l.profiles }, 'scheduling');
  try {
    await l.scheduler.run(signal);
  } finally {
    l.leading = false;
    l.metrics.leader.set(0);
  }
}

/**
 * Schedules until `signal` aborts: behind leader election (a replica that lost the lease
 * campaigns again; the elector waits for the term's scheduling loop to end first), or at once
 * with --leader-elect=false. Resolves when done; failures are logged.
 */
function runElection(l: Leadership, f: SchedulerFlags, timing: ElectionTiming, clientset: Clientset, signal: AbortSignal): Promise<void> {
  const { identity, logger } = l;
  if (f.leaderElect === false) return lead(l, signal).catch((err) => logger.error({ err: String(err) }, 'scheduling loop failed'));
  const elector = new LeaderElector({
    leases: clientset.leases,
    namespace: f.leaseNamespace || 'kube-system',
    name: f.leaseName || 'kube-scheduler',
    identity,
    ...timing,
    logger,
    callbacks: {
      onStartedLeading: (termSignal) => {
        logger.info({ identity }, 'became the leader');
        return lead(l, termSignal);
      },
      onStoppedLeading: () => logger.info({ identity }, 'stopped leading'),
      onNewLeader: (holder) => {
        if (holder !== identity) logger.info({ leader: holder }, 'another replica leads');
      },
    },
  });
  return elector.runUntilStopped(signal).catch((err) => logger.error({ err: String(err) }, 'leader election failed'));
}

/** Everything shutdown stops, in the order it stops them. */
interface Running {
  stop: AbortController;
  electionDone: Promise<void>;
  scheduler: Scheduler;
  queue: SchedulingQueue;
  conditions: ApiPodConditionWriter;
  informers: Informer<KubeObject>[];
  recorder: EventRecorder;
  /** Closed only when start() connected it. */
  ownClientset?: Clientset;
  server: KitServer;
}

/** The shutdown function: ends the term, lets binds finish, stops informers, then the server. Idempotent. */
function shutdownOf(r: Running): () => Promise<void> {
  let shut: Promise<void> | undefined;
  return () => {
    shut ??= (async () => {
      r.stop.abort();
      await withTimeout(r.electionDone, 10_000);
      await withTimeout(r.scheduler.waitForBinds(), 10_000);
      r.queue.close();
      r.conditions.close();
      await withTimeout(Promise.all(r.informers.map((inf) => inf.stop())), 5_000);
      await withTimeout(r.recorder.close(), 2_000);
      r.ownClientset?.close();
      await r.server.shutdown();
    })();
    return shut;
  };
}

/** Starts the scheduler. Throws ConfigError for bad flags or a bad --config file. */
export async function start(f: SchedulerFlags, opts: StartOptions = {}): Promise<SchedulerService> {
  const schedulerName = f.schedulerName || DEFAULT_SCHEDULER_NAME;
  const config = loadSchedulerConfig(f.config, schedulerName);
  const identity = f.identity || `${os.hostname()}_${randomUUID()}`;
  const timing = electionTiming(f);
  const logger = createLogger(COMPONENT, f.logLevel);
  const clientset = opts.clientset ?? connectFromConfig(f, { userAgent: 'kube-scheduler/v0.1.0', logger });

  // The scheduling machinery, built before the server so that config errors come first.
  const m = buildMachinery(config, clientset, f, opts.random);
  const stop = new AbortController();
  const server = await startServer({
    component: COMPONENT,
    ...serverOptionsFromConfig(f),
    services: [],
    config: { ...f, identity },
    logger,
    onShutdown: () => stop.abort(),
  });
  const metrics = new SchedulerMetrics(server.registry, { queue: () => m.queue, cache: () => m.cache });
  const recorder: EventRecorder = createEventRecorder({ events: clientset.events, component: schedulerName, host: identity, maxQueue: 10_000, logger });
  const conditions = new ApiPodConditionWriter(clientset.pods, { logger });
  const scheduler = new Scheduler({ ...m, recorder, conditions, metrics, logger, maxInflightBinds: f.maxInflightBinds ?? 512, isNotFound });

  const informers = schedulerInformers(clientset, scheduler, await canReadNamespaces(clientset, logger), logger);
  const synced = startInformers(informers, m, server, stop.signal, logger);
  const leadership: Leadership = { scheduler, metrics, synced, identity, profiles: [...m.frameworks.keys()], logger, leading: false };
  const electionDone = runElection(leadership, f, timing, clientset, stop.signal);

  const ownClientset = opts.clientset ? undefined : clientset;
  const shutdown = shutdownOf({ stop, electionDone, scheduler, queue: m.queue, conditions, informers, recorder, ownClientset, server });
  return { server, scheduler, identity, config, isLeader: () => leadership.leading, synced: () => synced, shutdown };
}
