// The ReplicaSet controller: holds spec.replicas pods matching the selector. It claims them
// (util/controllerref.ts: adopts matching orphans, releases pods that stop matching); creates
// missing pods in batches that grow 1, 2, 4, ... (util/slowstart.ts: a failing create stops
// the burst early); deletes surplus pods least valuable first (see ranking.ts); and reports
// replicas, readyReplicas, availableReplicas (ready for minReadySeconds) and
// observedGeneration in status.
// Expectations keep it from acting twice on the same need while its informer catches up.
import type { appsv1, corev1 } from '@k8ts/api';
import {
  type EventRecorder,
  type Informer,
  type LabelSelector,
  type WorkQueue,
  deepCopy,
  isConflict,
  isNotFound,
  isTimeout,
  keyOf,
  labelSelectorAsSelector,
  selectorFromSet,
  splitKey,
} from '@k8ts/client';
import { BaseController, type ControllerContext } from '../../controller';
import { semanticEqual } from '../../util/canonical';
import { type ControllerKind, ControllerRefManager, controllerOf, controllerRef, freshController, recheckDeletionTimestamp } from '../../util/controllerref';
import { ControllerExpectations } from '../../util/expectations';
import { isPodActive, isPodAvailable, isPodReady, labelsOf } from '../../util/pods';
import { SLOW_START_INITIAL_BATCH, slowStartBatch } from '../../util/slowstart';
import { now, parseTime } from '../../util/time';
import { podsToDelete } from './ranking';

export const NAME = 'replicaset';

/** Kubernetes' burstReplicas: the most pods created or deleted in one reconcile. */
export const BURST_REPLICAS = 500;

export interface ReplicaSetOptions {
  /** Workers (--concurrent-replicaset-syncs). Default 5. */
  workers?: number;
  /** The most pods created or deleted per reconcile. Default 500. */
  burstReplicas?: number;
}

type ReplicaSet = appsv1.ReplicaSet;
type Pod = corev1.Pod;

/** A ReplicaSet's kind as object references name it. */
const RS_API_VERSION = 'apps/v1';
const RS_KIND = 'ReplicaSet';
const CONTROLLER_KIND: ControllerKind = { apiVersion: RS_API_VERSION, kind: RS_KIND };

/** The pod a ReplicaSet creates from its template. */
export function podFromTemplate(rs: ReplicaSet): Pod {
  const t = deepCopy(rs.spec?.template ?? {});
  const meta = t.metadata ?? {};
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: `${rs.metadata?.name}-`,
      namespace: rs.metadata?.namespace,
      labels: { ...meta.labels },
      annotations: { ...meta.annotations },
      finalizers: [...(meta.finalizers ?? [])],
      ownerReferences: [controllerRef(rs, CONTROLLER_KIND)],
    },
    spec: t.spec,
  };
}

function errorMessage(err: unknown): string {
  return String((err as Error)?.message ?? err);
}

export class ReplicaSetController extends BaseController {
  readonly queue: WorkQueue;
  readonly expectations: ControllerExpectations;
  private readonly replicaSets: Informer<ReplicaSet>;
  private readonly pods: Informer<Pod>;
  private readonly recorder: EventRecorder;
  private readonly burst: number;

  constructor(ctx: ControllerContext, opts: ReplicaSetOptions = {}) {
    super(NAME, ctx);
    this.burst = opts.burstReplicas ?? BURST_REPLICAS;
    this.expectations = new ControllerExpectations(ctx.clock);
    this.recorder = ctx.recorder('replicaset-controller');
    this.replicaSets = ctx.informers.informerFor('replicaSets');
    this.pods = ctx.informers.informerFor('pods');
    this.queue = this.addLoop(NAME, opts.workers ?? 5, (key) => this.reconcile(key));

    this.replicaSets.addEventHandler({
      onAdd: (rs) => this.queue.add(keyOf(rs)),
      onUpdate: (_old, rs) => this.queue.add(keyOf(rs)),
      onDelete: (rs) => {
        this.expectations.delete(keyOf(rs));
        this.queue.add(keyOf(rs));
      },
    });
    this.pods.addEventHandler({
      onAdd: (pod) => this.podAdded(pod),
      onUpdate: (old, pod) => this.podUpdated(old, pod),
      onDelete: (pod) => this.podDeleted(pod),
    });
  }

  // ---- event handlers: map a pod change to the ReplicaSets that care -------------------

  /** The ReplicaSet a controller reference points to, if it exists with that uid. */
  private resolve(namespace: string, ref: { kind?: string; name?: string; uid?: string } | undefined): ReplicaSet | undefined {
    if (!ref || ref.kind !== RS_KIND) return undefined;
    const rs = this.replicaSets.lister.get(ref.name ?? '', namespace);
    return rs && rs.metadata?.uid === ref.uid ? rs : undefined;
  }

  /** The ReplicaSets whose selector matches an orphan pod's labels. */
  private selecting(pod: Pod): ReplicaSet[] {
    const ns = pod.metadata?.namespace ?? '';
    return this.replicaSets.lister.list({ namespace: ns }).filter((rs) => {
      try {
        const sel = labelSelectorAsSelector(rs.spec?.selector);
        return !sel.isEverything() && !sel.isNothing() && sel.matches(labelsOf(pod));
      } catch {
        return false;
      }
    });
  }

  private podAdded(pod: Pod): void {
    if (pod.metadata?.deletionTimestamp) {
      // A restart can find a pod that is already being deleted: count it as deleted.
      this.podDeleted(pod);
      return;
    }
    const ref = controllerOf(pod);
    if (ref) {
      const rs = this.resolve(pod.metadata?.namespace ?? '', ref);
      if (!rs) return;
      const key = keyOf(rs);
      this.expectations.creationObserved(key);
      this.queue.add(key);
      return;
    }
    for (const rs of this.selecting(pod)) this.queue.add(keyOf(rs));
  }

  private podUpdated(old: Pod, pod: Pod): void {
    if (old.metadata?.resourceVersion === pod.metadata?.resourceVersion) return;
    const labelsChanged = !semanticEqual(labelsOf(old), labelsOf(pod));
    if (pod.metadata?.deletionTimestamp) {
      // A pod being deleted is as good as gone: count its deletion now, not when it is removed.
      this.podDeleted(pod);
      if (labelsChanged) this.podDeleted(old);
      return;
    }
    const ns = pod.metadata?.namespace ?? '';
    const ref = controllerOf(pod);
    const oldRef = controllerOf(old);
    const refChanged = !semanticEqual(ref, oldRef);
    if (refChanged && oldRef) {
      const oldRs = this.resolve(ns, oldRef);
      if (oldRs) this.queue.add(keyOf(oldRs));
    }
    if (ref) {
      const rs = this.resolve(ns, ref);
      if (!rs) return;
      const key = keyOf(rs);
      this.queue.add(key);
      const minReady = rs.spec?.minReadySeconds ?? 0;
      // A pod that just turned ready becomes available after minReadySeconds: look again then.
      if (minReady > 0 && !isPodReady(old) && isPodReady(pod)) this.queue.addAfter(key, minReady * 1000 + 1000);
      return;
    }
    if (labelsChanged || refChanged) for (const rs of this.selecting(pod)) this.queue.add(keyOf(rs));
  }

  private podDeleted(pod: Pod): void {
    const rs = this.resolve(pod.metadata?.namespace ?? '', controllerOf(pod));
    if (!rs) return;
    const key = keyOf(rs);
    this.expectations.deletionObserved(key, keyOf(pod));
    this.queue.add(key);
  }

  // ---- reconcile -------------------------------------------------------------------------

  async reconcile(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const rs = this.replicaSets.lister.get(name, namespace);
    if (!rs) {
      this.expectations.delete(key);
      return;
    }
    const needsSync = this.expectations.satisfied(key);
    let selector: LabelSelector;
    try {
      selector = labelSelectorAsSelector(rs.spec?.selector);
    } catch (err) {
      // A bad selector cannot be fixed by retrying; the apiserver should not have accepted it.
      this.recorder.event(this.ref(rs), 'Warning', 'InvalidSelector', errorMessage(err));
      return;
    }
    const active = this.pods.lister.list({ namespace }).filter(isPodActive);
    const pods = await this.claimPods(rs, selector, active);

    let manageError: { reason: string; err: unknown } | undefined;
    const deleted = new Set<string>();
    if (needsSync && !rs.metadata?.deletionTimestamp) manageError = await this.manageReplicas(key, rs, pods, deleted);

    // Pods just deleted are going away: the status does not count them (the Deployment
    // controller scales by it, and must not see them as still available).
    const status = this.calculateStatus(
      rs,
      pods.filter((p) => !deleted.has(keyOf(p))),
      manageError,
    );
    const updated = await this.updateStatus(rs, status);
    const desired = rs.spec?.replicas ?? 1;
    const minReady = rs.spec?.minReadySeconds ?? 0;
    if (!manageError && minReady > 0 && updated.readyReplicas === desired && updated.availableReplicas !== desired) {
      this.queue.addAfter(key, this.untilNextAvailable(pods, minReady));
    }
    if (manageError) throw manageError.err;
  }

  /** The milliseconds until the first ready-but-not-yet-available pod becomes available. */
  private untilNextAvailable(pods: Pod[], minReadySeconds: number): number {
    const nowMs = this.ctx.clock.now();
    let next = minReadySeconds * 1000;
    for (const p of pods) {
      if (!isPodReady(p) || isPodAvailable(p, minReadySeconds, nowMs)) continue;
      const since = parseTime(p.status?.conditions?.find((c) => c.type === 'Ready')?.lastTransitionTime) ?? nowMs;
      next = Math.min(next, Math.max(0, since + minReadySeconds * 1000 - nowMs));
    }
    return next + 1000;
  }

  private ref(rs: ReplicaSet): ReplicaSet {
    return { ...rs, apiVersion: RS_API_VERSION, kind: RS_KIND };
  }

  /** Adopts matching orphans and releases owned pods that no longer match (util/controllerref.ts). */
  private claimPods(rs: ReplicaSet, selector: LabelSelector, pods: Pod[]): Promise<Pod[]> {
    const cs = this.ctx.clientset;
    const manager = new ControllerRefManager<Pod>({
      controller: rs,
      controllerKind: CONTROLLER_KIND,
      selector,
      objectKind: 'Pod',
      objects: cs.pods,
      canAdopt: recheckDeletionTimestamp(freshController(cs.replicaSets, rs, CONTROLLER_KIND)),
    });
    return manager.claim(pods);
  }

  /** Creates or deletes pods toward spec.replicas; returns the failure, if any. */
  private async manageReplicas(key: string, rs: ReplicaSet, pods: Pod[], deleted: Set<string>): Promise<{ reason: string; err: unknown } | undefined> {
    const desired = rs.spec?.replicas ?? 1;
    const diff = pods.length - desired;
    const cs = this.ctx.clientset;
    if (diff < 0) {
      const count = Math.min(-diff, this.burst);
      this.expectations.expectCreations(key, count);
      this.logger.debug({ replicaset: key, need: desired, creating: count }, 'replicaset: too few replicas');
      const template = podFromTemplate(rs);
      const { successes, errors, attempted } = await slowStartBatch(count, SLOW_START_INITIAL_BATCH, async () => {
        const created = await cs.pods.create(deepCopy(template));
        this.recorder.event(this.ref(rs), 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata?.name}`);
      });
      if (errors.length === 0) return undefined;
      // Calls never made, and creations that certainly failed, will never be observed. A
      // timed-out create may have happened: the informer (or the expectations' expiry) tells.
      const lost = count - attempted + errors.filter((e) => !isTimeout(e)).length;
      for (let i = 0; i < lost; i++) this.expectations.creationObserved(key);
      const err = errors[0];
      this.recorder.event(this.ref(rs), 'Warning', 'FailedCreate', `Error creating: ${errorMessage(err)}`);
      this.logger.info({ replicaset: key, created: successes, failed: errors.length, err: errorMessage(err) }, 'replicaset: creating pods failed');
      return { reason: 'FailedCreate', err };
    }
    if (diff > 0) {
      const count = Math.min(diff, this.burst);
      const victims = podsToDelete(pods, this.relatedPods(rs), count);
      this.expectations.expectDeletions(
        key,
        victims.map((p) => keyOf(p)),
      );
      this.logger.debug({ replicaset: key, need: desired, deleting: count }, 'replicaset: too many replicas');
      const results = await Promise.allSettled(
        victims.map(async (pod) => {
          try {
            await cs.pods.delete(pod.metadata?.name ?? '', { namespace: pod.metadata?.namespace });
            deleted.add(keyOf(pod));
            this.recorder.event(this.ref(rs), 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata?.name}`);
          } catch (err) {
            this.expectations.deletionObserved(key, keyOf(pod));
            if (isNotFound(err)) {
              deleted.add(keyOf(pod));
              return;
            }
            this.recorder.event(this.ref(rs), 'Warning', 'FailedDelete', `Error deleting: ${errorMessage(err)}`);
            throw err;
          }
        }),
      );
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) return { reason: 'FailedDelete', err: failed.reason };
    }
    return undefined;
  }

  /**
   * The pods of every ReplicaSet controlled by the same owner as `rs` (a Deployment's old
   * and new ReplicaSets), to prefer deleting pods that double up on a node.
   */
  private relatedPods(rs: ReplicaSet): Pod[] {
    const ns = rs.metadata?.namespace ?? '';
    const owner = controllerOf(rs);
    const uids = new Set<string>([rs.metadata?.uid ?? '']);
    if (owner) {
      for (const other of this.replicaSets.lister.list({ namespace: ns })) {
        if (controllerOf(other)?.uid === owner.uid) uids.add(other.metadata?.uid ?? '');
      }
    }
    return this.pods.lister.list({ namespace: ns }).filter((p) => isPodActive(p) && uids.has(controllerOf(p)?.uid ?? '-'));
  }

  private calculateStatus(rs: ReplicaSet, pods: Pod[], manageError: { reason: string; err: unknown } | undefined): appsv1.ReplicaSetStatus {
    const nowMs = this.ctx.clock.now();
    const templateLabels = selectorFromSet(rs.spec?.template?.metadata?.labels ?? {});
    const minReady = rs.spec?.minReadySeconds ?? 0;
    let fullyLabeled = 0;
    let ready = 0;
    let available = 0;
    for (const p of pods) {
      if (templateLabels.matches(labelsOf(p))) fullyLabeled++;
      if (isPodReady(p)) {
        ready++;
        if (isPodAvailable(p, minReady, nowMs)) available++;
      }
    }
    let conditions = deepCopy(rs.status?.conditions ?? []);
    const failure = conditions.find((c) => c.type === 'ReplicaFailure');
    if (manageError && !failure) {
      conditions.push({
        type: 'ReplicaFailure',
        status: 'True',
        reason: manageError.reason,
        message: errorMessage(manageError.err),
        lastTransitionTime: now(this.ctx.clock),
      });
    } else if (!manageError && failure) {
      conditions = conditions.filter((c) => c.type !== 'ReplicaFailure');
    }
    return {
      replicas: pods.length,
      fullyLabeledReplicas: fullyLabeled,
      readyReplicas: ready,
      availableReplicas: available,
      observedGeneration: rs.metadata?.generation ?? 0,
      conditions,
    };
  }

  /** Writes the status when it changed; one retry on a conflict with a fresh read. Returns the status in effect. */
  private async updateStatus(rs: ReplicaSet, status: appsv1.ReplicaSetStatus): Promise<appsv1.ReplicaSetStatus> {
    const cur = rs.status ?? {};
    const same =
      (cur.replicas ?? 0) === status.replicas &&
      (cur.fullyLabeledReplicas ?? 0) === status.fullyLabeledReplicas &&
      (cur.readyReplicas ?? 0) === status.readyReplicas &&
      (cur.availableReplicas ?? 0) === status.availableReplicas &&
      (cur.observedGeneration ?? 0) === status.observedGeneration &&
      semanticEqual(cur.conditions, status.conditions);
    if (same) return cur;
    const cs = this.ctx.clientset;
    let target = deepCopy(rs);
    for (let attempt = 0; ; attempt++) {
      target.status = status;
      try {
        const out = await cs.replicaSets.updateStatus(target);
        return out.status ?? status;
      } catch (err) {
        if (!isConflict(err) || attempt >= 1) throw err;
        target = await cs.replicaSets.get(rs.metadata?.name ?? '', { namespace: rs.metadata?.namespace });
        if (target.metadata?.uid !== rs.metadata?.uid) return status;
        // The spec may have changed: observedGeneration must not claim a generation not acted on.
        status = { ...status, observedGeneration: Math.min(status.observedGeneration ?? 0, target.metadata?.generation ?? 0) };
      }
    }
  }
}
