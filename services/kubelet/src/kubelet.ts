// start(config): the kubelet wired to an apiserver. One process runs one node over the process
// (or sim) runtime, or with --sim-nodes N simulated nodes over the sim runtime, all sharing
// one client connection, one nodes informer, one pods informer (routed by spec.nodeName),
// one pod status writer and one kubelet API server. Per node: a NodeAgent (Node, status,
// Lease), a runtime and a PodManager, an event recorder.
//
// Per node, in order (every node registered first, 16 at a time): register the Node; take the pod CIDR (--pod-cidr, or wait for the node
// IPAM to set spec.podCIDR); create the runtime and start the PodManager (which adopts the
// containers a previous kubelet left running); once the pods informer has listed, hand the
// node's pods to syncPods (which also kills what belongs to no pod any more); from then on,
// informer changes go to updatePod / removePod. The node turns Ready once its runtime runs.
import * as os from 'os';
import { type corev1, kubeletv1 } from '@k8ts/api';
import {
  type Clientset,
  type DelegatedAuth,
  type EventRecorder,
  Informer,
  byNodeName,
  connectFromConfig,
  createEventRecorder,
  delegatedAuthFromConfig,
  listWatchFor,
} from '@k8ts/client';
import { ConfigError, type KitServer, createLogger, serverOptionsFromConfig, startServer } from '@k8ts/kit';
import type { Logger } from 'pino';
import { Gauge, type Registry } from 'prom-client';
import { type KubeletConfig, backoffPolicy, createRuntime, nodeIdentity, rootDir } from './config';
import { kubeletRequestAttributes, podOfRequest } from './agent/auth';
import { splitCidr } from './agent/cidr';
import { NodeAgent } from './agent/node';
import { NO_PRESSURE, type NodeDescription, type Readiness, hostPressure } from './agent/nodestatus';
import { type KubeletServiceHandle, kubeletService } from './agent/server';
import { ApiEventSink, TokenBucket, apiEnvSource, podTerminator } from './agent/sinks';
import { PodStatusWriter } from './agent/status';
import { type NodeIdentity, PodManager } from './pod/manager';
import { parseCidr } from './runtime/ipam';
import { SimRuntime } from './runtime/sim';
import type { Runtime } from './runtime/types';

export const COMPONENT = 'kubelet';

export interface StartOptions {
  /** Use this clientset instead of connecting to --apiserver (tests). */
  clientset?: Clientset;
  logger?: Logger;
}

/** One node of this process. */
export class NodeKubelet {
  runtime?: Runtime;
  manager?: PodManager;
  /** The pod CIDR in use, once known. */
  podCIDR = '';
  /** The informer's changes go to the manager (after syncPods). */
  live = false;

  constructor(
    readonly name: string,
    readonly agent: NodeAgent,
    readonly recorder: EventRecorder,
  ) {}

  readiness(): Readiness {
    if (this.manager) return { ready: true, message: '' };
    if (!this.podCIDR) return { ready: false, message: "waiting for the node's pod CIDR (spec.podCIDR) from the node IPAM controller" };
    return { ready: false, message: 'container runtime is starting' };
  }
}

/** A running kubelet process. */
export interface Kubelet {
  readonly server: KitServer;
  /** The kubelet API port published in each Node's daemonEndpoints. */
  readonly port: number;
  readonly nodes: ReadonlyMap<string, NodeKubelet>;
  /** Resolves true once every node runs its pods (false if stopped first). */
  synced(): Promise<boolean>;
  shutdown(): Promise<void>;
}

const NODE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function parseLabels(list: string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list ?? []) {
    const i = item.indexOf('=');
    if (i <= 0) throw new ConfigError(`invalid --node-labels entry ${JSON.stringify(item)}: want key=value`, { flag: 'node-labels', value: item });
    out[item.slice(0, i)] = item.slice(i + 1);
  }
  return out;
}

async function withTimeout(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p.then(() => undefined).catch(() => undefined), new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}

/** Runs fn over items, at most `limit` at once. */
async function eachLimit<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]);
    }),
  );
}

/** What the flags say about this process's nodes, checked. */
interface NodePlan {
  /** --node-name (or the hostname), lower-cased: the node, or the prefix of simulated ones. */
  base: string;
  names: string[];
  /** The pod CIDR of each node ('' = wait for the node IPAM). */
  cidrs: string[];
  labels: Record<string, string>;
  identity: NodeIdentity;
  /** The kubelet API's address. */
  listen: string;
  simCount: number;
  /** Sim runtime (--runtime=sim, or simulated nodes). */
  sim: boolean;
  /** The node's name when the process runs one: informers then select it alone. */
  single?: string;
}

function nodeNames(base: string, simCount: number): string[] {
  const names = simCount > 0 ? Array.from({ length: simCount }, (_, i) => `${base}-${i + 1}`) : [base];
  for (const n of names) {
    if (!NODE_NAME.test(n) || n.length > 253) throw new ConfigError(`invalid node name ${JSON.stringify(n)}: must be a lower-case DNS subdomain (--node-name)`, { flag: 'node-name', value: n });
  }
  return names;
}

/** --pod-cidr for each node: split among simulated nodes; '' each when not given. */
function podCidrs(cfg: KubeletConfig, names: string[], simCount: number): string[] {
  if (!cfg.podCidr) return names.map(() => '');
  try {
    const cidrs = simCount > 0 ? splitCidr(cfg.podCidr, simCount) : [cfg.podCidr];
    parseCidr(cidrs[0]);
    return cidrs;
  } catch (err) {
    throw new ConfigError((err as Error).message, { flag: 'pod-cidr', value: cfg.podCidr });
  }
}

/** Throws ConfigError for bad node names, pod CIDR or labels. */
function planNodes(cfg: KubeletConfig): NodePlan {
  const simCount = cfg.simNodes ?? 0;
  const base = (cfg.nodeName || os.hostname()).toLowerCase();
  const names = nodeNames(base, simCount);
  return {
    base,
    names,
    cidrs: podCidrs(cfg, names, simCount),
    labels: parseLabels(cfg.nodeLabels),
    identity: nodeIdentity({ ...cfg, nodeName: base }),
    listen: cfg.listen || `${cfg.nodeIp}:${cfg.kubeletPort ?? 10250}`,
    simCount,
    sim: simCount > 0 || cfg.runtime === 'sim',
    single: names.length === 1 ? names[0] : undefined,
  };
}

/** The process's informers: its Nodes, and the pods bound to its nodes (indexed by node). */
interface Informers {
  nodes: Informer<corev1.Node>;
  pods: Informer<corev1.Pod>;
}

function createInformers(client: Clientset, single: string | undefined, logger: Logger): Informers {
  const nodes = new Informer<corev1.Node>(listWatchFor(client.nodes, single ? { fieldSelector: `metadata.name=${single}` } : {}), { name: 'nodes', logger });
  const pods = new Informer<corev1.Pod>(listWatchFor(client.pods, { fieldSelector: single ? `spec.nodeName=${single}` : 'spec.nodeName!=' }), {
    name: 'pods',
    logger,
    indexers: { byNode: byNodeName },
  });
  return { nodes, pods };
}

/** The kubelet API service: a pod is looked up on its node's manager (any node's when unknown). */
function createKubeletService(pods: Informer<corev1.Pod>, nodes: Map<string, NodeKubelet>, logger: Logger): KubeletServiceHandle {
  return kubeletService((namespace, name, uid) => {
    const pod = pods.lister.get(name, namespace);
    const candidates = pod?.spec?.nodeName && nodes.has(pod.spec.nodeName) ? [nodes.get(pod.spec.nodeName)!] : nodes.values();
    for (const nk of candidates) {
      const found = nk.manager?.findPod(namespace, name, uid);
      if (found) return { manager: nk.manager!, uid: found };
    }
    return undefined;
  }, logger);
}

/** The kubelet API server and the delegated authentication and authorization guarding it. */
interface ApiServer {
  server: KitServer;
  auth: DelegatedAuth;
}

/**
 * Starts the kubelet API: TLS, callers authenticated (client certificate, TokenReview) and
 * every call authorized (SubjectAccessReview on nodes/proxy of the node; agent/auth.ts).
 * On failure closes what it opened and the clientset it was given to own.
 */
async function startApiServer(
  cfg: KubeletConfig,
  plan: NodePlan,
  deps: { pods: Informer<corev1.Pod>; nodes: Map<string, NodeKubelet>; service: KubeletServiceHandle; ownClient?: Clientset; onShutdown: () => void; logger: Logger },
): Promise<ApiServer> {
  const { listen, names } = plan;
  const { pods, nodes, logger } = deps;
  const nodeOfCall = (method: string, request: unknown): string => {
    const pod = podOfRequest(method, request);
    const nodeName = pod ? pods.lister.get(pod.name, pod.namespace)?.spec?.nodeName : undefined;
    return nodeName && nodes.has(nodeName) ? nodeName : names[0];
  };
  let auth: DelegatedAuth | undefined;
  try {
    auth = await delegatedAuthFromConfig(cfg, {
      component: COMPONENT,
      userAgent: 'kubelet/v0.1.0',
      servingHosts: [cfg.nodeIp, listen.slice(0, listen.lastIndexOf(':')).replace(/^\[|\]$/g, ''), ...names],
      attributes: kubeletRequestAttributes(nodeOfCall),
      logger,
    });
    const server = await startServer({
      component: COMPONENT,
      ...serverOptionsFromConfig({ ...cfg, listen, tlsCert: undefined, tlsKey: undefined }),
      tls: auth.tls,
      interceptors: [auth.interceptor],
      services: [{ definition: kubeletv1.KubeletServiceService, implementation: deps.service.implementation }],
      config: { ...cfg, listen },
      logger,
      onShutdown: deps.onShutdown,
    });
    return { server, auth };
  } catch (err) {
    auth?.close();
    deps.ownClient?.close();
    throw err;
  }
}

/** What every node of the process shares. */
interface Shared {
  cfg: KubeletConfig;
  plan: NodePlan;
  client: Clientset;
  writer: PodStatusWriter;
  limiter: TokenBucket;
  terminate: ReturnType<typeof podTerminator>;
  envSource: ReturnType<typeof apiEnvSource>;
  logger: Logger;
  informers: Informers;
  signal: AbortSignal;
}

function sharedParts(cfg: KubeletConfig, plan: NodePlan, client: Clientset, informers: Informers, signal: AbortSignal, logger: Logger): Shared {
  const writer = new PodStatusWriter(client.pods, { concurrency: cfg.statusConcurrency ?? 32, logger });
  return {
    cfg,
    plan,
    client,
    writer,
    limiter: new TokenBucket(cfg.eventQps ?? 50, cfg.eventBurst ?? 100),
    terminate: podTerminator(client.pods, writer, logger),
    envSource: apiEnvSource(client),
    logger,
    informers,
    signal,
  };
}

/** A NodeKubelet (agent and event recorder, no runtime yet) for each planned node. */
function createNodes(s: Shared, port: number, nodes: Map<string, NodeKubelet>): void {
  const { cfg, plan, client, logger } = s;
  const runtimeVersion = plan.sim ? 'sim://0.1.0' : 'process://0.1.0';
  const kubeletVersion = `v${(process.env.K8TS_VERSION || '0.1.0').replace(/^v/, '')}`;
  const root = plan.sim ? '' : rootDir({ ...cfg, nodeName: plan.base });
  plan.names.forEach((name, i) => {
    const description: NodeDescription = {
      name,
      ip: cfg.nodeIp,
      capacity: plan.identity.allocatable,
      podCIDR: plan.cidrs[i],
      labels: plan.labels,
      port,
      runtimeVersion,
      kubeletVersion,
      simulated: plan.simCount > 0,
    };
    let nk: NodeKubelet | undefined;
    const agent = new NodeAgent({
      client,
      node: description,
      logger,
      readiness: () => nk?.readiness() ?? { ready: false, message: 'starting' },
      pressure: () => (plan.sim ? NO_PRESSURE : hostPressure(root)),
      leaseDurationSeconds: cfg.nodeLeaseDurationSeconds,
      leaseRenewIntervalMs: cfg.leaseRenewInterval,
      statusUpdateMs: cfg.nodeStatusUpdateFrequency,
      statusReportMs: cfg.nodeStatusReportFrequency,
    });
    nk = new NodeKubelet(name, agent, createEventRecorder({ events: client.events, component: COMPONENT, host: name, logger }));
    nk.podCIDR = plan.cidrs[i];
    nodes.set(name, nk);
  });
}

/**
 * Routes informer changes: Nodes to their agent; pods to their node's manager once the node
 * is live (before that, syncPods takes the lister's list).
 */
function routeInformerEvents(s: Shared, nodes: Map<string, NodeKubelet>): void {
  const { informers, writer, logger } = s;
  informers.nodes.addEventHandler({
    onAdd: (n) => nodes.get(n.metadata?.name ?? '')?.agent.observe(n),
    onUpdate: (_o, n) => nodes.get(n.metadata?.name ?? '')?.agent.observe(n),
    onDelete: (n) => nodes.get(n.metadata?.name ?? '')?.agent.observe(undefined),
  });
  const liveNode = (pod: corev1.Pod) => {
    const nk = nodes.get(pod.spec?.nodeName ?? '');
    return nk?.live ? nk : undefined;
  };
  informers.pods.addEventHandler({
    onAdd: (p) => liveNode(p)?.manager?.updatePod(p),
    onUpdate: (_o, p) => liveNode(p)?.manager?.updatePod(p),
    onDelete: (p) => {
      const nk = liveNode(p);
      const uid = p.metadata?.uid ?? '';
      if (!nk?.manager || !uid) return;
      writer.forget(uid);
      nk.manager.removePod(uid).catch((err) => logger.error({ err, pod: `${p.metadata?.namespace}/${p.metadata?.name}` }, 'removing a pod failed'));
    },
  });
}

/** The PodManager of a node over the runtime the flags ask for. */
function createPodManager(s: Shared, nk: NodeKubelet, runtime: Runtime): PodManager {
  const { cfg, plan, logger } = s;
  return new PodManager({
    node: { name: nk.name, ip: cfg.nodeIp, allocatable: plan.identity.allocatable },
    runtime,
    statusSink: s.writer,
    eventSink: new ApiEventSink(nk.recorder, s.limiter),
    envSource: s.envSource,
    backoff: backoffPolicy(cfg),
    probeSecondMs: cfg.probeSecond,
    resyncMs: cfg.podResync,
    logger: plan.simCount > 0 ? logger.child({ node: nk.name }, { level: 'warn' }) : logger.child({ node: nk.name }),
    onPodTerminated: s.terminate,
  });
}

/** Runs a registered node's pods: pod CIDR, runtime, PodManager (adopting), then its pods. */
async function bringUp(s: Shared, nk: NodeKubelet): Promise<void> {
  const { cfg, plan, signal, logger } = s;
  const pods = s.informers.pods;
  if (signal.aborted) return;
  if (!nk.podCIDR) {
    logger.info({ node: nk.name }, "waiting for the node's pod CIDR (spec.podCIDR)");
    nk.podCIDR = await nk.agent.waitForPodCIDR(signal);
    nk.agent.kickStatus();
  }
  const runtime = plan.sim
    ? new SimRuntime({ podCIDR: nk.podCIDR, startDelayMs: cfg.simStartDelay })
    : createRuntime({ ...cfg, nodeName: plan.base }, logger, nk.podCIDR);
  const manager = createPodManager(s, nk, runtime);
  // Adopts the containers a previous kubelet on this root left running.
  await manager.start();
  nk.runtime = runtime;
  nk.manager = manager;
  await nk.agent.refreshStatus(); // Ready
  if (!(await pods.waitForSync(signal))) return;
  const mine = plan.single ? pods.lister.list() : pods.lister.byIndex('byNode', nk.name);
  const synced = manager.syncPods(mine.filter((p) => p.spec?.nodeName === nk.name));
  nk.live = true; // syncPods took the list synchronously: later changes go to updatePod
  await synced;
  if (plan.simCount === 0) logger.info({ node: nk.name, pods: mine.length, podCIDR: nk.podCIDR, runtime: runtime.type }, 'node running');
}

/**
 * Registers every node (16 at a time), then brings them up (all at once: a node may wait for
 * the node IPAM, which only serves registered nodes). Resolves true, with the server marked
 * ready, once every node runs its pods; false when stopped first or a node failed.
 */
function startNodes(s: Shared, nodes: Map<string, NodeKubelet>, server: KitServer): Promise<boolean> {
  const { signal, logger } = s;
  const up = eachLimit([...nodes.values()], 16, async (nk) => {
    await nk.agent.register();
    if (!signal.aborted) nk.agent.start();
  }).then(() =>
    Promise.all(
      [...nodes.values()].map(async (nk) => {
        try {
          await bringUp(s, nk);
        } catch (err) {
          if (!signal.aborted) logger.error({ err, node: nk.name }, 'node failed to start');
          throw err;
        }
      }),
    ),
  );
  return up.then(
    () => {
      if (signal.aborted) return false;
      server.setReady(true);
      logger.info({ nodes: nodes.size, runtime: s.plan.sim ? 'sim' : 'process', port: server.port }, 'kubelet ready');
      return true;
    },
    () => false,
  );
}

/** The kubelet's own metrics on the server's registry, computed when scraped. */
function registerKubeletMetrics(registry: Registry, nodes: Map<string, NodeKubelet>, writer: PodStatusWriter, limiter: TokenBucket): void {
  new Gauge({
    name: 'kubelet_pod_workers',
    help: 'Pods with a worker (admitted and not removed) on the nodes of this process.',
    registers: [registry],
    collect() {
      let n = 0;
      for (const nk of nodes.values()) n += nk.manager?.activePods().length ?? 0;
      this.set(n);
    },
  });
  new Gauge({
    name: 'kubelet_pod_status_backlog',
    help: 'Pod statuses waiting to be written or being written.',
    registers: [registry],
    collect() {
      this.set(writer.backlog);
    },
  });
  new Gauge({
    name: 'kubelet_pod_status_writes',
    help: 'UpdatePodStatus calls since start, by result.',
    labelNames: ['result'],
    registers: [registry],
    collect() {
      this.set({ result: 'ok' }, writer.written);
      this.set({ result: 'failed' }, writer.failed);
    },
  });
  new Gauge({
    name: 'kubelet_events_dropped',
    help: 'Events dropped by the --event-qps limit since start.',
    registers: [registry],
    collect() {
      this.set(limiter.dropped);
    },
  });
}

/** Everything shutdown stops, in the order it stops them. */
interface Running {
  stop: AbortController;
  service: KubeletServiceHandle;
  informers: Informers;
  nodes: Map<string, NodeKubelet>;
  writer: PodStatusWriter;
  /** Closed only when start() connected it. */
  ownClient?: Clientset;
  api: ApiServer;
}

/** The shutdown function: informers, agents, pod managers, status writes, events, then the server. Idempotent. */
function shutdownOf(r: Running): () => Promise<void> {
  let shut: Promise<void> | undefined;
  return () => {
    shut ??= (async () => {
      r.stop.abort();
      r.service.closeAll();
      await withTimeout(Promise.all([r.informers.nodes.stop(), r.informers.pods.stop()]), 5000);
      for (const nk of r.nodes.values()) nk.agent.stop();
      await withTimeout(Promise.all([...r.nodes.values()].map((nk) => nk.manager?.stop())), 5000);
      await withTimeout(r.writer.close(3000), 4000);
      await withTimeout(Promise.all([...r.nodes.values()].map((nk) => nk.recorder.close())), 2000);
      r.ownClient?.close();
      await r.api.server.shutdown();
      r.api.auth.close();
    })();
    return shut;
  };
}

/** Starts the kubelet. Throws ConfigError for bad flags. */
export async function start(cfg: KubeletConfig, opts: StartOptions = {}): Promise<Kubelet> {
  const plan = planNodes(cfg);
  const logger = opts.logger ?? createLogger(COMPONENT, cfg.logLevel);
  const stop = new AbortController();
  const nodes = new Map<string, NodeKubelet>();
  const client = opts.clientset ?? connectFromConfig(cfg, { userAgent: 'kubelet/v0.1.0', logger });
  const ownClient = opts.clientset ? undefined : client;
  const informers = createInformers(client, plan.single, logger);
  const service = createKubeletService(informers.pods, nodes, logger);
  const onShutdown = () => {
    service.closeAll();
    stop.abort();
  };
  const api = await startApiServer(cfg, plan, { pods: informers.pods, nodes, service, ownClient, onShutdown, logger });
  const { server } = api;

  const shared = sharedParts(cfg, plan, client, informers, stop.signal, logger);
  createNodes(shared, server.port, nodes);
  // Handlers first, then the informers: every node has its agent by now.
  routeInformerEvents(shared, nodes);
  informers.nodes.start(stop.signal);
  informers.pods.start(stop.signal);
  const synced = startNodes(shared, nodes, server);
  registerKubeletMetrics(server.registry, nodes, shared.writer, shared.limiter);

  const shutdown = shutdownOf({ stop, service, informers, nodes, writer: shared.writer, ownClient, api });
  return { server, port: server.port, nodes, synced: () => synced, shutdown };
}
