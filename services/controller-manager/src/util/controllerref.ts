// Controller references and claiming: the one ControllerRefManager of the ReplicaSet, Job and
// Deployment controllers (Kubernetes' pkg/controller/controller_ref_manager.go: ClaimObject,
// ClaimPods, ClaimReplicaSets, RecheckDeletionTimestamp).
//
// The rule, per object the controller's informer lists:
// - controlled by another controller: left alone;
// - controlled by this controller and matching its selector: claimed (even while the
//   controller is being deleted: keeping it takes no write);
// - controlled by this controller and no longer matching: released (its controller reference
//   removed), unless the controller is being deleted;
// - an orphan that matches, is not being deleted and lives in the controller's namespace:
//   adopted (the controller reference added), unless the controller is being deleted.
// Before the first adoption of a pass the manager asks `canAdopt`, at most once: a live
// (uncached) read of the controller that refuses when it is being deleted or when the name
// now belongs to another object (another uid). The cache may not show a deletion yet, and a
// controller being deleted must not take objects that the garbage collector would then
// delete with it (kubernetes/kubernetes#42639). When the check fails every adoption of the
// pass fails with it, and the caller retries the pass.
//
// Claiming never creates or deletes objects, so it runs on every pass whatever the
// controller's expectations say: only creations and deletions wait for them.
import type { metav1 } from '@k8ts/api';
import { type KubeObject, type LabelSelector, type ResourceClient, deepCopy, isNotFound } from '@k8ts/client';

/** The group/version and kind of a controller, as its controller references name them. */
export interface ControllerKind {
  apiVersion: string;
  kind: string;
}

/** What the manager needs of the claimed objects' client (clientset.pods, .replicaSets). */
export type ObjectWriter<T extends KubeObject> = Pick<ResourceClient<T>, 'update'>;

/** What the live check needs of the controller's own client (clientset.replicaSets, .jobs, ...). */
export type ObjectReader = Pick<ResourceClient<KubeObject>, 'get'>;

/** The owner reference with controller=true, if any. */
export function controllerOf(obj: KubeObject): metav1.OwnerReference | undefined {
  return obj.metadata?.ownerReferences?.find((r) => r.controller === true);
}

/** A controller reference to `owner`, blocking the owner's foreground deletion. */
export function controllerRef(owner: KubeObject, kind: ControllerKind): metav1.OwnerReference {
  return {
    apiVersion: kind.apiVersion,
    kind: kind.kind,
    name: owner.metadata?.name ?? '',
    uid: owner.metadata?.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** `namespace/name`, or `name` for cluster-scoped objects, for messages. */
function describe(obj: KubeObject): string {
  const ns = obj.metadata?.namespace;
  const name = obj.metadata?.name ?? '';
  return ns ? `${ns}/${name}` : name;
}

function messageOf(err: unknown): string {
  return String((err as Error)?.message ?? err);
}

/**
 * A `canAdopt` check (Kubernetes' RecheckDeletionTimestamp): reads the controller with
 * `getObject` and refuses when it is being deleted. Any failure of the read refuses too,
 * including NotFound (wrapped, so that it is not mistaken for the claimed object vanishing).
 */
export function recheckDeletionTimestamp(getObject: () => Promise<KubeObject>): () => Promise<void> {
  return async () => {
    let fresh: KubeObject;
    try {
      fresh = await getObject();
    } catch (err) {
      throw new Error(`can't recheck metadata.deletionTimestamp: ${messageOf(err)}`, { cause: err });
    }
    const deletedAt = fresh.metadata?.deletionTimestamp;
    if (deletedAt) throw new Error(`${describe(fresh)} has just been deleted (metadata.deletionTimestamp ${deletedAt})`);
  };
}

/**
 * Reads the controller live through its own client and fails when the name now belongs to
 * another object (metadata.uid changed): the `getObject` of recheckDeletionTimestamp.
 */
export function freshController(client: ObjectReader, controller: KubeObject, kind: ControllerKind): () => Promise<KubeObject> {
  return async () => {
    const fresh = await client.get(controller.metadata?.name ?? '', { namespace: controller.metadata?.namespace });
    const wanted = controller.metadata?.uid;
    if (fresh.metadata?.uid !== wanted) {
      throw new Error(`original ${kind.kind} ${describe(controller)} is gone: got metadata.uid ${fresh.metadata?.uid}, wanted ${wanted}`);
    }
    return fresh;
  };
}

export interface ControllerRefManagerOptions<T extends KubeObject> {
  /** The claiming controller's object as this pass sees it (a ReplicaSet, a Job, a Deployment). */
  controller: KubeObject;
  /** Its kind, for the controller references it writes. */
  controllerKind: ControllerKind;
  /** Its selector: which objects it wants. */
  selector: LabelSelector;
  /** The kind of the claimed objects ('Pod', 'ReplicaSet'), for messages. */
  objectKind: string;
  /** Writes the claimed objects. */
  objects: ObjectWriter<T>;
  /** Asked once, before the first adoption; throws to refuse (see recheckDeletionTimestamp). */
  canAdopt: () => Promise<void>;
  /**
   * Finalizers added with the controller reference on adoption and removed with it on release
   * (the Job controller's batch.kubernetes.io/job-tracking).
   */
  finalizers?: string[];
}

/**
 * Claims the objects of one controller for one pass. Make a new manager per pass: the
 * result of `canAdopt` is kept for the manager's lifetime.
 */
export class ControllerRefManager<T extends KubeObject> {
  private adoptable: Promise<void> | undefined;

  constructor(private readonly opts: ControllerRefManagerOptions<T>) {}

  /**
   * The objects the controller owns after adopting and releasing (an adopted object as
   * stored after the adoption). Every object is handled; failures are thrown afterwards, one
   * as is, several as an AggregateError. An object that vanished meanwhile is skipped.
   */
  async claim(objects: readonly T[]): Promise<T[]> {
    const claimed: T[] = [];
    const errors: unknown[] = [];
    for (const obj of objects) {
      try {
        const owned = await this.claimObject(obj);
        if (owned) claimed.push(owned);
      } catch (err) {
        errors.push(err);
      }
    }
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, errors.map(messageOf).join('; '));
    return claimed;
  }

  /** One object (Kubernetes' ClaimObject): the object when the controller owns it now, else undefined. */
  async claimObject(obj: T): Promise<T | undefined> {
    const ref = controllerOf(obj);
    if (!ref) return this.claimOrphan(obj);
    if (ref.uid !== this.opts.controller.metadata?.uid) return undefined;
    return this.claimOwned(obj);
  }

  /** Objects that no longer match are released (not while the controller is being deleted). */
  private async claimOwned(obj: T): Promise<T | undefined> {
    if (this.matches(obj)) return obj;
    if (!this.controllerDeleting()) await this.release(obj);
    return undefined;
  }

  private async claimOrphan(obj: T): Promise<T | undefined> {
    if (this.controllerDeleting() || !this.matches(obj)) return undefined;
    if (obj.metadata?.deletionTimestamp) return undefined;
    const ns = this.opts.controller.metadata?.namespace;
    if (ns && ns !== obj.metadata?.namespace) return undefined;
    try {
      return await this.adopt(obj);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** Asks `canAdopt` once per manager; later calls get the same answer. */
  canAdopt(): Promise<void> {
    this.adoptable ??= this.opts.canAdopt();
    return this.adoptable;
  }

  /**
   * Adds the controller reference (and the manager's finalizers); returns the object as
   * stored. The update carries the object's resourceVersion, so a stale copy conflicts.
   */
  async adopt(obj: T): Promise<T> {
    try {
      await this.canAdopt();
    } catch (err) {
      throw new Error(`can't adopt ${this.opts.objectKind} ${describe(obj)} (${obj.metadata?.uid}): ${messageOf(err)}`, { cause: err });
    }
    const copy = deepCopy(obj);
    const ref = controllerRef(this.opts.controller, this.opts.controllerKind);
    const others = (obj.metadata?.ownerReferences ?? []).filter((r) => r.uid !== ref.uid);
    copy.metadata = { ...copy.metadata, ownerReferences: [...others, ref] };
    const finalizers = this.opts.finalizers ?? [];
    if (finalizers.length > 0) {
      const current = obj.metadata?.finalizers ?? [];
      copy.metadata.finalizers = [...current, ...finalizers.filter((f) => !current.includes(f))];
    }
    return this.opts.objects.update(copy);
  }

  /** Removes every reference to the controller (and the manager's finalizers). An object already gone is fine. */
  async release(obj: T): Promise<void> {
    const uid = this.opts.controller.metadata?.uid;
    const copy = deepCopy(obj);
    copy.metadata = { ...copy.metadata, ownerReferences: (obj.metadata?.ownerReferences ?? []).filter((r) => r.uid !== uid) };
    const finalizers = this.opts.finalizers ?? [];
    if (finalizers.length > 0) copy.metadata.finalizers = (obj.metadata?.finalizers ?? []).filter((f) => !finalizers.includes(f));
    try {
      await this.opts.objects.update(copy);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  private matches(obj: T): boolean {
    return this.opts.selector.matches(obj.metadata?.labels ?? {});
  }

  private controllerDeleting(): boolean {
    return !!this.opts.controller.metadata?.deletionTimestamp;
  }
}
