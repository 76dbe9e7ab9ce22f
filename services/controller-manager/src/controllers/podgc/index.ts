// The pod garbage collector (Kubernetes' pkg/controller/podgc). Every check period (20 s) one
// pass over the cached pods and nodes force-deletes (grace period 0) pods nothing else will
// ever clean up:
//
// - terminated pods (Succeeded, Failed) beyond --terminated-pod-gc-threshold, evicted ones
//   first, then oldest first (a threshold <= 0 turns this off);
// - terminating pods (deletionTimestamp) on a node that is not Ready and carries the
//   node.kubernetes.io/out-of-service taint: no kubelet will finish their deletion;
// - orphaned pods, bound to a node that no longer exists. A node missing from the cache is
//   quarantined first: only once it has been missing for the quarantine time (40 s) and a
//   live read confirms NotFound is it gone (caches lag, a new node may not be cached yet);
// - unscheduled terminating pods: deletionTimestamp and no node, so no kubelet to finish.
//
// A pod that is not yet terminal is first marked Failed (orphans and pods on out-of-service
// nodes with the DisruptionTarget condition, reason DeletionByPodGC), so that a pod kept by
// finalizers after its deletion does not stay Running or Pending forever. That write is best
// effort. Errors on one pod are logged and the pass goes on; the next pass retries.
import type { corev1 } from '@k8ts/api';
import { type Informer, deepCopy, isConflict, isNotFound, keyOf, sleep } from '@k8ts/client';
import { BaseController, type ControllerContext } from '../../controller';
import { byCreationOf } from '../../util/sort';
import { now } from '../../util/time';

export const NAME = 'podgc';
/** The taint an administrator puts on a node that is shut down for good (or for repair). */
export const TAINT_OUT_OF_SERVICE = 'node.kubernetes.io/out-of-service';
/** The condition type and reason podgc sets on pods it deletes while they are not terminal. */
export const DISRUPTION_TARGET = 'DisruptionTarget';
export const REASON_DELETION_BY_PODGC = 'DeletionByPodGC';

export interface PodGcOptions {
  /** Terminated pods kept before the oldest are deleted (--terminated-pod-gc-threshold); <= 0: no limit. Default 12500. */
  terminatedPodThreshold?: number;
  /** How often a pass runs (Kubernetes' gcCheckPeriod). Default 20 s. */
  checkPeriodMs?: number;
  /** How long a node must be missing from the cache before its pods count as orphaned. Default 40 s. */
  quarantineMs?: number;
  /** Deletions in flight at once within a pass. Default 10. */
  deleteConcurrency?: number;
}

type Pod = corev1.Pod;
type Node = corev1.Node;

/** Why a pod is deleted: the log's `reason` field. */
export type PodGcReason = 'terminated' | 'orphaned' | 'unscheduled-terminating' | 'terminating-out-of-service';

function isTerminated(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase === 'Succeeded' || phase === 'Failed';
}

/** Kubernetes' PodIsEvicted: such pods are deleted first, before pods of controllers. */
function isEvicted(pod: Pod): boolean {
  return pod.status?.phase === 'Failed' && pod.status?.reason === 'Evicted';
}

/** Evicted first, then oldest first, ties by name (Kubernetes' byEvictionAndCreationTimestamp). */
function byEvictionAndCreation(a: Pod, b: Pod): number {
  const ea = isEvicted(a);
  const eb = isEvicted(b);
  if (ea !== eb) return ea ? -1 : 1;
  return byCreationOf(a, b);
}

function isNodeReady(node: Node): boolean {
  return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

function isOutOfService(node: Node): boolean {
  // Kubernetes checks the key only (the taint is documented with NoExecute or NoSchedule).
  return (node.spec?.taints ?? []).some((t) => t.key === TAINT_OUT_OF_SERVICE);
}

function errText(err: unknown): string {
  return String((err as Error)?.message ?? err);
}

export class PodGcController extends BaseController {
  private readonly pods: Informer<Pod>;
  private readonly nodes: Informer<Node>;
  private readonly o: Required<PodGcOptions>;
  /** Nodes seen missing from the cache (name → when first seen missing, our clock). */
  private readonly missingSince = new Map<string, number>();
  private pass?: Promise<void>;

  constructor(ctx: ControllerContext, opts: PodGcOptions = {}) {
    super(NAME, ctx);
    this.o = {
      terminatedPodThreshold: opts.terminatedPodThreshold ?? 12_500,
      checkPeriodMs: opts.checkPeriodMs ?? 20_000,
      quarantineMs: opts.quarantineMs ?? 40_000,
      deleteConcurrency: Math.max(1, opts.deleteConcurrency ?? 10),
    };
    this.pods = ctx.informers.informerFor('pods');
    this.nodes = ctx.informers.informerFor('nodes');
  }

  protected override async background(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      await this.gc();
      await sleep(this.ctx.clock, this.o.checkPeriodMs, signal);
    }
  }

  /** One pass (or the pass already in progress). Never rejects: failures are logged. */
  gc(): Promise<void> {
    if (!this.pass) {
      // Cleared in a `.finally` callback, which always runs after this assignment, even when
      // the pass has nothing to await.
      const pass: Promise<void> = this.runPass()
        .catch((err) => this.logger.error({ controller: NAME, err: errText(err) }, 'podgc: pass failed'))
        .finally(() => {
          if (this.pass === pass) this.pass = undefined;
        });
      this.pass = pass;
    }
    return this.pass;
  }

  private async runPass(): Promise<void> {
    const pods = this.pods.lister.list();
    const nodes = new Map<string, Node>();
    for (const n of this.nodes.lister.list()) nodes.set(n.metadata?.name ?? '', n);
    /** Pods handled in this pass (by uid), so that no pod is deleted twice. */
    const done = new Set<string>();
    if (this.o.terminatedPodThreshold > 0) await this.gcTerminated(pods, done);
    await this.gcTerminatingOutOfService(pods, nodes, done);
    await this.gcOrphaned(pods, nodes, done);
    await this.gcUnscheduledTerminating(pods, done);
  }

  private async gcTerminated(pods: readonly Pod[], done: Set<string>): Promise<void> {
    const terminated = pods.filter(isTerminated);
    const excess = terminated.length - this.o.terminatedPodThreshold;
    if (excess <= 0) return;
    this.logger.info({ terminated: terminated.length, threshold: this.o.terminatedPodThreshold, deleting: excess }, 'podgc: too many terminated pods');
    const victims = [...terminated].sort(byEvictionAndCreation).slice(0, excess);
    await this.deleteAll(victims, 'terminated', done);
  }

  private async gcTerminatingOutOfService(pods: readonly Pod[], nodes: Map<string, Node>, done: Set<string>): Promise<void> {
    const victims = pods.filter((p) => {
      if (!p.metadata?.deletionTimestamp) return false;
      const node = nodes.get(p.spec?.nodeName ?? '');
      return !!node && !isNodeReady(node) && isOutOfService(node);
    });
    victims.sort(byEvictionAndCreation);
    await this.deleteAll(victims, 'terminating-out-of-service', done, 'PodGC: node is out of service');
  }

  private async gcOrphaned(pods: readonly Pod[], nodes: Map<string, Node>, done: Set<string>): Promise<void> {
    const nowMs = this.ctx.clock.now();
    const wanted = new Set<string>();
    for (const p of pods) {
      const node = p.spec?.nodeName ?? '';
      if (!node || nodes.has(node)) continue;
      wanted.add(node);
      if (!this.missingSince.has(node)) {
        this.missingSince.set(node, nowMs);
        this.logger.debug({ node }, 'podgc: pods bound to a node missing from the cache; quarantining the node');
      }
    }
    // Forget nodes that came back (or were created late) and nodes no pod points at any more.
    for (const node of [...this.missingSince.keys()]) if (!wanted.has(node)) this.missingSince.delete(node);

    const gone = new Set<string>();
    for (const [node, since] of this.missingSince) {
      if (nowMs - since < this.o.quarantineMs) continue;
      try {
        await this.ctx.clientset.nodes.get(node);
        // The node exists after all (the cache lags): quarantine it afresh if still missing.
        this.missingSince.delete(node);
      } catch (err) {
        if (isNotFound(err)) gone.add(node);
        // Otherwise: unknown, looked at again next pass.
        else this.logger.info({ node, err: errText(err) }, 'podgc: reading a node missing from the cache failed');
      }
    }
    if (gone.size === 0) return;
    const victims = pods.filter((p) => gone.has(p.spec?.nodeName ?? ''));
    await this.deleteAll(victims, 'orphaned', done, 'PodGC: node no longer exists');
  }

  private async gcUnscheduledTerminating(pods: readonly Pod[], done: Set<string>): Promise<void> {
    const victims = pods.filter((p) => !!p.metadata?.deletionTimestamp && !p.spec?.nodeName);
    await this.deleteAll(victims, 'unscheduled-terminating', done);
  }

  /** Deletes each pod (a few at a time); one pod's failure is logged and does not stop the rest. */
  private async deleteAll(victims: readonly Pod[], reason: PodGcReason, done: Set<string>, disruption?: string): Promise<void> {
    const todo = victims.filter((p) => !done.has(p.metadata?.uid ?? keyOf(p)));
    for (const p of todo) done.add(p.metadata?.uid ?? keyOf(p));
    let next = 0;
    const worker = async () => {
      while (next < todo.length) {
        const pod = todo[next++];
        try {
          await this.markFailedAndDelete(pod, reason, disruption);
        } catch (err) {
          this.logger.info({ pod: keyOf(pod), reason, err: errText(err) }, 'podgc: deleting pod failed');
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.o.deleteConcurrency, todo.length) }, worker));
  }

  /**
   * Kubernetes' markFailedAndDeletePodWithCondition: a pod that is not terminal is first
   * marked Failed (with the DisruptionTarget condition when `disruption` is given), then
   * force-deleted.
   */
  private async markFailedAndDelete(pod: Pod, reason: PodGcReason, disruption?: string): Promise<void> {
    const key = keyOf(pod);
    const name = pod.metadata?.name ?? '';
    const namespace = pod.metadata?.namespace ?? '';
    if (!isTerminated(pod)) {
      const stillThere = await this.markFailed(pod, disruption);
      if (!stillThere) return;
    }
    try {
      await this.ctx.clientset.pods.delete(name, { namespace, gracePeriodSeconds: 0, preconditions: { uid: pod.metadata?.uid } });
    } catch (err) {
      if (isNotFound(err)) return;
      if (isConflict(err)) {
        // The uid precondition failed: a new pod of the same name, not ours to delete.
        this.logger.debug({ pod: key, reason }, 'podgc: pod was replaced; not deleting it');
        return;
      }
      throw err;
    }
    this.logger.info({ pod: key, node: pod.spec?.nodeName || undefined, reason }, 'podgc: force-deleted pod');
  }

  /**
   * Sets phase Failed (and the DisruptionTarget condition). Best effort: a conflict is tried
   * once more on a fresh read, then given up on. Returns false when the pod is gone.
   */
  private async markFailed(pod: Pod, disruption: string | undefined): Promise<boolean> {
    let current = pod;
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        if (attempt > 0) {
          current = await this.ctx.clientset.pods.get(pod.metadata?.name ?? '', { namespace: pod.metadata?.namespace });
          if (current.metadata?.uid !== pod.metadata?.uid) return false;
          if (isTerminated(current)) return true;
        }
        await this.ctx.clientset.pods.updateStatus(this.failedCopy(current, disruption));
        return true;
      } catch (err) {
        if (isNotFound(err)) return false;
        if (!isConflict(err)) throw err;
      }
    }
    this.logger.debug({ pod: keyOf(pod) }, 'podgc: marking pod Failed kept conflicting; deleting it anyway');
    return true;
  }

  private failedCopy(pod: Pod, disruption: string | undefined): Pod {
    const copy = deepCopy(pod);
    const status = (copy.status ??= {});
    status.phase = 'Failed';
    if (disruption) {
      const old = status.conditions?.find((c) => c.type === DISRUPTION_TARGET);
      const condition: corev1.PodCondition = {
        type: DISRUPTION_TARGET,
        status: 'True',
        reason: REASON_DELETION_BY_PODGC,
        message: disruption,
        lastTransitionTime: old?.status === 'True' && old.lastTransitionTime ? old.lastTransitionTime : now(this.ctx.clock),
      };
      const others = (status.conditions ?? []).filter((c) => c.type !== DISRUPTION_TARGET);
      status.conditions = [...others, condition];
    }
    return copy;
  }
}
