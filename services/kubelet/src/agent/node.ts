// One node's presence in the API: its Node object (registered at start, re-registered when
// deleted), its status (posted when it changed, and at least every report period, so the node
// lifecycle controller's Unknown is corrected at once), and its Lease in kube-node-lease
// (renewed every renew interval: the cheap heartbeat). The node's own view of itself comes
// from the shared nodes informer (observe()).
import type { coordinationv1, corev1 } from '@k8ts/api';
import { type Clientset, isAlreadyExists, isConflict, isNotFound, toApiError } from '@k8ts/client';
import type { Logger } from 'pino';
import { type NodeDescription, type Pressure, type Readiness, nodeLabels, nodeObject, nodeStatus, statusKey } from './nodestatus';

export const NODE_LEASE_NAMESPACE = 'kube-node-lease';

export interface NodeAgentOptions {
  client: Pick<Clientset, 'nodes' | 'leases'>;
  node: NodeDescription;
  logger: Logger;
  /** Whether the node can run pods now. */
  readiness: () => Readiness;
  /** The pressure conditions now. */
  pressure: () => Pressure;
  leaseDurationSeconds?: number;
  leaseRenewIntervalMs?: number;
  statusUpdateMs?: number;
  statusReportMs?: number;
}

/** Kubernetes' MicroTime: RFC 3339 with six fractional digits. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

const RETRY_MIN_MS = 200;
const RETRY_MAX_MS = 7000;

export class NodeAgent {
  readonly name: string;
  /** The Node as last seen (informer or our own writes). */
  private current?: corev1.Node;
  private lease?: coordinationv1.Lease;
  private registered = false;
  private registering?: Promise<void>;
  private lastReportMs = 0;
  /** statusKey of the status last posted. */
  private lastPostedKey = '';
  private posting: Promise<void> = Promise.resolve();
  private lastRenewMs = 0;
  private stopped = false;
  private statusTimer?: NodeJS.Timeout;
  private leaseTimer?: NodeJS.Timeout;
  private statusBusy = false;
  private statusAgain = false;
  private statusFailures = 0;
  private leaseFailures = 0;
  private cidrWaiters: Array<(cidr: string) => void> = [];
  private readonly log: Logger;
  private readonly opts: Required<Omit<NodeAgentOptions, 'client' | 'node' | 'logger' | 'readiness' | 'pressure'>>;

  constructor(private readonly o: NodeAgentOptions) {
    this.name = o.node.name;
    this.log = o.logger.child({ node: this.name });
    this.opts = {
      leaseDurationSeconds: o.leaseDurationSeconds ?? 40,
      leaseRenewIntervalMs: o.leaseRenewIntervalMs ?? 10_000,
      statusUpdateMs: o.statusUpdateMs ?? 10_000,
      statusReportMs: o.statusReportMs ?? 60_000,
    };
  }

  /** The node's description (the kubelet API port may be filled in after construction). */
  get description(): NodeDescription {
    return this.o.node;
  }

  /** The Node as last seen. */
  get node(): corev1.Node | undefined {
    return this.current;
  }

  /** The Lease as last written. */
  get currentLease(): coordinationv1.Lease | undefined {
    return this.lease;
  }

  /** spec.podCIDR of the Node as last seen ('' when none yet). */
  get podCIDR(): string {
    return this.current?.spec?.podCIDR ?? '';
  }

  /** Registers the Node, retrying until it succeeds or the agent stops. */
  register(): Promise<void> {
    this.registering ??= this.retry('register node', () => this.registerOnce()).finally(() => {
      this.registering = undefined;
    });
    return this.registering;
  }

  private async registerOnce(): Promise<void> {
    const d = this.o.node;
    const now = Date.now();
    const status = nodeStatus(d, undefined, this.o.readiness(), this.o.pressure(), new Date(now).toISOString());
    try {
      this.current = await this.o.client.nodes.create(nodeObject(d, status));
      this.lastReportMs = now;
      this.lastPostedKey = statusKey(status);
      this.registered = true;
      this.log.info({ podCIDR: d.podCIDR || undefined, port: d.port }, 'node registered');
      this.notifyCidr();
      return;
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
    // It exists (a restart, or registered before): bring labels and the pod CIDR in line.
    const existing = await this.o.client.nodes.get(d.name);
    const labels = { ...existing.metadata?.labels, ...nodeLabels(d) };
    const spec = { ...existing.spec };
    if (d.podCIDR && !spec.podCIDR) {
      spec.podCIDR = d.podCIDR;
      spec.podCIDRs = [d.podCIDR];
    } else if (d.podCIDR && spec.podCIDR !== d.podCIDR) {
      this.log.warn({ flag: d.podCIDR, node: spec.podCIDR }, 'the Node has another spec.podCIDR than --pod-cidr: pods get IPs from --pod-cidr');
    }
    let node = existing;
    if (JSON.stringify(labels) !== JSON.stringify(existing.metadata?.labels ?? {}) || JSON.stringify(spec) !== JSON.stringify(existing.spec ?? {})) {
      node = await this.o.client.nodes.update({ ...existing, metadata: { ...existing.metadata, labels }, spec });
    }
    this.current = node;
    this.registered = true;
    this.log.info({ podCIDR: node.spec?.podCIDR || undefined, port: d.port }, 'node already registered: updated');
    this.notifyCidr();
    await this.postStatus(true);
  }

  /**
   * Starts the status and lease loops (after register()). Many nodes started together (sim
   * nodes, a cluster coming up) would renew and report in lock-step bursts: each loop starts
   * at a random phase of its period, and the periodic report is spread the same way.
   */
  start(): void {
    this.scheduleStatus(Math.random() * this.opts.statusUpdateMs);
    this.lastReportMs -= Math.random() * this.opts.statusReportMs;
    void this.renewLease();
  }

  /** The Node as the informer sees it (undefined: deleted). */
  observe(node: corev1.Node | undefined): void {
    if (this.stopped) return;
    if (!node) {
      if (!this.registered) return;
      this.log.warn('the Node was deleted: registering it again');
      this.registered = false;
      this.current = undefined;
      this.lease = undefined;
      // The lease loop goes on: it reads the Lease again and names the new Node its owner.
      void this.register();
      return;
    }
    const before = this.current;
    // Our own write may be newer than what the informer delivers.
    if (before && Number(before.metadata?.resourceVersion ?? 0) > Number(node.metadata?.resourceVersion ?? 0) && before.metadata?.uid === node.metadata?.uid) return;
    this.current = node;
    if (node.spec?.podCIDR && !before?.spec?.podCIDR) this.notifyCidr();
    // Someone else changed a condition (the node lifecycle controller's Unknown): correct it now.
    if (this.registered && conditionsKey(node.status) !== conditionsKey(this.desiredStatus(node.status))) this.kickStatus();
  }

  /** Resolves with spec.podCIDR once the Node has one (the node IPAM assigns it). */
  waitForPodCIDR(signal?: AbortSignal): Promise<string> {
    if (this.podCIDR) return Promise.resolve(this.podCIDR);
    return new Promise((resolve, reject) => {
      const onAbort = () => reject(new Error(`stopped while waiting for the pod CIDR of node ${this.name}`));
      signal?.addEventListener('abort', onAbort, { once: true });
      this.cidrWaiters.push((cidr) => {
        signal?.removeEventListener('abort', onAbort);
        resolve(cidr);
      });
    });
  }

  private notifyCidr(): void {
    const cidr = this.podCIDR;
    if (!cidr) return;
    for (const w of this.cidrWaiters.splice(0)) w(cidr);
  }

  /** Computes the status now and posts it when it changed (in the background). */
  kickStatus(): void {
    this.scheduleStatus(0);
  }

  /** Computes the status and posts it when it changed; resolves once written (or failed: retried in the background). */
  async refreshStatus(): Promise<void> {
    if (!this.registered) return;
    try {
      await this.postStatus(false);
    } catch (err) {
      this.log.warn({ err: toApiError(err).message }, 'node status update failed');
      this.kickStatus();
    }
  }

  private desiredStatus(previous: corev1.NodeStatus | undefined): corev1.NodeStatus {
    return nodeStatus(this.o.node, previous, this.o.readiness(), this.o.pressure(), new Date().toISOString());
  }

  private scheduleStatus(delayMs: number): void {
    if (this.stopped) return;
    clearTimeout(this.statusTimer);
    this.statusTimer = setTimeout(() => void this.statusTick(), delayMs);
    this.statusTimer.unref?.();
  }

  private async statusTick(): Promise<void> {
    if (this.statusBusy) {
      this.statusAgain = true;
      return;
    }
    this.statusBusy = true;
    let next = this.opts.statusUpdateMs;
    try {
      if (this.registered) await this.postStatus(false);
      this.statusFailures = 0;
    } catch (err) {
      this.statusFailures++;
      next = Math.min(next, backoff(this.statusFailures));
      this.log.warn({ err: toApiError(err).message }, 'node status update failed');
    } finally {
      this.statusBusy = false;
    }
    this.scheduleStatus(this.statusAgain ? 0 : next);
    this.statusAgain = false;
  }

  /**
   * Posts the status when it differs from the Node's (or `force`, or the report period passed).
   * Serialized: a second caller decides after the first one's write.
   */
  private postStatus(force: boolean): Promise<void> {
    const run = this.posting.then(() => this.postStatusNow(force));
    this.posting = run.catch(() => undefined);
    return run;
  }

  private async postStatusNow(force: boolean): Promise<void> {
    const now = Date.now();
    const cur = this.current;
    const desired = this.desiredStatus(cur?.status);
    const key = statusKey(desired);
    const changed = key !== this.lastPostedKey || conditionsKey(desired) !== conditionsKey(cur?.status);
    if (!force && !changed && now - this.lastReportMs < this.opts.statusReportMs) return;
    try {
      this.current = await this.o.client.nodes.updateStatus({ apiVersion: 'v1', kind: 'Node', metadata: { name: this.name, uid: cur?.metadata?.uid }, status: desired });
    } catch (err) {
      if (isNotFound(err) || isConflict(err)) {
        // Deleted (and perhaps re-created by someone else): register again.
        this.registered = false;
        this.current = undefined;
        void this.register();
      }
      throw err;
    }
    this.lastReportMs = now;
    this.lastPostedKey = key;
    if (changed) {
      const ready = desired.conditions?.find((c) => c.type === 'Ready');
      this.log.info({ ready: ready?.status, reason: ready?.reason }, 'node status posted');
    }
  }

  // ---- the Lease -----------------------------------------------------------------------

  private async renewLease(): Promise<void> {
    clearTimeout(this.leaseTimer);
    if (this.stopped) return;
    let next = this.opts.leaseRenewIntervalMs * (0.96 + Math.random() * 0.08);
    try {
      const first = this.lastRenewMs === 0;
      await this.renewOnce();
      this.leaseFailures = 0;
      // The first renewal at a random phase of the period (nodes that start together spread out).
      if (first) next = Math.random() * this.opts.leaseRenewIntervalMs;
    } catch (err) {
      this.leaseFailures++;
      next = Math.min(next, backoff(this.leaseFailures));
      this.log.warn({ err: toApiError(err).message }, 'lease renewal failed');
    }
    if (this.stopped) return;
    this.leaseTimer = setTimeout(() => void this.renewLease(), next);
    this.leaseTimer.unref?.();
  }

  private leaseSpec(now: number, acquireTime?: string): coordinationv1.LeaseSpec {
    return {
      holderIdentity: this.name,
      leaseDurationSeconds: this.opts.leaseDurationSeconds,
      acquireTime: acquireTime ?? microTime(now),
      renewTime: microTime(now),
    };
  }

  private async renewOnce(): Promise<void> {
    const leases = this.o.client.leases;
    const now = Date.now();
    if (!this.lease) {
      try {
        this.lease = await leases.get(this.name, { namespace: NODE_LEASE_NAMESPACE });
      } catch (err) {
        if (!isNotFound(err)) throw err;
        this.lease = await leases.create({
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name: this.name, namespace: NODE_LEASE_NAMESPACE, ownerReferences: this.leaseOwner() },
          spec: this.leaseSpec(now),
        });
        this.lastRenewMs = now;
        return;
      }
    }
    const base = this.lease;
    try {
      // The Node owns its Lease (the garbage collector removes it with the Node); a Node
      // registered again has a new uid.
      const owner = this.leaseOwner();
      const ownerStale = owner && base.metadata?.ownerReferences?.[0]?.uid !== owner[0].uid;
      const metadata = ownerStale ? { ...base.metadata, ownerReferences: owner } : base.metadata;
      this.lease = await leases.update({ ...base, metadata, spec: this.leaseSpec(now, base.spec?.holderIdentity === this.name ? base.spec?.acquireTime : undefined) });
      this.lastRenewMs = now;
    } catch (err) {
      // Changed or gone meanwhile: read it again next time (at once).
      this.lease = undefined;
      if (isConflict(err) || isNotFound(err)) return this.renewOnce();
      throw err;
    }
  }

  private leaseOwner(): Array<{ apiVersion: string; kind: string; name: string; uid: string }> | undefined {
    const uid = this.current?.metadata?.uid;
    return uid ? [{ apiVersion: 'v1', kind: 'Node', name: this.name, uid }] : undefined;
  }

  /** When the Lease was last renewed (epoch ms; 0: never). */
  get lastRenewal(): number {
    return this.lastRenewMs;
  }

  // ---- shared --------------------------------------------------------------------------

  private async retry(what: string, fn: () => Promise<void>): Promise<void> {
    for (let attempt = 1; !this.stopped; attempt++) {
      try {
        await fn();
        return;
      } catch (err) {
        const e = toApiError(err);
        this.log.warn({ err: e.message, code: e.codeName, attempt }, `${what} failed; retrying`);
        await new Promise((r) => setTimeout(r, backoff(attempt)).unref?.());
      }
    }
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.statusTimer);
    clearTimeout(this.leaseTimer);
  }
}

/** The conditions' types and statuses: what must match between the Node and what we report. */
function conditionsKey(s: corev1.NodeStatus | undefined): string {
  return (s?.conditions ?? [])
    .map((c) => `${c.type}=${c.status}`)
    .sort()
    .join(',');
}

function backoff(failures: number): number {
  return Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** Math.min(10, failures - 1));
}
