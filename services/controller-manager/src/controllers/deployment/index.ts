// The Deployment controller: owns ReplicaSets by pod-template hash and moves pods from old
// ReplicaSets to the new one. Each reconcile (syncDeployment) claims the Deployment's
// ReplicaSets, then either only reports status (deleting), scales (paused, or a change of
// spec.replicas: proportionally over the active ReplicaSets), or rolls out: RollingUpdate
// scales the new ReplicaSet up within maxSurge and old ones down within maxUnavailable;
// Recreate scales old ones to 0, waits for their pods to be gone, then scales the new one up.
// It keeps revisions (deployment.kubernetes.io/revision), deletes ReplicaSets beyond
// revisionHistoryLimit, and reports the Available and Progressing conditions.
//
// Rollback: like `kubectl rollout undo`, a client copies the pod template of the ReplicaSet
// with the wanted revision into the Deployment (without the pod-template-hash label). The
// controller finds that ReplicaSet as the one matching the template, raises its revision to
// the newest (keeping the old number in deployment.kubernetes.io/revision-history) and scales
// it up as in any rollout.
import type { appsv1, corev1 } from '@k8ts/api';
import {
  type EventRecorder,
  type Informer,
  type LabelSelector,
  type WorkQueue,
  deepCopy,
  isAlreadyExists,
  isConflict,
  isNotFound,
  keyOf,
  labelSelectorAsSelector,
  splitKey,
} from '@k8ts/client';
import { BaseController, type ControllerContext } from '../../controller';
import { semanticEqual } from '../../util/canonical';
import { type ControllerKind, ControllerRefManager, controllerOf, controllerRef, freshController, recheckDeletionTimestamp } from '../../util/controllerref';
import { labelsOf } from '../../util/pods';
import { parseTime } from '../../util/time';
import {
  AVAILABLE,
  POD_TEMPLATE_HASH_LABEL,
  PROGRESSING,
  REASON,
  REPLICA_FAILURE,
  actualReplicaCount,
  availableReplicaCount,
  byCreation,
  computeHash,
  deploymentComplete,
  deploymentProgressing,
  deploymentTimedOut,
  desiredReplicasAnnotation,
  equalIgnoreHash,
  filterActive,
  getCondition,
  hasProgressDeadline,
  isRollingUpdate,
  isSaturated,
  maxReplicasAnnotation,
  maxRevision,
  maxSurge,
  maxUnavailable,
  newCondition,
  newRSNewReplicas,
  progressDeadlineSeconds,
  readyReplicaCount,
  removeCondition,
  replicaCount,
  replicasAnnotationsNeedUpdate,
  replicasOf,
  revisionOf,
  setCondition,
  setNewReplicaSetAnnotations,
  setReplicasAnnotations,
  settledAvailableCount,
  REVISION_ANNOTATION,
} from './util';

export const NAME = 'deployment';

export interface DeploymentOptions {
  /** Workers (--concurrent-deployment-syncs). Default 5. */
  workers?: number;
}

type Deployment = appsv1.Deployment;
type ReplicaSet = appsv1.ReplicaSet;
type Pod = corev1.Pod;

const APPS_V1 = 'apps/v1';
const CONTROLLER_KIND: ControllerKind = { apiVersion: APPS_V1, kind: 'Deployment' };

/** The state of one reconcile: the Deployment as last written, and its ReplicaSets. */
interface Work {
  d: Deployment;
  rsList: ReplicaSet[];
}

function errorMessage(err: unknown): string {
  return String((err as Error)?.message ?? err);
}

function isEmptySelector(sel: { matchLabels?: Record<string, string>; matchExpressions?: unknown[] } | undefined): boolean {
  return !sel || (Object.keys(sel.matchLabels ?? {}).length === 0 && (sel.matchExpressions ?? []).length === 0);
}

export class DeploymentController extends BaseController {
  readonly queue: WorkQueue;
  private readonly deployments: Informer<Deployment>;
  private readonly replicaSets: Informer<ReplicaSet>;
  private readonly pods: Informer<Pod>;
  private readonly recorder: EventRecorder;

  constructor(ctx: ControllerContext, opts: DeploymentOptions = {}) {
    super(NAME, ctx);
    this.recorder = ctx.recorder('deployment-controller');
    this.deployments = ctx.informers.informerFor('deployments');
    this.replicaSets = ctx.informers.informerFor('replicaSets');
    this.pods = ctx.informers.informerFor('pods');
    this.queue = this.addLoop(NAME, opts.workers ?? 5, (key) => this.reconcile(key));

    this.deployments.addEventHandler({
      onAdd: (d) => this.queue.add(keyOf(d)),
      onUpdate: (_o, d) => this.queue.add(keyOf(d)),
      onDelete: (d) => this.queue.add(keyOf(d)),
    });
    this.replicaSets.addEventHandler({
      onAdd: (rs) => this.replicaSetChanged(undefined, rs),
      onUpdate: (old, rs) => this.replicaSetChanged(old, rs),
      onDelete: (rs) => this.replicaSetDeleted(rs),
    });
    this.pods.addEventHandler({ onDelete: (pod) => this.podDeleted(pod) });
  }

  // ---- event handlers --------------------------------------------------------------------

  private resolve(namespace: string, ref: { kind?: string; name?: string; uid?: string } | undefined): Deployment | undefined {
    if (ref?.kind !== CONTROLLER_KIND.kind) return undefined;
    const d = this.deployments.lister.get(ref.name ?? '', namespace);
    return d && d.metadata?.uid === ref.uid ? d : undefined;
  }

  private selecting(rs: ReplicaSet): Deployment[] {
    return this.deployments.lister.list({ namespace: rs.metadata?.namespace ?? '' }).filter((d) => {
      if (isEmptySelector(d.spec?.selector)) return false;
      try {
        return labelSelectorAsSelector(d.spec?.selector).matches(labelsOf(rs));
      } catch {
        return false;
      }
    });
  }

  private replicaSetChanged(old: ReplicaSet | undefined, rs: ReplicaSet): void {
    if (old && old.metadata?.resourceVersion === rs.metadata?.resourceVersion) return;
    if (rs.metadata?.deletionTimestamp && !old) {
      this.replicaSetDeleted(rs);
      return;
    }
    const ns = rs.metadata?.namespace ?? '';
    const ref = controllerOf(rs);
    const oldRef = old ? controllerOf(old) : undefined;
    const refChanged = !!old && !semanticEqual(ref, oldRef);
    if (refChanged && oldRef) {
      const d = this.resolve(ns, oldRef);
      if (d) this.queue.add(keyOf(d));
    }
    if (ref) {
      const d = this.resolve(ns, ref);
      if (d) this.queue.add(keyOf(d));
      return;
    }
    const labelsChanged = !old || !semanticEqual(labelsOf(old), labelsOf(rs));
    if (labelsChanged || refChanged) for (const d of this.selecting(rs)) this.queue.add(keyOf(d));
  }

  private replicaSetDeleted(rs: ReplicaSet): void {
    const d = this.resolve(rs.metadata?.namespace ?? '', controllerOf(rs));
    if (d) this.queue.add(keyOf(d));
  }

  /** A Recreate rollout waits for the old pods to be gone: look again when one goes. */
  private podDeleted(pod: Pod): void {
    const ns = pod.metadata?.namespace ?? '';
    const ref = controllerOf(pod);
    if (ref?.kind !== 'ReplicaSet') return;
    const rs = this.replicaSets.lister.get(ref.name ?? '', ns);
    if (!rs || rs.metadata?.uid !== ref.uid) return;
    const d = this.resolve(ns, controllerOf(rs));
    if (d && !isRollingUpdate(d)) this.queue.add(keyOf(d));
  }

  private ref(d: Deployment): Deployment {
    return { ...d, ...CONTROLLER_KIND };
  }

  // ---- reconcile -------------------------------------------------------------------------

  async reconcile(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const cached = this.deployments.lister.get(name, namespace);
    if (!cached) return;
    const w: Work = { d: deepCopy(cached), rsList: [] };
    if (isEmptySelector(w.d.spec?.selector)) {
      this.recorder.event(this.ref(w.d), 'Warning', 'SelectingAll', 'This deployment is selecting all pods. A non-empty selector is required.');
      if ((w.d.status?.observedGeneration ?? 0) < (w.d.metadata?.generation ?? 0)) {
        await this.writeStatus(w, { ...w.d.status, observedGeneration: w.d.metadata?.generation ?? 0 });
      }
      return;
    }
    let selector: LabelSelector;
    try {
      selector = labelSelectorAsSelector(w.d.spec?.selector);
    } catch (err) {
      this.recorder.event(this.ref(w.d), 'Warning', 'InvalidSelector', errorMessage(err));
      return;
    }
    w.rsList = await this.claimReplicaSets(w.d, selector);

    if (w.d.metadata?.deletionTimestamp) {
      await this.syncStatusOnly(w);
      return;
    }
    await this.checkPausedConditions(w);
    if (w.d.spec?.paused) {
      await this.sync(w);
      return;
    }
    if (await this.isScalingEvent(w)) {
      await this.sync(w);
      return;
    }
    if (isRollingUpdate(w.d)) await this.rolloutRolling(w);
    else await this.rolloutRecreate(w, this.podMap(w, selector));
  }

  /** Adopts matching orphan ReplicaSets, releases owned ones that stopped matching (util/controllerref.ts). */
  private async claimReplicaSets(d: Deployment, selector: LabelSelector): Promise<ReplicaSet[]> {
    const cs = this.ctx.clientset;
    const manager = new ControllerRefManager<ReplicaSet>({
      controller: d,
      controllerKind: CONTROLLER_KIND,
      selector,
      objectKind: 'ReplicaSet',
      objects: cs.replicaSets,
      canAdopt: recheckDeletionTimestamp(freshController(cs.deployments, d, CONTROLLER_KIND)),
    });
    const claimed = await manager.claim(this.replicaSets.lister.list({ namespace: d.metadata?.namespace ?? '' }));
    // Copies: the reconcile replaces its ReplicaSets as it writes them; the cache's are frozen.
    return claimed.map((rs) => deepCopy(rs));
  }

  /** The Deployment's pods by the uid of the ReplicaSet controlling them. */
  private podMap(w: Work, selector: LabelSelector): Map<string, Pod[]> {
    const map = new Map<string, Pod[]>();
    for (const rs of w.rsList) map.set(rs.metadata?.uid ?? '', []);
    for (const pod of this.pods.lister.list({ namespace: w.d.metadata?.namespace ?? '' })) {
      if (!selector.matches(labelsOf(pod))) continue;
      const list = map.get(controllerOf(pod)?.uid ?? '');
      if (list) list.push(pod);
    }
    return map;
  }

  // ---- writes ----------------------------------------------------------------------------

  private async writeStatus(w: Work, status: appsv1.DeploymentStatus): Promise<void> {
    const copy = deepCopy(w.d);
    copy.status = status;
    const out = await this.ctx.clientset.deployments.updateStatus(copy);
    w.d = { ...out, status: out.status ?? status };
  }

  /** Sets the Deployment's revision annotation (an update of its metadata). */
  private async writeRevision(w: Work, revision: number): Promise<void> {
    if (revisionOf(w.d) === revision) return;
    const copy = deepCopy(w.d);
    copy.metadata = { ...copy.metadata, annotations: { ...copy.metadata?.annotations, [REVISION_ANNOTATION]: String(revision) } };
    const status = w.d.status;
    const out = await this.ctx.clientset.deployments.update(copy);
    w.d = { ...out, status };
  }

  private replaceRS(w: Work, rs: ReplicaSet): ReplicaSet {
    const i = w.rsList.findIndex((x) => x.metadata?.uid === rs.metadata?.uid);
    if (i >= 0) w.rsList[i] = rs;
    else w.rsList.push(rs);
    return rs;
  }

  /** Sets a ReplicaSet's replicas (and replica annotations); records a scaling event. */
  private async scaleReplicaSet(w: Work, rs: ReplicaSet, newScale: number, operation: string): Promise<{ scaled: boolean; rs: ReplicaSet }> {
    const desired = replicasOf(w.d);
    const max = desired + maxSurge(w.d);
    const oldScale = replicasOf(rs);
    const sizeNeedsUpdate = oldScale !== newScale;
    if (!sizeNeedsUpdate && !replicasAnnotationsNeedUpdate(rs, desired, max)) return { scaled: false, rs };
    const write = (base: ReplicaSet) => {
      const copy = deepCopy(base);
      copy.spec = { ...copy.spec, replicas: newScale };
      setReplicasAnnotations(copy, desired, max);
      return this.ctx.clientset.replicaSets.update(copy);
    };
    let result: ReplicaSet;
    try {
      result = await write(rs);
    } catch (err) {
      if (!isConflict(err)) throw err;
      // Usually only the ReplicaSet's status moved on (its controller writes it often): when
      // its spec is still the one this decision was made from, apply the decision to it.
      const live = await this.ctx.clientset.replicaSets.get(rs.metadata?.name ?? '', { namespace: rs.metadata?.namespace });
      if (live.metadata?.uid !== rs.metadata?.uid || (live.metadata?.generation ?? 0) !== (rs.metadata?.generation ?? 0)) throw err;
      result = await write(live);
    }
    const updated = this.replaceRS(w, result);
    if (sizeNeedsUpdate) {
      this.recorder.event(
        this.ref(w.d),
        'Normal',
        'ScalingReplicaSet',
        `Scaled ${operation} replica set ${rs.metadata?.name} from ${oldScale} to ${newScale}`,
      );
    }
    return { scaled: sizeNeedsUpdate, rs: updated };
  }

  private async scaleAndRecord(w: Work, rs: ReplicaSet, newScale: number): Promise<{ scaled: boolean; rs: ReplicaSet }> {
    if (replicasOf(rs) === newScale) return { scaled: false, rs };
    return this.scaleReplicaSet(w, rs, newScale, replicasOf(rs) > newScale ? 'down' : 'up');
  }

  // ---- new and old ReplicaSets, revisions -------------------------------------------------

  /**
   * The new ReplicaSet (running the current template) and the old ones, after bringing the
   * revisions up to date. With `create`, a missing new ReplicaSet is created.
   */
  private async getAllReplicaSetsAndSyncRevision(w: Work, create: boolean): Promise<{ newRS?: ReplicaSet; oldRSs: ReplicaSet[] }> {
    const existing = this.findNewReplicaSet(w);
    const oldRSs = w.rsList.filter((rs) => rs !== existing);
    const newRS = await this.getNewReplicaSet(w, existing, oldRSs, create);
    return { newRS, oldRSs };
  }

  /**
   * The ReplicaSet whose template equals the Deployment's (ignoring the hash label). Failing
   * that, an owned ReplicaSet carrying the hash of the current template: it was made from
   * this template, so it must never be created twice even if a comparison disagrees.
   */
  private findNewReplicaSet(w: Work): ReplicaSet | undefined {
    const sorted = [...w.rsList].sort(byCreation);
    const equal = sorted.find((rs) => equalIgnoreHash(rs.spec?.template, w.d.spec?.template));
    if (equal) return equal;
    const hash = computeHash(w.d.spec?.template, w.d.status?.collisionCount);
    return sorted.find((rs) => rs.spec?.template?.metadata?.labels?.[POD_TEMPLATE_HASH_LABEL] === hash);
  }

  private async getNewReplicaSet(w: Work, existing: ReplicaSet | undefined, oldRSs: ReplicaSet[], create: boolean): Promise<ReplicaSet | undefined> {
    const d = w.d;
    const cs = this.ctx.clientset;
    const newRevision = maxRevision(oldRSs) + 1;
    if (existing) {
      const copy = deepCopy(existing);
      const annotationsUpdated = setNewReplicaSetAnnotations(d, copy, newRevision, true);
      const minReady = d.spec?.minReadySeconds ?? 0;
      if (annotationsUpdated || (copy.spec?.minReadySeconds ?? 0) !== minReady) {
        copy.spec = { ...copy.spec, minReadySeconds: minReady };
        return this.replaceRS(w, await cs.replicaSets.update(copy));
      }
      await this.writeRevision(w, revisionOf(copy));
      if (hasProgressDeadline(w.d) && !getCondition(w.d.status, PROGRESSING)) {
        const status = deepCopy(w.d.status ?? {});
        setCondition(status, newCondition(PROGRESSING, 'True', REASON.foundNewReplicaSet, `Found new replica set "${copy.metadata?.name}"`, this.ctx.clock.now()));
        await this.writeStatus(w, status);
      }
      return existing;
    }
    if (!create) return undefined;

    const template = deepCopy(d.spec?.template ?? {});
    const hash = computeHash(d.spec?.template, d.status?.collisionCount);
    template.metadata = { ...template.metadata, labels: { ...template.metadata?.labels, [POD_TEMPLATE_HASH_LABEL]: hash } };
    const selector = deepCopy(d.spec?.selector ?? {});
    selector.matchLabels = { ...selector.matchLabels, [POD_TEMPLATE_HASH_LABEL]: hash };
    const rs: ReplicaSet = {
      apiVersion: APPS_V1,
      kind: 'ReplicaSet',
      metadata: {
        name: `${d.metadata?.name}-${hash}`,
        namespace: d.metadata?.namespace,
        ownerReferences: [controllerRef(d, CONTROLLER_KIND)],
        labels: { ...template.metadata.labels },
      },
      spec: { replicas: 0, minReadySeconds: d.spec?.minReadySeconds ?? 0, selector, template },
    };
    const newReplicas = newRSNewReplicas(d, [...oldRSs, rs], rs);
    rs.spec!.replicas = newReplicas;
    setNewReplicaSetAnnotations(d, rs, newRevision, false);

    let created: ReplicaSet;
    let alreadyExisted = false;
    try {
      created = await cs.replicaSets.create(rs);
    } catch (err) {
      if (isAlreadyExists(err)) {
        // A slow cache, or a hash collision with a ReplicaSet that is not ours.
        const other = await cs.replicaSets.get(rs.metadata!.name!, { namespace: d.metadata?.namespace });
        if (controllerOf(other)?.uid === d.metadata?.uid && equalIgnoreHash(other.spec?.template, d.spec?.template)) {
          created = other;
          alreadyExisted = true;
        } else {
          const status = deepCopy(d.status ?? {});
          status.collisionCount = (status.collisionCount ?? 0) + 1;
          await this.writeStatus(w, status);
          throw err;
        }
      } else {
        const msg = `Failed to create new replica set "${rs.metadata?.name}": ${errorMessage(err)}`;
        if (hasProgressDeadline(d)) {
          const status = deepCopy(d.status ?? {});
          setCondition(status, newCondition(PROGRESSING, 'False', REASON.failedRSCreate, msg, this.ctx.clock.now()));
          await this.writeStatus(w, status).catch(() => undefined);
        }
        this.recorder.event(this.ref(d), 'Warning', REASON.failedRSCreate, msg);
        throw err;
      }
    }
    this.replaceRS(w, created);
    if (!alreadyExisted && newReplicas > 0) {
      this.recorder.event(this.ref(d), 'Normal', 'ScalingReplicaSet', `Scaled up replica set ${created.metadata?.name} from 0 to ${newReplicas}`);
    }
    await this.writeRevision(w, newRevision);
    if (!alreadyExisted && hasProgressDeadline(w.d)) {
      const status = deepCopy(w.d.status ?? {});
      setCondition(status, newCondition(PROGRESSING, 'True', REASON.newReplicaSet, `Created new replica set "${created.metadata?.name}"`, this.ctx.clock.now()));
      await this.writeStatus(w, status);
    }
    return created;
  }

  // ---- scaling (paused Deployments and changes of spec.replicas) ---------------------------

  /** A change of spec.replicas: some active ReplicaSet was sized for another replica count. */
  private async isScalingEvent(w: Work): Promise<boolean> {
    const { newRS, oldRSs } = await this.getAllReplicaSetsAndSyncRevision(w, false);
    const replicas = replicasOf(w.d);
    for (const rs of filterActive([...oldRSs, newRS])) {
      const desired = desiredReplicasAnnotation(rs);
      if (desired !== undefined && desired !== replicas) return true;
    }
    return false;
  }

  private async sync(w: Work): Promise<void> {
    const { newRS, oldRSs } = await this.getAllReplicaSetsAndSyncRevision(w, false);
    await this.scale(w, newRS, oldRSs);
    if (w.d.spec?.paused) await this.cleanupDeployment(w, oldRSs);
    await this.syncDeploymentStatus(w, [...oldRSs, newRS], newRS);
  }

  /**
   * Scales to spec.replicas: the only active ReplicaSet (or the newest) directly; during a
   * rolling update, each active ReplicaSet in proportion to its size (leftovers to the
   * largest), so that a rollout in progress keeps its shape.
   */
  private async scale(w: Work, newRS: ReplicaSet | undefined, oldRSs: ReplicaSet[]): Promise<void> {
    const d = w.d;
    const replicas = replicasOf(d);
    const activeOrLatest = findActiveOrLatest(newRS, oldRSs);
    if (activeOrLatest) {
      if (replicasOf(activeOrLatest) !== replicas) await this.scaleAndRecord(w, activeOrLatest, replicas);
      return;
    }
    if (isSaturated(d, newRS)) {
      for (const old of filterActive(oldRSs)) await this.scaleAndRecord(w, old, 0);
      return;
    }
    if (!isRollingUpdate(d)) return;
    const allRSs = filterActive([...oldRSs, newRS]);
    const allowedSize = replicas > 0 ? replicas + maxSurge(d) : 0;
    const toAdd = allowedSize - replicaCount(allRSs);
    let operation = '';
    if (toAdd > 0) {
      allRSs.sort((a, b) => (replicasOf(a) === replicasOf(b) ? byCreation(b, a) : replicasOf(b) - replicasOf(a)));
      operation = 'up';
    } else if (toAdd < 0) {
      allRSs.sort((a, b) => (replicasOf(a) === replicasOf(b) ? byCreation(a, b) : replicasOf(b) - replicasOf(a)));
      operation = 'down';
    }
    const sizes = new Map<ReplicaSet, number>();
    let added = 0;
    for (const rs of allRSs) {
      if (toAdd !== 0) {
        const proportion = getProportion(rs, d, toAdd, added);
        sizes.set(rs, replicasOf(rs) + proportion);
        added += proportion;
      } else sizes.set(rs, replicasOf(rs));
    }
    for (let i = 0; i < allRSs.length; i++) {
      const rs = allRSs[i];
      if (i === 0 && toAdd !== 0) sizes.set(rs, Math.max(0, sizes.get(rs)! + (toAdd - added)));
      await this.scaleReplicaSet(w, rs, sizes.get(rs)!, operation);
    }
  }

  // ---- rollouts --------------------------------------------------------------------------

  private async rolloutRolling(w: Work): Promise<void> {
    const { newRS, oldRSs } = await this.getAllReplicaSetsAndSyncRevision(w, true);
    const allRSs = [...oldRSs, newRS!];
    if (await this.reconcileNewReplicaSet(w, allRSs, newRS!)) {
      await this.syncRolloutStatus(w, allRSs, newRS);
      return;
    }
    if (await this.reconcileOldReplicaSets(w, allRSs, filterActive(oldRSs), newRS!)) {
      await this.syncRolloutStatus(w, allRSs, newRS);
      return;
    }
    if (deploymentComplete(w.d, w.d.status ?? {})) await this.cleanupDeployment(w, oldRSs);
    await this.syncRolloutStatus(w, allRSs, newRS);
  }

  /** Scales the new ReplicaSet up as far as maxSurge allows (or down to replicas). */
  private async reconcileNewReplicaSet(w: Work, allRSs: ReplicaSet[], newRS: ReplicaSet): Promise<boolean> {
    const replicas = replicasOf(w.d);
    if (replicasOf(newRS) === replicas) return false;
    if (replicasOf(newRS) > replicas) return (await this.scaleAndRecord(w, newRS, replicas)).scaled;
    return (await this.scaleAndRecord(w, newRS, newRSNewReplicas(w.d, allRSs, newRS))).scaled;
  }

  /**
   * Scales old ReplicaSets down as far as maxUnavailable allows: first their unhealthy pods
   * (which count against availability anyway), then available ones, oldest ReplicaSet first.
   */
  private async reconcileOldReplicaSets(w: Work, allRSs: ReplicaSet[], oldRSs: ReplicaSet[], newRS: ReplicaSet): Promise<boolean> {
    if (replicaCount(oldRSs) === 0) return false;
    const minAvailable = replicasOf(w.d) - maxUnavailable(w.d);
    const newRSUnavailable = Math.max(0, replicasOf(newRS) - (newRS.status?.availableReplicas ?? 0));
    const maxScaledDown = replicaCount(allRSs) - minAvailable - newRSUnavailable;
    if (maxScaledDown <= 0) return false;
    const { rss: cleaned, count: cleanedUp } = await this.cleanupUnhealthyReplicas(w, oldRSs, maxScaledDown);
    const scaledDown = await this.scaleDownOldForRollingUpdate(w, [...cleaned, newRS], cleaned);
    return cleanedUp + scaledDown > 0;
  }

  private async cleanupUnhealthyReplicas(w: Work, oldRSs: ReplicaSet[], maxCleanup: number): Promise<{ rss: ReplicaSet[]; count: number }> {
    const rss = [...oldRSs].sort(byCreation);
    let total = 0;
    for (let i = 0; i < rss.length && total < maxCleanup; i++) {
      const rs = rss[i];
      const replicas = replicasOf(rs);
      const unhealthy = replicas - (rs.status?.availableReplicas ?? 0);
      if (replicas === 0 || unhealthy <= 0) continue;
      const count = Math.min(maxCleanup - total, unhealthy);
      rss[i] = (await this.scaleAndRecord(w, rs, replicas - count)).rs;
      total += count;
    }
    return { rss, count: total };
  }

  private async scaleDownOldForRollingUpdate(w: Work, allRSs: ReplicaSet[], oldRSs: ReplicaSet[]): Promise<number> {
    const minAvailable = replicasOf(w.d) - maxUnavailable(w.d);
    const available = settledAvailableCount(allRSs);
    if (available <= minAvailable) return 0;
    const total = available - minAvailable;
    let scaled = 0;
    for (const rs of [...oldRSs].sort(byCreation)) {
      if (scaled >= total) break;
      const replicas = replicasOf(rs);
      if (replicas === 0) continue;
      const count = Math.min(replicas, total - scaled);
      await this.scaleAndRecord(w, rs, replicas - count);
      scaled += count;
    }
    return scaled;
  }

  private async rolloutRecreate(w: Work, podMap: Map<string, Pod[]>): Promise<void> {
    let { newRS, oldRSs } = await this.getAllReplicaSetsAndSyncRevision(w, false);
    const active = filterActive(oldRSs);
    let scaledDown = false;
    for (const rs of active) if ((await this.scaleAndRecord(w, rs, 0)).scaled) scaledDown = true;
    if (scaledDown) {
      await this.syncRolloutStatus(w, [...oldRSs, newRS], newRS);
      return;
    }
    if (oldPodsRunning(newRS, oldRSs, podMap)) {
      await this.syncRolloutStatus(w, [...oldRSs, newRS], newRS);
      return;
    }
    if (!newRS) ({ newRS, oldRSs } = await this.getAllReplicaSetsAndSyncRevision(w, true));
    await this.scaleAndRecord(w, newRS!, replicasOf(w.d));
    if (deploymentComplete(w.d, w.d.status ?? {})) await this.cleanupDeployment(w, oldRSs);
    await this.syncRolloutStatus(w, [...oldRSs, newRS], newRS);
  }

  /** Deletes the oldest scaled-down ReplicaSets beyond revisionHistoryLimit (default 10). */
  private async cleanupDeployment(w: Work, oldRSs: ReplicaSet[]): Promise<void> {
    const limit = w.d.spec?.revisionHistoryLimit ?? 10;
    if (limit === 2147483647) return;
    const cleanable = oldRSs.filter((rs) => !rs.metadata?.deletionTimestamp);
    const diff = cleanable.length - limit;
    if (diff <= 0) return;
    cleanable.sort((a, b) => revisionOf(a) - revisionOf(b) || byCreation(a, b));
    for (const rs of cleanable.slice(0, diff)) {
      if ((rs.status?.replicas ?? 0) !== 0 || replicasOf(rs) !== 0) continue;
      if ((rs.metadata?.generation ?? 0) > (rs.status?.observedGeneration ?? 0)) continue;
      try {
        await this.ctx.clientset.replicaSets.delete(rs.metadata?.name ?? '', {
          namespace: rs.metadata?.namespace,
          preconditions: { uid: rs.metadata?.uid },
        });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
  }

  // ---- status ----------------------------------------------------------------------------

  private calculateStatus(w: Work, allRSs: (ReplicaSet | undefined)[], newRS: ReplicaSet | undefined): appsv1.DeploymentStatus {
    const d = w.d;
    const available = availableReplicaCount(allRSs);
    const total = replicaCount(allRSs);
    const status: appsv1.DeploymentStatus = {
      observedGeneration: d.metadata?.generation ?? 0,
      replicas: actualReplicaCount(allRSs),
      updatedReplicas: actualReplicaCount([newRS]),
      readyReplicas: readyReplicaCount(allRSs),
      availableReplicas: available,
      unavailableReplicas: Math.max(0, total - available),
      conditions: deepCopy(d.status?.conditions ?? []),
    };
    if (d.status?.collisionCount !== undefined) status.collisionCount = d.status.collisionCount;
    const nowMs = this.ctx.clock.now();
    if (available >= replicasOf(d) - maxUnavailable(d)) {
      setCondition(status, newCondition(AVAILABLE, 'True', REASON.minimumReplicasAvailable, 'Deployment has minimum availability.', nowMs));
    } else {
      setCondition(status, newCondition(AVAILABLE, 'False', REASON.minimumReplicasUnavailable, 'Deployment does not have minimum availability.', nowMs));
    }
    return status;
  }

  private async syncStatusOnly(w: Work): Promise<void> {
    const { newRS, oldRSs } = await this.getAllReplicaSetsAndSyncRevision(w, false);
    await this.syncDeploymentStatus(w, [...oldRSs, newRS], newRS);
  }

  private async syncDeploymentStatus(w: Work, allRSs: (ReplicaSet | undefined)[], newRS: ReplicaSet | undefined): Promise<void> {
    const status = this.calculateStatus(w, allRSs, newRS);
    if (semanticEqual(w.d.status, status)) return;
    await this.writeStatus(w, status);
  }

  /** Status plus the Progressing condition (complete, progressing, or past its deadline). */
  private async syncRolloutStatus(w: Work, allRSs: (ReplicaSet | undefined)[], newRS: ReplicaSet | undefined): Promise<void> {
    const d = w.d;
    const nowMs = this.ctx.clock.now();
    const status = this.calculateStatus(w, allRSs, newRS);
    if (!hasProgressDeadline(d)) removeCondition(status, PROGRESSING);
    const current = getCondition(d.status, PROGRESSING);
    const complete = status.replicas === status.updatedReplicas && current?.reason === REASON.newReplicaSetAvailable;
    if (hasProgressDeadline(d) && !complete) {
      const rsName = newRS?.metadata?.name;
      if (deploymentComplete(d, status)) {
        const msg = rsName ? `ReplicaSet "${rsName}" has successfully progressed.` : `Deployment "${d.metadata?.name}" has successfully progressed.`;
        setCondition(status, newCondition(PROGRESSING, 'True', REASON.newReplicaSetAvailable, msg, nowMs));
      } else if (deploymentProgressing(d, status)) {
        const msg = rsName ? `ReplicaSet "${rsName}" is progressing.` : `Deployment "${d.metadata?.name}" is progressing.`;
        const c = newCondition(PROGRESSING, 'True', REASON.replicaSetUpdated, msg, nowMs);
        // Progress moves lastUpdateTime even when the reason stays the same.
        const existing = getCondition(status, PROGRESSING);
        if (existing?.status === 'True') c.lastTransitionTime = existing.lastTransitionTime;
        removeCondition(status, PROGRESSING);
        setCondition(status, c);
      } else if (deploymentTimedOut(d, status, nowMs)) {
        const msg = rsName ? `ReplicaSet "${rsName}" has timed out progressing.` : `Deployment "${d.metadata?.name}" has timed out progressing.`;
        setCondition(status, newCondition(PROGRESSING, 'False', REASON.timedOut, msg, nowMs));
      }
    }
    const failure = replicaFailure(allRSs, newRS);
    if (failure) setCondition(status, failure);
    else removeCondition(status, REPLICA_FAILURE);

    if (semanticEqual(d.status, status)) {
      this.requeueStuckDeployment(w, status);
      return;
    }
    await this.writeStatus(w, status);
  }

  /** Looks again when the progress deadline would pass without progress. */
  private requeueStuckDeployment(w: Work, status: appsv1.DeploymentStatus): void {
    const d = w.d;
    const current = getCondition(d.status, PROGRESSING);
    if (!hasProgressDeadline(d) || !current) return;
    if (deploymentComplete(d, status) || current.reason === REASON.timedOut) return;
    const from = parseTime(current.lastUpdateTime);
    if (from === undefined) return;
    const after = from + progressDeadlineSeconds(d) * 1000 - this.ctx.clock.now();
    const key = keyOf(d);
    if (after < 1000) this.queue.addRateLimited(key);
    else this.queue.addAfter(key, after);
  }

  /** Sets the Progressing condition for paused and resumed Deployments. */
  private async checkPausedConditions(w: Work): Promise<void> {
    const d = w.d;
    if (!hasProgressDeadline(d)) return;
    const c = getCondition(d.status, PROGRESSING);
    if (c?.reason === REASON.timedOut) return;
    const pausedExists = c?.reason === REASON.paused;
    const status = deepCopy(d.status ?? {});
    const nowMs = this.ctx.clock.now();
    if (d.spec?.paused && !pausedExists) {
      setCondition(status, newCondition(PROGRESSING, 'Unknown', REASON.paused, 'Deployment is paused', nowMs));
    } else if (!d.spec?.paused && pausedExists) {
      setCondition(status, newCondition(PROGRESSING, 'Unknown', REASON.resumed, 'Deployment is resumed', nowMs));
    } else return;
    await this.writeStatus(w, status);
  }
}

/** The one active ReplicaSet, or the newest one when none is active; undefined when several are active. */
function findActiveOrLatest(newRS: ReplicaSet | undefined, oldRSs: ReplicaSet[]): ReplicaSet | undefined {
  if (!newRS && oldRSs.length === 0) return undefined;
  const newestFirst = [...oldRSs].sort((a, b) => byCreation(b, a));
  const active = filterActive([...newestFirst, newRS]);
  if (active.length === 0) return newRS ?? newestFirst[0];
  if (active.length === 1) return active[0];
  return undefined;
}

/** The replicas a ReplicaSet gains (or loses) when the Deployment is scaled by toAdd. */
function getProportion(rs: ReplicaSet, d: Deployment, toAdd: number, added: number): number {
  if (replicasOf(rs) === 0 || toAdd === 0 || toAdd === added) return 0;
  const fraction = replicaSetFraction(rs, d);
  const allowed = toAdd - added;
  return toAdd > 0 ? Math.min(fraction, allowed) : Math.max(fraction, allowed);
}

function replicaSetFraction(rs: ReplicaSet, d: Deployment): number {
  if (replicasOf(d) === 0) return -replicasOf(rs);
  const maxNow = replicasOf(d) + maxSurge(d);
  let maxBefore = maxReplicasAnnotation(rs) ?? 0;
  if (maxBefore === 0) {
    maxBefore = d.status?.replicas ?? 0;
    if (maxBefore === 0) return 0;
  }
  return Math.round((replicasOf(rs) * maxNow) / maxBefore) - replicasOf(rs);
}

/** Recreate waits until no pod of an old ReplicaSet is left running. */
function oldPodsRunning(newRS: ReplicaSet | undefined, oldRSs: ReplicaSet[], podMap: Map<string, Pod[]>): boolean {
  if (actualReplicaCount(oldRSs) > 0) return true;
  for (const [uid, pods] of podMap) {
    if (newRS && newRS.metadata?.uid === uid) continue;
    for (const pod of pods) {
      const phase = pod.status?.phase ?? '';
      if (phase !== 'Failed' && phase !== 'Succeeded') return true;
    }
  }
  return false;
}

/** The ReplicaFailure condition of the new ReplicaSet (or else of an old one), as a Deployment condition. */
function replicaFailure(allRSs: (ReplicaSet | undefined)[], newRS: ReplicaSet | undefined): appsv1.DeploymentCondition | undefined {
  const ordered = newRS ? [newRS, ...allRSs.filter((rs) => rs !== newRS)] : allRSs;
  for (const rs of ordered) {
    const c = rs?.status?.conditions?.find((x) => x.type === REPLICA_FAILURE && x.status === 'True');
    if (c) {
      return {
        type: REPLICA_FAILURE,
        status: c.status,
        reason: c.reason,
        message: c.message,
        lastTransitionTime: c.lastTransitionTime,
        lastUpdateTime: c.lastTransitionTime,
      };
    }
  }
  return undefined;
}
