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
interface SyncContext {
  deployment: Deployment;
  replicaSets: ReplicaSet[];
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
      onAdd: (deployment) => this.queue.add(keyOf(deployment)),
      onUpdate: (_o, deployment) => this.queue.add(keyOf(deployment)),
      onDelete: (deployment) => this.queue.add(keyOf(deployment)),
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
    const deployment = this.deployments.lister.get(ref.name ?? '', namespace);
    return deployment && deployment.metadata?.uid === ref.uid ? deployment : undefined;
  }

  private selecting(rs: ReplicaSet): Deployment[] {
    return this.deployments.lister.list({ namespace: rs.metadata?.namespace ?? '' }).filter((deployment) => {
      if (isEmptySelector(deployment.spec?.selector)) return false;
      try {
        return labelSelectorAsSelector(deployment.spec?.selector).matches(labelsOf(rs));
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
      const deployment = this.resolve(ns, oldRef);
      if (deployment) this.queue.add(keyOf(deployment));
    }
    if (ref) {
      const deployment = this.resolve(ns, ref);
      if (deployment) this.queue.add(keyOf(deployment));
      return;
    }
    const labelsChanged = !old || !semanticEqual(labelsOf(old), labelsOf(rs));
    if (labelsChanged || refChanged) for (const deployment of this.selecting(rs)) this.queue.add(keyOf(deployment));
  }

  private replicaSetDeleted(rs: ReplicaSet): void {
    const deployment = this.resolve(rs.metadata?.namespace ?? '', controllerOf(rs));
    if (deployment) this.queue.add(keyOf(deployment));
  }

  /** A Recreate rollout waits for the old pods to be gone: look again when one goes. */
  private podDeleted(pod: Pod): void {
    const ns = pod.metadata?.namespace ?? '';
    const ref = controllerOf(pod);
    if (ref?.kind !== 'ReplicaSet') return;
    const rs = this.replicaSets.lister.get(ref.name ?? '', ns);
    if (!rs || rs.metadata?.uid !== ref.uid) return;
    const deployment = this.resolve(ns, controllerOf(rs));
    if (deployment && !isRollingUpdate(deployment)) this.queue.add(keyOf(deployment));
  }

  private ref(deployment: Deployment): Deployment {
    return { ...deployment, ...CONTROLLER_KIND };
  }

  // ---- reconcile -------------------------------------------------------------------------

  async reconcile(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const cached = this.deployments.lister.get(name, namespace);
    if (!cached) return;
    const syncCtx: SyncContext = { deployment: deepCopy(cached), replicaSets: [] };
    if (isEmptySelector(syncCtx.deployment.spec?.selector)) {
      this.recorder.event(this.ref(syncCtx.deployment), 'Warning', 'SelectingAll', 'This deployment is selecting all pods. A non-empty selector is required.');
      if ((syncCtx.deployment.status?.observedGeneration ?? 0) < (syncCtx.deployment.metadata?.generation ?? 0)) {
        await this.writeStatus(syncCtx, { ...syncCtx.deployment.status, observedGeneration: syncCtx.deployment.metadata?.generation ?? 0 });
      }
      return;
    }
    let selector: LabelSelector;
    try {
      selector = labelSelectorAsSelector(syncCtx.deployment.spec?.selector);
    } catch (err) {
      this.recorder.event(this.ref(syncCtx.deployment), 'Warning', 'InvalidSelector', errorMessage(err));
      return;
    }
    syncCtx.replicaSets = await this.claimReplicaSets(syncCtx.deployment, selector);

    if (syncCtx.deployment.metadata?.deletionTimestamp) {
      await this.syncStatusOnly(syncCtx);
      return;
    }
    await this.checkPausedConditions(syncCtx);
    if (syncCtx.deployment.spec?.paused) {
      await this.sync(syncCtx);
      return;
    }
    if (await this.isScalingEvent(syncCtx)) {
      await this.sync(syncCtx);
      return;
    }
    if (isRollingUpdate(syncCtx.deployment)) await this.rolloutRolling(syncCtx);
    else await this.rolloutRecreate(syncCtx, this.podMap(syncCtx, selector));
  }

  /** Adopts matching orphan ReplicaSets, releases owned ones that stopped matching (util/controllerref.ts). */
  private async claimReplicaSets(deployment: Deployment, selector: LabelSelector): Promise<ReplicaSet[]> {
    const cs = this.ctx.clientset;
    const manager = new ControllerRefManager<ReplicaSet>({
      controller: deployment,
      controllerKind: CONTROLLER_KIND,
      selector,
      objectKind: 'ReplicaSet',
      objects: cs.replicaSets,
      canAdopt: recheckDeletionTimestamp(freshController(cs.deployments, deployment, CONTROLLER_KIND)),
    });
    const claimed = await manager.claim(this.replicaSets.lister.list({ namespace: deployment.metadata?.namespace ?? '' }));
    // Copies: the reconcile replaces its ReplicaSets as it writes them; the cache's are frozen.
    return claimed.map((rs) => deepCopy(rs));
  }

  /** The Deployment's pods by the uid of the ReplicaSet controlling them. */
  private podMap(syncCtx: SyncContext, selector: LabelSelector): Map<string, Pod[]> {
    const map = new Map<string, Pod[]>();
    for (const rs of syncCtx.replicaSets) map.set(rs.metadata?.uid ?? '', []);
    for (const pod of this.pods.lister.list({ namespace: syncCtx.deployment.metadata?.namespace ?? '' })) {
      if (!selector.matches(labelsOf(pod))) continue;
      const list = map.get(controllerOf(pod)?.uid ?? '');
      if (list) list.push(pod);
    }
    return map;
  }

  // ---- writes ----------------------------------------------------------------------------

  private async writeStatus(syncCtx: SyncContext, status: appsv1.DeploymentStatus): Promise<void> {
    const copy = deepCopy(syncCtx.deployment);
    copy.status = status;
    const out = await this.ctx.clientset.deployments.updateStatus(copy);
    syncCtx.deployment = { ...out, status: out.status ?? status };
  }

  /** Sets the Deployment's revision annotation (an update of its metadata). */
  private async writeRevision(syncCtx: SyncContext, revision: number): Promise<void> {
    if (revisionOf(syncCtx.deployment) === revision) return;
    const copy = deepCopy(syncCtx.deployment);
    copy.metadata = { ...copy.metadata, annotations: { ...copy.metadata?.annotations, [REVISION_ANNOTATION]: String(revision) } };
    const status = syncCtx.deployment.status;
    const out = await this.ctx.clientset.deployments.update(copy);
    syncCtx.deployment = { ...out, status };
  }

  private replaceRS(syncCtx: SyncContext, rs: ReplicaSet): ReplicaSet {
    const i = syncCtx.replicaSets.findIndex((x) => x.metadata?.uid === rs.metadata?.uid);
    if (i >= 0) syncCtx.replicaSets[i] = rs;
    else syncCtx.replicaSets.push(rs);
    return rs;
  }

  /** Sets a ReplicaSet's replicas (and replica annotations); records a scaling event. */
  private async scaleReplicaSet(syncCtx: SyncContext, rs: ReplicaSet, newScale: number, operation: string): Promise<{ scaled: boolean; rs: ReplicaSet }> {
    const desired = replicasOf(syncCtx.deployment);
    const max = desired + maxSurge(syncCtx.deployment);
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
    const updated = this.replaceRS(syncCtx, result);
    if (sizeNeedsUpdate) {
      this.recorder.event(
        this.ref(syncCtx.deployment),
        'Normal',
        'ScalingReplicaSet',
        `Scaled ${operation} replica set ${rs.metadata?.name} from ${oldScale} to ${newScale}`,
      );
    }
    return { scaled: sizeNeedsUpdate, rs: updated };
  }

  private async scaleAndRecord(syncCtx: SyncContext, rs: ReplicaSet, newScale: number): Promise<{ scaled: boolean; rs: ReplicaSet }> {
    if (replicasOf(rs) === newScale) return { scaled: false, rs };
    return this.scaleReplicaSet(syncCtx, rs, newScale, replicasOf(rs) > newScale ? 'down' : 'up');
  }

  // ---- new and old ReplicaSets, revisions -------------------------------------------------

  /**
   * The new ReplicaSet (running the current template) and the old ones, after bringing the
   * revisions up to date. With `create`, a missing new ReplicaSet is created.
   */
  private async getAllReplicaSetsAndSyncRevision(syncCtx: SyncContext, create: boolean): Promise<{ newRS?: ReplicaSet; oldRSs: ReplicaSet[] }> {
    const existing = this.findNewReplicaSet(syncCtx);
    const oldRSs = syncCtx.replicaSets.filter((rs) => rs !== existing);
    const newRS = await this.getNewReplicaSet(syncCtx, existing, oldRSs, create);
    return { newRS, oldRSs };
  }

  /**
   * The ReplicaSet whose template equals the Deployment's (ignoring the hash label). Failing
   * that, an owned ReplicaSet carrying the hash of the current template: it was made from
   * this template, so it must never be created twice even if a comparison disagrees.
   */
  private findNewReplicaSet(syncCtx: SyncContext): ReplicaSet | undefined {
    const sorted = [...syncCtx.replicaSets].sort(byCreation);
    const equal = sorted.find((rs) => equalIgnoreHash(rs.spec?.template, syncCtx.deployment.spec?.template));
    if (equal) return equal;
    const hash = computeHash(syncCtx.deployment.spec?.template, syncCtx.deployment.status?.collisionCount);
    return sorted.find((rs) => rs.spec?.template?.metadata?.labels?.[POD_TEMPLATE_HASH_LABEL] === hash);
  }

  private async getNewReplicaSet(syncCtx: SyncContext, existing: ReplicaSet | undefined, oldRSs: ReplicaSet[], create: boolean): Promise<ReplicaSet | undefined> {
    const deployment = syncCtx.deployment;
    const cs = this.ctx.clientset;
    const newRevision = maxRevision(oldRSs) + 1;
    if (existing) {
      const copy = deepCopy(existing);
      const annotationsUpdated = setNewReplicaSetAnnotations(deployment, copy, newRevision, true);
      const minReady = deployment.spec?.minReadySeconds ?? 0;
      if (annotationsUpdated || (copy.spec?.minReadySeconds ?? 0) !== minReady) {
        copy.spec = { ...copy.spec, minReadySeconds: minReady };
        return this.replaceRS(syncCtx, await cs.replicaSets.update(copy));
      }
      await this.writeRevision(syncCtx, revisionOf(copy));
      if (hasProgressDeadline(syncCtx.deployment) && !getCondition(syncCtx.deployment.status, PROGRESSING)) {
        const status = deepCopy(syncCtx.deployment.status ?? {});
        setCondition(status, newCondition(PROGRESSING, 'True', REASON.foundNewReplicaSet, `Found new replica set "${copy.metadata?.name}"`, this.ctx.clock.now()));
        await this.writeStatus(syncCtx, status);
      }
      return existing;
    }
    if (!create) return undefined;

    const template = deepCopy(deployment.spec?.template ?? {});
    const hash = computeHash(deployment.spec?.template, deployment.status?.collisionCount);
    template.metadata = { ...template.metadata, labels: { ...template.metadata?.labels, [POD_TEMPLATE_HASH_LABEL]: hash } };
    const selector = deepCopy(deployment.spec?.selector ?? {});
    selector.matchLabels = { ...selector.matchLabels, [POD_TEMPLATE_HASH_LABEL]: hash };
    const rs: ReplicaSet = {
      apiVersion: APPS_V1,
      kind: 'ReplicaSet',
      metadata: {
        name: `${deployment.metadata?.name}-${hash}`,
        namespace: deployment.metadata?.namespace,
        ownerReferences: [controllerRef(deployment, CONTROLLER_KIND)],
        labels: { ...template.metadata.labels },
      },
      spec: { replicas: 0, minReadySeconds: deployment.spec?.minReadySeconds ?? 0, selector, template },
    };
    const newReplicas = newRSNewReplicas(deployment, [...oldRSs, rs], rs);
    rs.spec!.replicas = newReplicas;
    setNewReplicaSetAnnotations(deployment, rs, newRevision, false);

    let created: ReplicaSet;
    let alreadyExisted = false;
    try {
      created = await cs.replicaSets.create(rs);
    } catch (err) {
      if (isAlreadyExists(err)) {
        // A slow cache, or a hash collision with a ReplicaSet that is not ours.
        const other = await cs.replicaSets.get(rs.metadata!.name!, { namespace: deployment.metadata?.namespace });
        if (controllerOf(other)?.uid === deployment.metadata?.uid && equalIgnoreHash(other.spec?.template, deployment.spec?.template)) {
          created = other;
          alreadyExisted = true;
        } else {
          const status = deepCopy(deployment.status ?? {});
          status.collisionCount = (status.collisionCount ?? 0) + 1;
          await this.writeStatus(syncCtx, status);
          throw err;
        }
      } else {
        const msg = `Failed to create new replica set "${rs.metadata?.name}": ${errorMessage(err)}`;
        if (hasProgressDeadline(deployment)) {
          const status = deepCopy(deployment.status ?? {});
          setCondition(status, newCondition(PROGRESSING, 'False', REASON.failedRSCreate, msg, this.ctx.clock.now()));
          await this.writeStatus(syncCtx, status).catch(() => undefined);
        }
        this.recorder.event(this.ref(deployment), 'Warning', REASON.failedRSCreate, msg);
        throw err;
      }
    }
    this.replaceRS(syncCtx, created);
    if (!alreadyExisted && newReplicas > 0) {
      this.recorder.event(this.ref(deployment), 'Normal', 'ScalingReplicaSet', `Scaled up replica set ${created.metadata?.name} from 0 to ${newReplicas}`);
    }
    await this.writeRevision(syncCtx, newRevision);
    if (!alreadyExisted && hasProgressDeadline(syncCtx.deployment)) {
      const status = deepCopy(syncCtx.deployment.status ?? {});
      setCondition(status, newCondition(PROGRESSING, 'True', REASON.newReplicaSet, `Created new replica set "${created.metadata?.name}"`, this.ctx.clock.now()));
      await this.writeStatus(syncCtx, status);
    }
    return created;
  }

  // ---- scaling (paused Deployments and changes of spec.replicas) ---------------------------

  /** A change of spec.replicas: some active ReplicaSet was sized for another replica count. */
  private async isScalingEvent(syncCtx: SyncContext): Promise<boolean> {
    const { newRS, oldRSs } = await this.getAllReplicaSetsAndSyncRevision(syncCtx, false);
    const replicas = replicasOf(syncCtx.deployment);
    for (const rs of filterActive([...oldRSs, newRS])) {
      const desired = desiredReplicasAnnotation(rs);
      if (desired !== undefined && desired !== replicas) return true;
    }
    return false;
  }

  private async sync(syncCtx: SyncContext): Promise<void> {
    const { newRS, oldRSs } = await this.getAllReplicaSetsAndSyncRevision(syncCtx, false);
    await this.scale(syncCtx, newRS, oldRSs);
    if (syncCtx.deployment.spec?.paused) await this.cleanupDeployment(syncCtx, oldRSs);
    await this.syncDeploymentStatus(syncCtx, [...oldRSs, newRS], newRS);
  }

  /**
   * Scales to spec.replicas: the only active ReplicaSet (or the newest) directly; during a
   * rolling update, each active ReplicaSet in proportion to its size (leftovers to the
   * largest), so that a rollout in progress keeps its shape.
   */
  private async scale(syncCtx: SyncContext, newRS: ReplicaSet | undefined, oldRSs: ReplicaSet[]): Promise<void> {
    const deployment = syncCtx.deployment;
    const replicas = replicasOf(deployment);
    const activeOrLatest = findActiveOrLatest(newRS, oldRSs);
    if (activeOrLatest) {
      if (replicasOf(activeOrLatest) !== replicas) await this.scaleAndRecord(syncCtx, activeOrLatest, replicas);
      return;
    }
    if (isSaturated(deployment, newRS)) {
      for (const old of filterActive(oldRSs)) await this.scaleAndRecord(syncCtx, old, 0);
      return;
    }
    if (!isRollingUpdate(deployment)) return;
    const allRSs = filterActive([...oldRSs, newRS]);
    const allowedSize = replicas > 0 ? replicas + maxSurge(deployment) : 0;
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
        const proportion = getProportion(rs, deployment, toAdd, added);
        sizes.set(rs, replicasOf(rs) + proportion);
        added += proportion;
      } else sizes.set(rs, replicasOf(rs));
    }
    for (let i = 0; i < allRSs.length; i++) {
      const rs = allRSs[i];
      if (i === 0 && toAdd !== 0) sizes.set(rs, Math.max(0, sizes.get(rs)! + (toAdd - added)));
      await this.scaleReplicaSet(syncCtx, rs, sizes.get(rs)!, operation);
    }
  }

  // ---- rollouts --------------------------------------------------------------------------

  private async rolloutRolling(syncCtx: SyncContext): Promise<void> {
    const { newRS, oldRSs } = await this.getAllReplicaSetsAndSyncRevision(syncCtx, true);
    const allRSs = [...oldRSs, newRS!];
    if (await this.reconcileNewReplicaSet(syncCtx, allRSs, newRS!)) {
      await this.syncRolloutStatus(syncCtx, allRSs, newRS);
      return;
    }
    if (await this.reconcileOldReplicaSets(syncCtx, allRSs, filterActive(oldRSs), newRS!)) {
      await this.syncRolloutStatus(syncCtx, allRSs, newRS);
      return;
    }
    if (deploymentComplete(syncCtx.deployment, syncCtx.deployment.status ?? {})) await this.cleanupDeployment(syncCtx, oldRSs);
    await this.syncRolloutStatus(syncCtx, allRSs, newRS);
  }

  /** Scales the new ReplicaSet up as far as maxSurge allows (or down to replicas). */
  private async reconcileNewReplicaSet(syncCtx: SyncContext, allRSs: ReplicaSet[], newRS: ReplicaSet): Promise<boolean> {
    const replicas = replicasOf(syncCtx.deployment);
    if (replicasOf(newRS) === replicas) return false;
    if (replicasOf(newRS) > replicas) return (await this.scaleAndRecord(syncCtx, newRS, replicas)).scaled;
    return (await this.scaleAndRecord(syncCtx, newRS, newRSNewReplicas(syncCtx.deployment, allRSs, newRS))).scaled;
  }

  /**
   * Scales old ReplicaSets down as far as maxUnavailable allows: first their unhealthy pods
   * (which count against availability anyway), then available ones, oldest ReplicaSet first.
   */
  private async reconcileOldReplicaSets(syncCtx: SyncContext, allRSs: ReplicaSet[], oldRSs: ReplicaSet[], newRS: ReplicaSet): Promise<boolean> {
    if (replicaCount(oldRSs) === 0) return false;
    const minAvailable = replicasOf(syncCtx.deployment) - maxUnavailable(syncCtx.deployment);
    const newRSUnavailable = Math.max(0, replicasOf(newRS) - (newRS.status?.availableReplicas ?? 0));
    const maxScaledDown = replicaCount(allRSs) - minAvailable - newRSUnavailable;
    if (maxScaledDown <= 0) return false;
    const { rss: cleaned, count: cleanedUp } = await this.cleanupUnhealthyReplicas(syncCtx, oldRSs, maxScaledDown);
    const scaledDown = await this.scaleDownOldForRollingUpdate(syncCtx, [...cleaned, newRS], cleaned);
    return cleanedUp + scaledDown > 0;
  }

  private async cleanupUnhealthyReplicas(syncCtx: SyncContext, oldRSs: ReplicaSet[], maxCleanup: number): Promise<{ rss: ReplicaSet[]; count: number }> {
    const rss = [...oldRSs].sort(byCreation);
    let total = 0;
    for (let i = 0; i < rss.length && total < maxCleanup; i++) {
      const rs = rss[i];
      const replicas = replicasOf(rs);
      const unhealthy = replicas - (rs.status?.availableReplicas ?? 0);
      if (replicas === 0 || unhealthy <= 0) continue;
      const count = Math.min(maxCleanup - total, unhealthy);
      rss[i] = (await this.scaleAndRecord(syncCtx, rs, replicas - count)).rs;
      total += count;
    }
    return { rss, count: total };
  }

  private async scaleDownOldForRollingUpdate(syncCtx: SyncContext, allRSs: ReplicaSet[], oldRSs: ReplicaSet[]): Promise<number> {
    const minAvailable = replicasOf(syncCtx.deployment) - maxUnavailable(syncCtx.deployment);
    const available = settledAvailableCount(allRSs);
    if (available <= minAvailable) return 0;
    const total = available - minAvailable;
    let scaled = 0;
    for (const rs of [...oldRSs].sort(byCreation)) {
      if (scaled >= total) break;
      const replicas = replicasOf(rs);
      if (replicas === 0) continue;
      const count = Math.min(replicas, total - scaled);
      await this.scaleAndRecord(syncCtx, rs, replicas - count);
      scaled += count;
    }
    return scaled;
  }

  private async rolloutRecreate(syncCtx: SyncContext, podMap: Map<string, Pod[]>): Promise<void> {
    let { newRS, oldRSs } = await this.getAllReplicaSetsAndSyncRevision(syncCtx, false);
    const active = filterActive(oldRSs);
    let scaledDown = false;
    for (const rs of active) if ((await this.scaleAndRecord(syncCtx, rs, 0)).scaled) scaledDown = true;
    if (scaledDown) {
      await this.syncRolloutStatus(syncCtx, [...oldRSs, newRS], newRS);
      return;
    }
    if (oldPodsRunning(newRS, oldRSs, podMap)) {
      await this.syncRolloutStatus(syncCtx, [...oldRSs, newRS], newRS);
      return;
    }
    if (!newRS) ({ newRS, oldRSs } = await this.getAllReplicaSetsAndSyncRevision(syncCtx, true));
    await this.scaleAndRecord(syncCtx, newRS!, replicasOf(syncCtx.deployment));
    if (deploymentComplete(syncCtx.deployment, syncCtx.deployment.status ?? {})) await this.cleanupDeployment(syncCtx, oldRSs);
    await this.syncRolloutStatus(syncCtx, [...oldRSs, newRS], newRS);
  }

  /** Deletes the oldest scaled-down ReplicaSets beyond revisionHistoryLimit (default 10). */
  private async cleanupDeployment(syncCtx: SyncContext, oldRSs: ReplicaSet[]): Promise<void> {
    const limit = syncCtx.deployment.spec?.revisionHistoryLimit ?? 10;
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

  private calculateStatus(syncCtx: SyncContext, allRSs: (ReplicaSet | undefined)[], newRS: ReplicaSet | undefined): appsv1.DeploymentStatus {
    const deployment = syncCtx.deployment;
    const available = availableReplicaCount(allRSs);
    const total = replicaCount(allRSs);
    const status: appsv1.DeploymentStatus = {
      observedGeneration: deployment.metadata?.generation ?? 0,
      replicas: actualReplicaCount(allRSs),
      updatedReplicas: actualReplicaCount([newRS]),
      readyReplicas: readyReplicaCount(allRSs),
      availableReplicas: available,
      unavailableReplicas: Math.max(0, total - available),
      conditions: deepCopy(deployment.status?.conditions ?? []),
    };
    if (deployment.status?.collisionCount !== undefined) status.collisionCount = deployment.status.collisionCount;
    const nowMs = this.ctx.clock.now();
    if (available >= replicasOf(deployment) - maxUnavailable(deployment)) {
      setCondition(status, newCondition(AVAILABLE, 'True', REASON.minimumReplicasAvailable, 'Deployment has minimum availability.', nowMs));
    } else {
      setCondition(status, newCondition(AVAILABLE, 'False', REASON.minimumReplicasUnavailable, 'Deployment does not have minimum availability.', nowMs));
    }
    return status;
  }

  private async syncStatusOnly(syncCtx: SyncContext): Promise<void> {
    const { newRS, oldRSs } = await this.getAllReplicaSetsAndSyncRevision(syncCtx, false);
    await this.syncDeploymentStatus(syncCtx, [...oldRSs, newRS], newRS);
  }

  private async syncDeploymentStatus(syncCtx: SyncContext, allRSs: (ReplicaSet | undefined)[], newRS: ReplicaSet | undefined): Promise<void> {
    const status = this.calculateStatus(syncCtx, allRSs, newRS);
    if (semanticEqual(syncCtx.deployment.status, status)) return;
    await this.writeStatus(syncCtx, status);
  }

  /** Status plus the Progressing condition (complete, progressing, or past its deadline). */
  private async syncRolloutStatus(syncCtx: SyncContext, allRSs: (ReplicaSet | undefined)[], newRS: ReplicaSet | undefined): Promise<void> {
    const deployment = syncCtx.deployment;
    const nowMs = this.ctx.clock.now();
    const status = this.calculateStatus(syncCtx, allRSs, newRS);
    if (!hasProgressDeadline(deployment)) removeCondition(status, PROGRESSING);
    const current = getCondition(deployment.status, PROGRESSING);
    const complete = status.replicas === status.updatedReplicas && current?.reason === REASON.newReplicaSetAvailable;
    if (hasProgressDeadline(deployment) && !complete) {
      const rsName = newRS?.metadata?.name;
      if (deploymentComplete(deployment, status)) {
        const msg = rsName ? `ReplicaSet "${rsName}" has successfully progressed.` : `Deployment "${deployment.metadata?.name}" has successfully progressed.`;
        setCondition(status, newCondition(PROGRESSING, 'True', REASON.newReplicaSetAvailable, msg, nowMs));
      } else if (deploymentProgressing(deployment, status)) {
        const msg = rsName ? `ReplicaSet "${rsName}" is progressing.` : `Deployment "${deployment.metadata?.name}" is progressing.`;
        const c = newCondition(PROGRESSING, 'True', REASON.replicaSetUpdated, msg, nowMs);
        // Progress moves lastUpdateTime even when the reason stays the same.
        const existing = getCondition(status, PROGRESSING);
        if (existing?.status === 'True') c.lastTransitionTime = existing.lastTransitionTime;
        removeCondition(status, PROGRESSING);
        setCondition(status, c);
      } else if (deploymentTimedOut(deployment, status, nowMs)) {
        const msg = rsName ? `ReplicaSet "${rsName}" has timed out progressing.` : `Deployment "${deployment.metadata?.name}" has timed out progressing.`;
        setCondition(status, newCondition(PROGRESSING, 'False', REASON.timedOut, msg, nowMs));
      }
    }
    const failure = replicaFailure(allRSs, newRS);
    if (failure) setCondition(status, failure);
    else removeCondition(status, REPLICA_FAILURE);

    if (semanticEqual(deployment.status, status)) {
      this.requeueStuckDeployment(syncCtx, status);
      return;
    }
    await this.writeStatus(syncCtx, status);
  }

  /** Looks again when the progress deadline would pass without progress. */
  private requeueStuckDeployment(syncCtx: SyncContext, status: appsv1.DeploymentStatus): void {
    const deployment = syncCtx.deployment;
    const current = getCondition(deployment.status, PROGRESSING);
    if (!hasProgressDeadline(deployment) || !current) return;
    if (deploymentComplete(deployment, status) || current.reason === REASON.timedOut) return;
    const from = parseTime(current.lastUpdateTime);
    if (from === undefined) return;
    const after = from + progressDeadlineSeconds(deployment) * 1000 - this.ctx.clock.now();
    const key = keyOf(deployment);
    if (after < 1000) this.queue.addRateLimited(key);
    else this.queue.addAfter(key, after);
  }

  /** Sets the Progressing condition for paused and resumed Deployments. */
  private async checkPausedConditions(syncCtx: SyncContext): Promise<void> {
    const deployment = syncCtx.deployment;
    if (!hasProgressDeadline(deployment)) return;
    const c = getCondition(deployment.status, PROGRESSING);
    if (c?.reason === REASON.timedOut) return;
    const pausedExists = c?.reason === REASON.paused;
    const status = deepCopy(deployment.status ?? {});
    const nowMs = this.ctx.clock.now();
    if (deployment.spec?.paused && !pausedExists) {
      setCondition(status, newCondition(PROGRESSING, 'Unknown', REASON.paused, 'Deployment is paused', nowMs));
    } else if (!deployment.spec?.paused && pausedExists) {
      setCondition(status, newCondition(PROGRESSING, 'Unknown', REASON.resumed, 'Deployment is resumed', nowMs));
    } else return;
    await this.writeStatus(syncCtx, status);
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
function getProportion(rs: ReplicaSet, deployment: Deployment, toAdd: number, added: number): number {
  if (replicasOf(rs) === 0 || toAdd === 0 || toAdd === added) return 0;
  const fraction = replicaSetFraction(rs, deployment);
  const allowed = toAdd - added;
  return toAdd > 0 ? Math.min(fraction, allowed) : Math.max(fraction, allowed);
}

function replicaSetFraction(rs: ReplicaSet, deployment: Deployment): number {
  if (replicasOf(deployment) === 0) return -replicasOf(rs);
  const maxNow = replicasOf(deployment) + maxSurge(deployment);
  let maxBefore = maxReplicasAnnotation(rs) ?? 0;
  if (maxBefore === 0) {
    maxBefore = deployment.status?.replicas ?? 0;
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
