// The node lifecycle controller. Kubelets prove they are alive by renewing their Lease in
// kube-node-lease and by posting node status. Every monitor period the controller checks
// each node: when it has heard nothing for the grace period (--node-monitor-grace-period,
// 40 s; --node-startup-grace-period for nodes that never posted), it sets the node's Ready
// condition (and the other kubelet conditions) to Unknown. From the Ready condition it keeps
// the taints: NoExecute node.kubernetes.io/unreachable (Unknown) or not-ready (False), added
// at a limited rate per zone (none at all when every zone is down: then the problem is more
// likely the control plane's), and the NoSchedule taints of every condition. When the node
// comes back the taints go. Pods on a node whose Ready condition is not True are marked not
// ready, so that Services stop sending them traffic.
//
// Eviction (Kubernetes' taint manager) is a second loop keyed by pod: a pod on a node with
// NoExecute taints is deleted once its tolerations run out: at once when it tolerates a
// taint not at all, never when it tolerates it without tolerationSeconds, and otherwise
// tolerationSeconds after the taint was added (its timeAdded).
import type { coordinationv1, corev1 } from '@k8ts/api';
import { type EventRecorder, type Informer, type WorkQueue, byNodeName, deepCopy, isNotFound, keyOf, sleep, splitKey } from '@k8ts/client';
import { BaseController, type ControllerContext } from '../../controller';
import { semanticEqual } from '../../util/canonical';
import { isPodReady } from '../../util/pods';
import { now, parseTime } from '../../util/time';
import { NO_SCHEDULE_KEYS, TAINT_NOT_READY, TAINT_UNREACHABLE, noExecuteKeyFor, noScheduleKeysFor, tolerationMs } from './taints';

export * from './taints';

export const NAME = 'nodelifecycle';
/** Where kubelets keep their heartbeat Leases. */
export const NODE_LEASE_NAMESPACE = 'kube-node-lease';
const ZONE_LABEL = 'topology.kubernetes.io/zone';
const REGION_LABEL = 'topology.kubernetes.io/region';

export interface NodeLifecycleOptions {
  /** How often every node is checked (--node-monitor-period). Default 5 s. */
  monitorPeriodMs?: number;
  /** Silence after which a node's Ready condition becomes Unknown (--node-monitor-grace-period). Default 40 s. */
  gracePeriodMs?: number;
  /** The same for nodes that never posted a Ready condition (--node-startup-grace-period). Default 60 s. */
  startupGracePeriodMs?: number;
  /** NoExecute taints per second per zone in a healthy zone (--node-eviction-rate). Default 0.1. */
  evictionRate?: number;
  /** The same in a partly disrupted large zone (--secondary-node-eviction-rate). Default 0.01. */
  secondaryEvictionRate?: number;
  /** Share of not-ready nodes (at least 3) that makes a zone partly disrupted (--unhealthy-zone-threshold). Default 0.55. */
  unhealthyZoneThreshold?: number;
  /** A partly disrupted zone up to this size gets no evictions at all (--large-cluster-size-threshold). Default 50. */
  largeClusterThreshold?: number;
  /** Workers for nodes and for evictions. Default 5 each. */
  workers?: number;
}

type Node = corev1.Node;
type Pod = corev1.Pod;
type Lease = coordinationv1.Lease;

interface Health {
  /** When (our clock) we last heard from the kubelet: a new heartbeat or a renewed lease. */
  probeMs: number;
  /** The Ready condition's lastHeartbeatTime as last seen, to notice a new heartbeat. */
  heartbeat: string;
  /** The Lease's renewTime as last seen. */
  leaseRenew: string;
}

/** A token bucket per zone for adding NoExecute taints. */
interface Bucket {
  tokens: number;
  last: number;
  qps: number;
}

type ZoneState = 'normal' | 'partial' | 'full';

function zoneOf(node: Node): string {
  const l = node.metadata?.labels ?? {};
  return `${l[REGION_LABEL] ?? ''}:${l[ZONE_LABEL] ?? l['failure-domain.beta.kubernetes.io/zone'] ?? ''}`;
}

function readyOf(node: Node): corev1.NodeCondition | undefined {
  return node.status?.conditions?.find((c) => c.type === 'Ready');
}

/** The kubelet conditions set to Unknown when the kubelet goes silent. */
const KUBELET_CONDITIONS = new Set(['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure']);

export class NodeLifecycleController extends BaseController {
  readonly nodeQueue: WorkQueue;
  readonly podQueue: WorkQueue;
  private readonly nodes: Informer<Node>;
  private readonly leases: Informer<Lease>;
  private readonly pods: Informer<Pod>;
  private readonly recorder: EventRecorder;
  private readonly health = new Map<string, Health>();
  private readonly buckets = new Map<string, Bucket>();
  /** When a NoExecute taint without timeAdded was first seen: `${node}/${key}` → ms. */
  private readonly taintSeen = new Map<string, number>();
  /** The latest Ready status known per node: from the informer, or from our own writes. */
  private readonly readyStatus = new Map<string, string>();
  private pass?: Promise<void>;
  private readonly o: Required<Omit<NodeLifecycleOptions, 'workers'>>;

  constructor(ctx: ControllerContext, opts: NodeLifecycleOptions = {}) {
    super(NAME, ctx);
    this.o = {
      monitorPeriodMs: opts.monitorPeriodMs ?? 5000,
      gracePeriodMs: opts.gracePeriodMs ?? 40_000,
      startupGracePeriodMs: opts.startupGracePeriodMs ?? 60_000,
      evictionRate: opts.evictionRate ?? 0.1,
      secondaryEvictionRate: opts.secondaryEvictionRate ?? 0.01,
      unhealthyZoneThreshold: opts.unhealthyZoneThreshold ?? 0.55,
      largeClusterThreshold: opts.largeClusterThreshold ?? 50,
    };
    this.recorder = ctx.recorder('node-controller');
    this.nodes = ctx.informers.informerFor('nodes');
    this.leases = ctx.informers.informerFor('leases', { namespace: NODE_LEASE_NAMESPACE });
    this.pods = ctx.informers.informerFor('pods', { indexers: { byNode: byNodeName } });
    const workers = opts.workers ?? 5;
    this.nodeQueue = this.addLoop(NAME, workers, (key) => this.reconcileNode(key));
    this.podQueue = this.addLoop(`${NAME}-eviction`, workers, (key) => this.reconcilePod(key));

    this.nodes.addEventHandler({
      onAdd: (n) => {
        this.readyStatus.set(keyOf(n), readyOf(n)?.status ?? '');
        this.nodeQueue.add(keyOf(n));
        this.enqueuePodsOn(n);
      },
      onUpdate: (old, n) => {
        if (old.metadata?.resourceVersion === n.metadata?.resourceVersion) return;
        this.readyStatus.set(keyOf(n), readyOf(n)?.status ?? '');
        this.nodeQueue.add(keyOf(n));
        if (!semanticEqual(noExecute(old), noExecute(n))) this.enqueuePodsOn(n);
      },
      onDelete: (n) => this.nodeQueue.add(keyOf(n)),
    });
    this.leases.addEventHandler({
      onAdd: (l) => this.nodeQueue.add(l.metadata?.name ?? ''),
      onUpdate: (_o, l) => this.nodeQueue.add(l.metadata?.name ?? ''),
    });
    this.pods.addEventHandler({
      onAdd: (p) => this.enqueuePod(p),
      onUpdate: (old, p) => {
        if ((old.spec?.nodeName ?? '') !== (p.spec?.nodeName ?? '') || !semanticEqual(old.spec?.tolerations, p.spec?.tolerations)) this.enqueuePod(p);
      },
    });
  }

  private enqueuePod(pod: Pod): void {
    const node = pod.spec?.nodeName;
    if (!node) return;
    const n = this.nodes.lister.get(node);
    if (n && noExecute(n).length > 0) this.podQueue.add(keyOf(pod));
  }

  private enqueuePodsOn(node: Node): void {
    if (noExecute(node).length === 0) return;
    for (const p of this.pods.lister.byIndex('byNode', node.metadata?.name ?? '')) this.podQueue.add(keyOf(p));
  }

  /**
   * Every monitor period: first the health of every node (silence is noticed only as time
   * passes), then each node is queued for its taints and pods. Health comes first for all
   * nodes, so that taint decisions see the state of the whole zone.
   */
  protected override async background(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      await this.monitorNodeHealth();
      for (const n of this.nodes.lister.list()) this.nodeQueue.add(keyOf(n));
      await sleep(this.ctx.clock, this.o.monitorPeriodMs, signal);
    }
  }

  /** One health pass over every node. Taint decisions wait for a pass in progress. */
  monitorNodeHealth(): Promise<void> {
    if (!this.pass) {
      // The pass is cleared in a `.finally` callback, which always runs after this
      // assignment, even when the pass has nothing to await (no nodes yet).
      const pass: Promise<void> = this.healthPass().finally(() => {
        if (this.pass === pass) this.pass = undefined;
      });
      this.pass = pass;
    }
    return this.pass;
  }

  private async healthPass(): Promise<void> {
    for (const n of this.nodes.lister.list()) {
      try {
        await this.updateHealth(n);
      } catch (err) {
        this.logger.info({ node: n.metadata?.name, err: String((err as Error)?.message ?? err) }, 'nodelifecycle: updating node health failed');
      }
    }
  }

  // ---- node health -----------------------------------------------------------------------

  /** Taints and pods of one node, from its Ready condition (health is the monitor pass's). */
  async reconcileNode(name: string): Promise<void> {
    if (this.pass) await this.pass;
    const node = this.nodes.lister.get(name);
    if (!node) {
      this.health.delete(name);
      this.readyStatus.delete(name);
      for (const k of [...this.taintSeen.keys()]) if (k.startsWith(`${name}/`)) this.taintSeen.delete(k);
      return;
    }
    const ready = readyOf(node);
    if (ready && ready.status !== 'True') await this.markPodsNotReady(node);
    await this.updateTaints(node);
  }

  /**
   * Notes any sign of life (a new heartbeat in the Ready condition, a renewed Lease) and,
   * after the grace period without one, sets the kubelet's conditions to Unknown. Returns the
   * node as it now is.
   */
  private async updateHealth(node: Node): Promise<Node> {
    const name = node.metadata?.name ?? '';
    const nowMs = this.ctx.clock.now();
    const ready = readyOf(node);
    const heartbeat = ready?.lastHeartbeatTime ?? '';
    const lease = this.leases.lister.get(name, NODE_LEASE_NAMESPACE);
    const leaseRenew = lease?.spec?.renewTime ?? '';
    let h = this.health.get(name);
    if (!h) {
      // First sight (or a new term): count from now, or for a node that never reported,
      // from its creation.
      const start = ready ? nowMs : (parseTime(node.metadata?.creationTimestamp) ?? nowMs);
      h = { probeMs: start, heartbeat, leaseRenew };
      this.health.set(name, h);
    }
    if (heartbeat !== h.heartbeat) {
      h.heartbeat = heartbeat;
      h.probeMs = nowMs;
    }
    if (leaseRenew && leaseRenew !== h.leaseRenew && (parseTime(leaseRenew) ?? 0) > (parseTime(h.leaseRenew) ?? 0)) {
      h.leaseRenew = leaseRenew;
      h.probeMs = nowMs;
    }
    const grace = ready ? this.o.gracePeriodMs : this.o.startupGracePeriodMs;
    const silentFor = nowMs - h.probeMs;
    if (silentFor <= grace) return node;
    // Silent too long: everything the kubelet reports is now unknown.
    const status = deepCopy(node.status ?? {});
    const conditions = status.conditions ?? [];
    let changed = false;
    const t = now(this.ctx.clock);
    if (!conditions.some((c) => c.type === 'Ready')) {
      conditions.push({
        type: 'Ready',
        status: 'Unknown',
        reason: 'NodeStatusNeverUpdated',
        message: 'Kubelet never posted node status.',
        lastHeartbeatTime: node.metadata?.creationTimestamp,
        lastTransitionTime: t,
      });
      changed = true;
    }
    for (const c of conditions) {
      if (!KUBELET_CONDITIONS.has(c.type ?? '') || c.status === 'Unknown') continue;
      c.status = 'Unknown';
      c.reason = 'NodeStatusUnknown';
      c.message = 'Kubelet stopped posting node status.';
      c.lastTransitionTime = t;
      changed = true;
    }
    if (!changed) return node;
    status.conditions = conditions;
    const copy = deepCopy(node);
    copy.status = status;
    const updated = await this.ctx.clientset.nodes.updateStatus(copy);
    // Our own write is not a heartbeat.
    h.heartbeat = readyOf(updated)?.lastHeartbeatTime ?? '';
    this.readyStatus.set(name, readyOf(updated)?.status ?? '');
    this.logger.info({ node: name, silentMs: silentFor }, 'nodelifecycle: node stopped reporting, its conditions are now Unknown');
    this.recorder.event({ ...updated, apiVersion: 'v1', kind: 'Node' }, 'Normal', 'NodeNotReady', `Node ${name} status is now: NodeNotReady`);
    return updated;
  }

  /** Sets Ready=False on the pods of a node that is not ready (Kubernetes' MarkPodsNotReady). */
  private async markPodsNotReady(node: Node): Promise<void> {
    const name = node.metadata?.name ?? '';
    const errors: unknown[] = [];
    for (const pod of this.pods.lister.byIndex('byNode', name)) {
      if (!isPodReady(pod)) continue;
      const copy = deepCopy(pod);
      const status = (copy.status ??= {});
      status.conditions = (status.conditions ?? []).map((c) =>
        c.type === 'Ready' ? { ...c, status: 'False', lastTransitionTime: now(this.ctx.clock), reason: 'NodeNotReady', message: '' } : c,
      );
      try {
        await this.ctx.clientset.pods.updateStatus(copy);
      } catch (err) {
        if (!isNotFound(err)) errors.push(err);
      }
    }
    if (errors.length > 0) throw errors[0];
  }

  // ---- taints ----------------------------------------------------------------------------

  /** Zone states from the cached nodes' Ready conditions. */
  private zoneStates(): { states: Map<string, ZoneState>; sizes: Map<string, number> } {
    const counts = new Map<string, { ready: number; notReady: number }>();
    for (const n of this.nodes.lister.list()) {
      const z = zoneOf(n);
      const c = counts.get(z) ?? { ready: 0, notReady: 0 };
      if ((this.readyStatus.get(keyOf(n)) ?? readyOf(n)?.status) === 'True') c.ready++;
      else c.notReady++;
      counts.set(z, c);
    }
    const states = new Map<string, ZoneState>();
    const sizes = new Map<string, number>();
    for (const [z, c] of counts) {
      sizes.set(z, c.ready + c.notReady);
      if (c.ready === 0 && c.notReady > 0) states.set(z, 'full');
      else if (c.notReady > 2 && c.notReady / (c.ready + c.notReady) >= this.o.unhealthyZoneThreshold) states.set(z, 'partial');
      else states.set(z, 'normal');
    }
    return { states, sizes };
  }

  /**
   * Takes a token from the zone's bucket; returns 0 when allowed now, else the ms to wait
   * (Infinity when the zone gets no evictions at all).
   */
  private takeToken(zone: string, qps: number): number {
    if (qps <= 0) return Number.POSITIVE_INFINITY;
    const nowMs = this.ctx.clock.now();
    let b = this.buckets.get(zone);
    if (!b || b.qps !== qps) {
      b = { tokens: 1, last: nowMs, qps };
      this.buckets.set(zone, b);
    }
    b.tokens = Math.min(1, b.tokens + ((nowMs - b.last) / 1000) * qps);
    b.last = nowMs;
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - b.tokens) / qps) * 1000);
  }

  private async updateTaints(node: Node): Promise<void> {
    const name = node.metadata?.name ?? '';
    const taints = node.spec?.taints ?? [];
    const ready = readyOf(node);
    let wantNoExecute = noExecuteKeyFor(ready);

    const { states, sizes } = this.zoneStates();
    const allFull = states.size > 0 && [...states.values()].every((s) => s === 'full');
    if (allFull) wantNoExecute = undefined; // every zone down: do not evict anything

    const hasNoExecute = (key: string) => taints.some((t) => t.key === key && t.effect === 'NoExecute');
    // While every zone is down, no NoExecute taint stays either (Kubernetes' "master
    // disruption mode"): the pods are probably fine and the control plane cut off.
    let next = taints.filter((t) => !(t.effect === 'NoExecute' && (t.key === TAINT_UNREACHABLE || t.key === TAINT_NOT_READY) && t.key !== wantNoExecute));
    if (wantNoExecute && !hasNoExecute(wantNoExecute)) {
      const zone = zoneOf(node);
      const state = states.get(zone) ?? 'normal';
      const size = sizes.get(zone) ?? 0;
      const qps =
        state === 'partial' ? (size > this.o.largeClusterThreshold ? this.o.secondaryEvictionRate : 0) : this.o.evictionRate;
      const wait = this.takeToken(zone, qps);
      if (wait === 0) {
        next.push({ key: wantNoExecute, effect: 'NoExecute', value: '', timeAdded: now(this.ctx.clock) });
        this.logger.info({ node: name, taint: wantNoExecute }, 'nodelifecycle: tainting node NoExecute');
      } else if (Number.isFinite(wait)) {
        this.nodeQueue.addAfter(name, wait);
      }
    }
    // NoSchedule taints follow the conditions.
    const wantNoSchedule = noScheduleKeysFor(node);
    next = next.filter((t) => !(t.effect === 'NoSchedule' && NO_SCHEDULE_KEYS.has(t.key ?? '') && !wantNoSchedule.has(t.key ?? '')));
    for (const key of wantNoSchedule) {
      if (!next.some((t) => t.key === key && t.effect === 'NoSchedule')) next.push({ key, effect: 'NoSchedule', value: '' });
    }
    if (semanticEqual(taints, next)) return;
    const copy = deepCopy(node);
    copy.spec = { ...copy.spec, taints: next };
    await this.ctx.clientset.nodes.update(copy);
  }

  // ---- eviction --------------------------------------------------------------------------

  async reconcilePod(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const pod = this.pods.lister.get(name, namespace);
    if (!pod || pod.metadata?.deletionTimestamp) return;
    const nodeName = pod.spec?.nodeName ?? '';
    if (!nodeName) return;
    const node = this.nodes.lister.get(nodeName);
    if (!node) return;
    const taints = noExecute(node);
    if (taints.length === 0) return;
    const nowMs = this.ctx.clock.now();
    let deadline = Number.POSITIVE_INFINITY;
    for (const t of taints) {
      const tolerated = tolerationMs(pod, t);
      if (tolerated === Number.POSITIVE_INFINITY) continue;
      deadline = Math.min(deadline, this.taintAdded(nodeName, t, nowMs) + tolerated);
    }
    if (deadline === Number.POSITIVE_INFINITY) return;
    if (deadline > nowMs) {
      this.podQueue.addAfter(key, deadline - nowMs);
      return;
    }
    this.logger.info({ pod: key, node: nodeName }, 'nodelifecycle: evicting pod from tainted node');
    this.recorder.event({ ...pod, apiVersion: 'v1', kind: 'Pod' }, 'Normal', 'TaintManagerEviction', `Marking for deletion Pod ${key}`);
    try {
      await this.ctx.clientset.pods.delete(name, { namespace, preconditions: { uid: pod.metadata?.uid } });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  /** When a taint was added: its timeAdded, else when this controller first saw it. */
  private taintAdded(node: string, taint: corev1.Taint, nowMs: number): number {
    const added = parseTime(taint.timeAdded);
    if (added !== undefined) return added;
    const k = `${node}/${taint.key}`;
    let seen = this.taintSeen.get(k);
    if (seen === undefined) this.taintSeen.set(k, (seen = nowMs));
    return seen;
  }
}

function noExecute(node: Node): corev1.Taint[] {
  return (node.spec?.taints ?? []).filter((t) => t.effect === 'NoExecute');
}

