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
import { Gauge } from 'prom-client';
import { backoffPolicy, createRuntime, nodeIdentity, rootDir } from './config';
import { kubeletRequestAttributes, podOfRequest } from './agent/auth';
import { splitCidr } from './agent/cidr';
import type { KubeletConfig } from './agent/flags';
import { NodeAgent } from './agent/node';
import { NO_PRESSURE, type NodeDescription, type Readiness, hostPressure } from './agent/nodestatus';
import { kubeletService } from './agent/server';
import { ApiEventSink, TokenBucket, apiEnvSource, podTerminator } from './agent/sinks';
import { PodStatusWriter } from './agent/status';
import { PodManager } from './pod/manager';
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

/** Starts the kubelet. Throws ConfigError for bad flags. */
export async function start(cfg: KubeletConfig, opts: StartOptions = {}): Promise<Kubelet> {
  const simCount = cfg.simNodes ?? 0;
  const sim = simCount > 0 || cfg.runtime === 'sim';
  const base = (cfg.nodeName || os.hostname()).toLowerCase();
  const names = simCount > 0 ? Array.from({ length: simCount }, (_, i) => `${base}-${i + 1}`) : [base];
  for (const n of names) {
    if (!NODE_NAME.test(n) || n.length > 253) throw new ConfigError(`invalid node name ${JSON.stringify(n)}: must be a lower-case DNS subdomain (--node-name)`, { flag: 'node-name', value: n });
  }
  let cidrs: string[] = names.map(() => '');
  if (cfg.podCidr) {
    try {
      cidrs = simCount > 0 ? splitCidr(cfg.podCidr, simCount) : [cfg.podCidr];
      parseCidr(cidrs[0]);
    } catch (err) {
      throw new ConfigError((err as Error).message, { flag: 'pod-cidr', value: cfg.podCidr });
    }
  }
  const labels = parseLabels(cfg.nodeLabels);
  const identity = nodeIdentity({ ...cfg, nodeName: base });
  const listen = cfg.listen || `${cfg.nodeIp}:${cfg.kubeletPort ?? 10250}`;

  const logger = opts.logger ?? createLogger(COMPONENT, cfg.logLevel);
  const stop = new AbortController();
  const nodes = new Map<string, NodeKubelet>();
  const client = opts.clientset ?? connectFromConfig(cfg, { userAgent: 'kubelet/v0.1.0', logger });
  // Informers: this process's Nodes, and the pods bound to its nodes.
  const single = names.length === 1 ? names[0] : undefined;
  const nodeInformer = new Informer<corev1.Node>(listWatchFor(client.nodes, single ? { fieldSelector: `metadata.name=${single}` } : {}), { name: 'nodes', logger });
  const pods = new Informer<corev1.Pod>(listWatchFor(client.pods, { fieldSelector: single ? `spec.nodeName=${single}` : 'spec.nodeName!=' }), {
    name: 'pods',
    logger,
    indexers: { byNode: byNodeName },
  });
  const service = kubeletService((namespace, name, uid) => {
    const pod = pods.lister.get(name, namespace);
    const candidates = pod?.spec?.nodeName && nodes.has(pod.spec.nodeName) ? [nodes.get(pod.spec.nodeName)!] : nodes.values();
    for (const nk of candidates) {
      const found = nk.manager?.findPod(namespace, name, uid);
      if (found) return { manager: nk.manager!, uid: found };
    }
    return undefined;
  }, logger);

  // The kubelet API: TLS, callers authenticated (client certificate, TokenReview) and every call
  // authorized (SubjectAccessReview on nodes/proxy of the node; agent/auth.ts).
  const nodeOfCall = (method: string, request: unknown): string => {
    const pod = podOfRequest(method, request);
    const nodeName = pod ? pods.lister.get(pod.name, pod.namespace)?.spec?.nodeName : undefined;
    return nodeName && nodes.has(nodeName) ? nodeName : names[0];
  };
  let server: KitServer;
  let auth: DelegatedAuth | undefined;
  try {
    auth = await delegatedAuthFromConfig(cfg, {
      component: COMPONENT,
      userAgent: 'kubelet/v0.1.0',
      servingHosts: [cfg.nodeIp, listen.slice(0, listen.lastIndexOf(':')).replace(/^\[|\]$/g, ''), ...names],
      attributes: kubeletRequestAttributes(nodeOfCall),
      logger,
    });
    server = await startServer({
      component: COMPONENT,
      ...serverOptionsFromConfig({ ...cfg, listen, tlsCert: undefined, tlsKey: undefined }),
      tls: auth.tls,
      interceptors: [auth.interceptor],
      services: [{ definition: kubeletv1.KubeletServiceService, implementation: service.implementation }],
      config: { ...cfg, listen },
      logger,
      onShutdown: () => {
        service.closeAll();
        stop.abort();
      },
    });
  } catch (err) {
    auth?.close();
    if (!opts.clientset) client.close();
    throw err;
  }
  const apiAuth = auth; // a const, for the shutdown closure

  // Shared by every node of the process.
  const writer = new PodStatusWriter(client.pods, { concurrency: cfg.statusConcurrency ?? 32, logger });
  const limiter = new TokenBucket(cfg.eventQps ?? 50, cfg.eventBurst ?? 100);
  const terminate = podTerminator(client.pods, writer, logger);
  const envSource = apiEnvSource(client);
  const runtimeVersion = sim ? 'sim://0.1.0' : 'process://0.1.0';
  const kubeletVersion = `v${(process.env.K8TS_VERSION || '0.1.0').replace(/^v/, '')}`;
  const root = sim ? '' : rootDir({ ...cfg, nodeName: base });

  names.forEach((name, i) => {
    const description: NodeDescription = {
      name,
      ip: cfg.nodeIp,
      capacity: identity.allocatable,
      podCIDR: cidrs[i],
      labels,
      port: server.port,
      runtimeVersion,
      kubeletVersion,
      simulated: simCount > 0,
    };
    let nk: NodeKubelet | undefined;
    const agent = new NodeAgent({
      client,
      node: description,
      logger,
      readiness: () => nk?.readiness() ?? { ready: false, message: 'starting' },
      pressure: () => (sim ? NO_PRESSURE : hostPressure(root)),
      leaseDurationSeconds: cfg.nodeLeaseDurationSeconds,
      leaseRenewIntervalMs: cfg.leaseRenewInterval,
      statusUpdateMs: cfg.nodeStatusUpdateFrequency,
      statusReportMs: cfg.nodeStatusReportFrequency,
    });
    nk = new NodeKubelet(name, agent, createEventRecorder({ events: client.events, component: COMPONENT, host: name, logger }));
    nk.podCIDR = cidrs[i];
    nodes.set(name, nk);
  });

  // The informers' handlers (started below, once every node has its agent).
  nodeInformer.addEventHandler({
    onAdd: (n) => nodes.get(n.metadata?.name ?? '')?.agent.observe(n),
    onUpdate: (_o, n) => nodes.get(n.metadata?.name ?? '')?.agent.observe(n),
    onDelete: (n) => nodes.get(n.metadata?.name ?? '')?.agent.observe(undefined),
  });
  const liveNode = (pod: corev1.Pod) => {
    const nk = nodes.get(pod.spec?.nodeName ?? '');
    return nk?.live ? nk : undefined;
  };
  pods.addEventHandler({
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
  nodeInformer.start(stop.signal);
  pods.start(stop.signal);

  /** Runs a registered node's pods. */
  const bringUp = async (nk: NodeKubelet): Promise<void> => {
    if (stop.signal.aborted) return;
    if (!nk.podCIDR) {
      logger.info({ node: nk.name }, "waiting for the node's pod CIDR (spec.podCIDR)");
      nk.podCIDR = await nk.agent.waitForPodCIDR(stop.signal);
      nk.agent.kickStatus();
    }
    const runtime = sim
      ? new SimRuntime({ podCIDR: nk.podCIDR, startDelayMs: cfg.simStartDelay })
      : createRuntime({ ...cfg, nodeName: base }, logger, nk.podCIDR);
    const manager = new PodManager({
      node: { name: nk.name, ip: cfg.nodeIp, allocatable: identity.allocatable },
      runtime,
      statusSink: writer,
      eventSink: new ApiEventSink(nk.recorder, limiter),
      envSource,
      backoff: backoffPolicy(cfg),
      probeSecondMs: cfg.probeSecond,
      resyncMs: cfg.podResync,
      logger: simCount > 0 ? logger.child({ node: nk.name }, { level: 'warn' }) : logger.child({ node: nk.name }),
      onPodTerminated: terminate,
    });
    // Adopts the containers a previous kubelet on this root left running.
    await manager.start();
    nk.runtime = runtime;
    nk.manager = manager;
    await nk.agent.refreshStatus(); // Ready
    if (!(await pods.waitForSync(stop.signal))) return;
    const mine = single ? pods.lister.list() : pods.lister.byIndex('byNode', nk.name);
    const synced = manager.syncPods(mine.filter((p) => p.spec?.nodeName === nk.name));
    nk.live = true; // syncPods took the list synchronously: later changes go to updatePod
    await synced;
    if (simCount === 0) logger.info({ node: nk.name, pods: mine.length, podCIDR: nk.podCIDR, runtime: runtime.type }, 'node running');
  };

  // Register every node (16 at a time), then bring them up (all at once: a node may wait for
  // the node IPAM, which only serves registered nodes).
  const up = eachLimit([...nodes.values()], 16, async (nk) => {
    await nk.agent.register();
    if (!stop.signal.aborted) nk.agent.start();
  }).then(() =>
    Promise.all(
      [...nodes.values()].map(async (nk) => {
        try {
          await bringUp(nk);
        } catch (err) {
          if (!stop.signal.aborted) logger.error({ err, node: nk.name }, 'node failed to start');
          throw err;
        }
      }),
    ),
  );
  const synced = up.then(
    () => {
      if (stop.signal.aborted) return false;
      server.setReady(true);
      logger.info({ nodes: nodes.size, runtime: sim ? 'sim' : 'process', port: server.port }, 'kubelet ready');
      return true;
    },
    () => false,
  );

  // Metrics.
  new Gauge({
    name: 'kubelet_pod_workers',
    help: 'Pods with a worker (admitted and not removed) on the nodes of this process.',
    registers: [server.registry],
    collect() {
      let n = 0;
      for (const nk of nodes.values()) n += nk.manager?.activePods().length ?? 0;
      this.set(n);
    },
  });
  new Gauge({
    name: 'kubelet_pod_status_backlog',
    help: 'Pod statuses waiting to be written or being written.',
    registers: [server.registry],
    collect() {
      this.set(writer.backlog);
    },
  });
  new Gauge({
    name: 'kubelet_pod_status_writes',
    help: 'UpdatePodStatus calls since start, by result.',
    labelNames: ['result'],
    registers: [server.registry],
    collect() {
      this.set({ result: 'ok' }, writer.written);
      this.set({ result: 'failed' }, writer.failed);
    },
  });
  new Gauge({
    name: 'kubelet_events_dropped',
    help: 'Events dropped by the --event-qps limit since start.',
    registers: [server.registry],
    collect() {
      this.set(limiter.dropped);
    },
  });

  let shut: Promise<void> | undefined;
  const shutdown = () => {
    shut ??= (async () => {
      stop.abort();
      service.closeAll();
      await withTimeout(Promise.all([nodeInformer.stop(), pods.stop()]), 5000);
      for (const nk of nodes.values()) nk.agent.stop();
      await withTimeout(Promise.all([...nodes.values()].map((nk) => nk.manager?.stop())), 5000);
      await withTimeout(writer.close(3000), 4000);
      await withTimeout(Promise.all([...nodes.values()].map((nk) => nk.recorder.close())), 2000);
      if (!opts.clientset) client.close();
      await server.shutdown();
      apiAuth.close();
    })();
    return shut;
  };

  return { server, port: server.port, nodes, synced: () => synced, shutdown };
}
