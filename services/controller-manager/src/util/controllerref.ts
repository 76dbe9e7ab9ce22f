// Owner references with controller=true, and claiming: a controller adopts the orphans its
// selector matches and releases the objects it owns that its selector no longer matches,
// as Kubernetes' ControllerRefManager does.
import type { metav1 } from '@k8ts/api';
import { isNotFound } from '@k8ts/client';
import type { KubeObject } from '@k8ts/client';

/** The owner reference with controller=true, if any. */
export function controllerOf(obj: KubeObject): metav1.OwnerReference | undefined {
  return obj.metadata?.ownerReferences?.find((r) => r.controller === true);
}

/** A controller reference to `owner`, blocking the owner's foreground deletion. */
export function controllerRef(owner: KubeObject, apiVersion: string, kind: string): metav1.OwnerReference {
  return {
    apiVersion,
    kind,
    name: owner.metadata?.name ?? '',
    uid: owner.metadata?.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}

export interface ClaimOptions<T extends KubeObject> {
  /** The claiming controller's object (a ReplicaSet, a Deployment). */
  owner: KubeObject;
  /** Whether the owner's selector matches an object. */
  matches(obj: T): boolean;
  /**
   * Checked once before the first adoption: throws when the owner must not adopt (it was
   * deleted, or replaced by another object of the same name). Reads the live object, not
   * the cache, as Kubernetes' RecheckDeletionTimestamp does.
   */
  canAdopt(): Promise<void>;
  /** Adds the owner's controller reference; returns the updated object. */
  adopt(obj: T): Promise<T>;
  /** Removes the owner's reference; returns the updated object. */
  release(obj: T): Promise<T>;
}

/**
 * The objects the owner controls after adopting and releasing. Objects owned by another
 * controller are skipped; objects that vanished meanwhile are skipped; other failures are
 * collected and thrown after every object was handled (the caller retries).
 */
export async function claimObjects<T extends KubeObject>(objects: T[], opts: ClaimOptions<T>): Promise<T[]> {
  const ownerUid = opts.owner.metadata?.uid;
  const ownerDeleting = !!opts.owner.metadata?.deletionTimestamp;
  const claimed: T[] = [];
  const errors: unknown[] = [];
  let adoptable: Promise<void> | undefined;
  for (const obj of objects) {
    const ref = controllerOf(obj);
    try {
      if (ref) {
        if (ref.uid !== ownerUid) continue;
        if (opts.matches(obj)) {
          claimed.push(obj);
          continue;
        }
        if (ownerDeleting) continue;
        await opts.release(obj);
        continue;
      }
      if (ownerDeleting || !opts.matches(obj) || obj.metadata?.deletionTimestamp) continue;
      if (opts.owner.metadata?.namespace && opts.owner.metadata.namespace !== obj.metadata?.namespace) continue;
      adoptable ??= opts.canAdopt();
      await adoptable;
      claimed.push(await opts.adopt(obj));
    } catch (err) {
      if (isNotFound(err)) continue;
      errors.push(err);
    }
  }
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new AggregateError(errors, errors.map((e) => String((e as Error)?.message ?? e)).join('; '));
  return claimed;
}

/** A copy of the object's owner references with the controller reference to `owner` added. */
export function withControllerRef(obj: KubeObject, ref: metav1.OwnerReference): metav1.OwnerReference[] {
  const refs = (obj.metadata?.ownerReferences ?? []).filter((r) => r.uid !== ref.uid);
  return [...refs, ref];
}

/** A copy of the object's owner references without those to `uid`. */
export function withoutOwner(obj: KubeObject, uid: string): metav1.OwnerReference[] {
  return (obj.metadata?.ownerReferences ?? []).filter((r) => r.uid !== uid);
}
