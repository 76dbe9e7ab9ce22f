// The garbage collector: follows every object's ownerReferences across all kinds (one
// informer per kind, one graph) and applies the propagation policy recorded at deletion:
//   - Background: the owner is gone at once; its dependents, whose owners are all gone, are
//     deleted (each with the policy its own finalizers say, Background by default).
//   - Foreground: the owner has deletionTimestamp and the foregroundDeletion finalizer; its
//     dependents are deleted (in the foreground themselves when they have dependents), and
//     once no dependent with blockOwnerDeletion is left the finalizer is removed, so the
//     apiserver removes the owner.
//   - Orphan: the owner has deletionTimestamp and the orphan finalizer; its reference is
//     removed from every dependent, then the finalizer.
// Two queues, keyed by uid: attemptToDelete (is this object garbage? is this foreground
// deletion done?) and attemptToOrphan. Before deleting anything the collector reads the
// owners from the apiserver, never trusting the graph alone: an owner the cache has not seen
// yet is not mistaken for a missing one.
import { KINDS, type KindInfo, type metav1 } from '@k8ts/api';
import { type Informer, type KubeObject, type ResourceMember, RESOURCES, type WorkQueue, deepCopy, isConflict, isNotFound } from '@k8ts/client';
import { BaseController, type ControllerContext } from '../../controller';
import { semanticEqual } from '../../util/canonical';
import { FOREGROUND_FINALIZER, Graph, GraphNode, type Identity, ORPHAN_FINALIZER } from './graph';

export { Graph, GraphNode, FOREGROUND_FINALIZER, ORPHAN_FINALIZER } from './graph';
export type { Identity } from './graph';

export const NAME = 'garbagecollector';

export interface GarbageCollectorOptions {
  /** Workers for attemptToDelete (--concurrent-gc-syncs). Default 20. */
  workers?: number;
  /** Kinds (resource names) not followed. Default: events. */
  ignoredResources?: string[];
}

/** The kind an owner reference names, by kind and API group; undefined when k8ts does not serve it. */
export function kindOfReference(ref: { apiVersion?: string; kind?: string }): KindInfo | undefined {
  const apiVersion = ref.apiVersion ?? '';
  const group = apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '';
  return KINDS.find((k) => k.kind === ref.kind && k.group === group);
}

function errorMessage(err: unknown): string {
  return String((err as Error)?.message ?? err);
}

/** Thrown when an object's kind is not served: nothing can be decided about it. */
class UnknownKind extends Error {}

export class GarbageCollector extends BaseController {
  readonly graph = new Graph();
  readonly deleteQueue: WorkQueue;
  readonly orphanQueue: WorkQueue;
  /** Owners known to be gone (uids are never reused). */
  private readonly absent = new Set<string>();

  constructor(ctx: ControllerContext, opts: GarbageCollectorOptions = {}) {
    super(NAME, ctx);
    this.deleteQueue = this.addLoop(`${NAME}-delete`, opts.workers ?? 20, (uid) => this.attemptToDelete(uid));
    this.orphanQueue = this.addLoop(`${NAME}-orphan`, Math.max(1, Math.floor((opts.workers ?? 20) / 4)), (uid) => this.attemptToOrphan(uid));
    const ignored = new Set(opts.ignoredResources ?? ['events']);
    for (const r of RESOURCES) {
      if (ignored.has(r.kind.resource)) continue;
      const informer = ctx.informers.informerFor(r.member as ResourceMember) as unknown as Informer<KubeObject>;
      const kind = r.kind;
      informer.addEventHandler({
        onAdd: (obj) => this.observe(kind, obj),
        onUpdate: (_old, obj) => this.observe(kind, obj),
        onDelete: (obj) => this.forget(obj.metadata?.uid ?? '', false),
      });
    }
  }

  // ---- the graph -------------------------------------------------------------------------

  /** Adds or updates the node of an observed object (GraphBuilder.processGraphChanges). */
  private observe(kind: KindInfo, obj: KubeObject): void {
    const m = obj.metadata;
    const uid = m?.uid ?? '';
    if (!uid) return;
    const identity: Identity = { apiVersion: kind.apiVersion, kind: kind.kind, namespace: m?.namespace ?? '', name: m?.name ?? '', uid };
    const owners = deepCopy(m?.ownerReferences ?? []);
    let node = this.graph.get(uid);
    const wasDeletingDependents = node?.deletingDependents ?? false;
    const wasOrphaning = node?.orphaningDependents ?? false;
    if (!node) {
      node = new GraphNode(identity);
      node.owners = owners;
      this.graph.set(node);
      this.addToOwners(node, owners);
    } else {
      if (node.virtual) {
        node.virtual = false;
        node.identity = identity;
      }
      if (!semanticEqual(node.owners, owners)) {
        const before = node.owners;
        const removed = before.filter((o) => !owners.some((n) => n.uid === o.uid));
        const added = owners.filter((n) => !before.some((o) => o.uid === n.uid));
        // An owner waiting for its dependents may have been waiting for this one.
        const unblocked = [
          ...removed,
          ...owners.filter((n) => before.some((o) => o.uid === n.uid && o.blockOwnerDeletion === true && n.blockOwnerDeletion !== true)),
        ];
        for (const o of unblocked) {
          const owner = this.graph.get(o.uid ?? '');
          if (owner?.deletingDependents) this.deleteQueue.add(owner.uid);
        }
        for (const o of removed) this.graph.get(o.uid ?? '')?.dependents.delete(node);
        node.owners = owners;
        this.addToOwners(node, added);
      }
    }
    node.beingDeleted = !!m?.deletionTimestamp;
    node.finalizers = [...(m?.finalizers ?? [])];
    // Transitions: an orphaning or foreground deletion starts (also seen as new after a restart).
    if (node.orphaningDependents && !wasOrphaning) this.orphanQueue.add(uid);
    if (node.deletingDependents && !wasDeletingDependents) {
      for (const dep of node.dependents) this.deleteQueue.add(dep.uid);
      this.deleteQueue.add(uid);
    }
  }

  /** Links a node to its owners, making virtual nodes for owners not seen yet. */
  private addToOwners(node: GraphNode, owners: metav1.OwnerReference[]): void {
    for (const ref of owners) {
      const uid = ref.uid ?? '';
      if (!uid) continue;
      let owner = this.graph.get(uid);
      if (!owner) {
        const k = kindOfReference(ref);
        owner = new GraphNode({
          apiVersion: ref.apiVersion ?? '',
          kind: ref.kind ?? '',
          name: ref.name ?? '',
          uid,
          namespace: k && !k.namespaced ? '' : node.identity.namespace,
        });
        owner.virtual = true;
        this.graph.set(owner);
        // Is it there at all?
        this.deleteQueue.add(uid);
      }
      owner.dependents.add(node);
      // A dependent that appears while its owner waits for its dependents must go too.
      if (owner.deletingDependents) this.deleteQueue.add(node.uid);
    }
  }

  /** Removes a node (its object is gone); its dependents and waiting owners are looked at again. */
  private forget(uid: string, verifiedAbsent: boolean): void {
    const node = this.graph.get(uid);
    if (!node) return;
    this.graph.delete(uid);
    for (const o of node.owners) this.graph.get(o.uid ?? '')?.dependents.delete(node);
    if (node.dependents.size > 0 || verifiedAbsent) this.absent.add(uid);
    for (const dep of node.dependents) this.deleteQueue.add(dep.uid);
    for (const o of node.owners) {
      const owner = this.graph.get(o.uid ?? '');
      if (owner?.deletingDependents) this.deleteQueue.add(owner.uid);
    }
  }

  // ---- API access ------------------------------------------------------------------------

  private clientFor(identity: { apiVersion: string; kind: string }) {
    const kind = kindOfReference(identity);
    if (!kind) throw new UnknownKind(`unknown kind ${identity.apiVersion}/${identity.kind}`);
    return { kind, client: this.ctx.clientset.forKind(kind) };
  }

  /** The live object, or undefined when it is gone (or replaced: another uid). */
  private async getLive(identity: Identity): Promise<KubeObject | undefined> {
    const { kind, client } = this.clientFor(identity);
    try {
      const obj = await client.get(identity.name, { namespace: kind.namespaced ? identity.namespace : undefined });
      return obj.metadata?.uid === identity.uid ? obj : undefined;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  private async deleteObject(identity: Identity, policy: 'Background' | 'Foreground' | 'Orphan'): Promise<void> {
    const { kind, client } = this.clientFor(identity);
    try {
      await client.delete(identity.name, {
        namespace: kind.namespaced ? identity.namespace : undefined,
        propagationPolicy: policy,
        preconditions: { uid: identity.uid },
      });
      this.logger.debug({ object: identity, policy }, 'garbagecollector: deleted');
    } catch (err) {
      // Gone already, or replaced by another object of the same name: nothing to do.
      if (isNotFound(err) || isConflict(err)) return;
      throw err;
    }
  }

  /** Reads, changes and writes an object, retrying on conflicts. */
  private async modify(identity: Identity, change: (obj: KubeObject) => boolean): Promise<void> {
    const { client } = this.clientFor(identity);
    for (let attempt = 0; ; attempt++) {
      const live = await this.getLive(identity);
      if (!live) return;
      const copy = deepCopy(live);
      if (!change(copy)) return;
      try {
        await client.update(copy);
        return;
      } catch (err) {
        if (isNotFound(err)) return;
        if (!isConflict(err) || attempt >= 5) throw err;
      }
    }
  }

  private removeFinalizer(identity: Identity, finalizer: string): Promise<void> {
    return this.modify(identity, (obj) => {
      const finalizers = obj.metadata?.finalizers ?? [];
      if (!finalizers.includes(finalizer)) return false;
      obj.metadata = { ...obj.metadata, finalizers: finalizers.filter((f) => f !== finalizer) };
      return true;
    });
  }

  private removeOwnerReferences(identity: Identity, uids: string[]): Promise<void> {
    return this.modify(identity, (obj) => {
      const refs = obj.metadata?.ownerReferences ?? [];
      const kept = refs.filter((r) => !uids.includes(r.uid ?? ''));
      if (kept.length === refs.length) return false;
      obj.metadata = { ...obj.metadata, ownerReferences: kept };
      return true;
    });
  }

  // ---- attemptToDelete -------------------------------------------------------------------

  async attemptToDelete(uid: string): Promise<void> {
    const node = this.graph.get(uid);
    if (!node) return;
    if (node.beingDeleted && !node.deletingDependents) return;
    let latest: KubeObject | undefined;
    try {
      latest = await this.getLive(node.identity);
    } catch (err) {
      if (err instanceof UnknownKind) {
        this.logger.debug({ object: node.identity }, 'garbagecollector: owner of a kind k8ts does not serve; left alone');
        return;
      }
      throw err;
    }
    if (!latest) {
      // Verified gone (a "virtual delete", or an informer that has not caught up): the node
      // goes and its dependents are looked at.
      this.forget(uid, true);
      return;
    }
    if (node.deletingDependents) {
      await this.processDeletingDependents(node);
      return;
    }
    const refs = latest.metadata?.ownerReferences ?? [];
    if (refs.length === 0) return;
    const { solid, dangling, waiting } = await this.classify(node, refs);
    if (solid.length > 0) {
      if (dangling.length === 0 && waiting.length === 0) return;
      // Keep the object, drop references to owners that are gone or going.
      await this.removeOwnerReferences(node.identity, [...dangling, ...waiting].map((r) => r.uid ?? ''));
      return;
    }
    if (waiting.length > 0 && node.dependents.size > 0) {
      // An owner is being deleted in the foreground and this object has dependents of its own:
      // delete it in the foreground too. A dependent itself waiting for its dependents would
      // make a cycle: stop blocking the owner then.
      if ([...node.dependents].some((d) => d.deletingDependents)) {
        await this.modify(node.identity, (obj) => {
          const refs2 = obj.metadata?.ownerReferences ?? [];
          if (!refs2.some((r) => r.blockOwnerDeletion === true)) return false;
          obj.metadata = { ...obj.metadata, ownerReferences: refs2.map((r) => ({ ...r, blockOwnerDeletion: false })) };
          return true;
        });
      }
      await this.deleteObject(node.identity, 'Foreground');
      return;
    }
    // No owner left to keep it: garbage. Delete with the policy its own finalizers ask for.
    const finalizers = latest.metadata?.finalizers ?? [];
    const policy = finalizers.includes(ORPHAN_FINALIZER) ? 'Orphan' : finalizers.includes(FOREGROUND_FINALIZER) ? 'Foreground' : 'Background';
    this.logger.info({ object: node.identity, policy }, 'garbagecollector: deleting object whose owners are gone');
    await this.deleteObject(node.identity, policy);
  }

  /** Sorts owner references into solid (owner exists), dangling (gone) and waiting (owner deleting in the foreground). */
  private async classify(node: GraphNode, refs: metav1.OwnerReference[]) {
    const solid: metav1.OwnerReference[] = [];
    const dangling: metav1.OwnerReference[] = [];
    const waiting: metav1.OwnerReference[] = [];
    for (const ref of refs) {
      const uid = ref.uid ?? '';
      if (this.absent.has(uid)) {
        dangling.push(ref);
        continue;
      }
      const kind = kindOfReference(ref);
      if (!kind) {
        // An owner of a kind k8ts does not serve cannot be checked: assume it exists.
        solid.push(ref);
        continue;
      }
      if (kind.namespaced && !node.identity.namespace) {
        // A cluster-scoped object cannot be owned by a namespaced one.
        dangling.push(ref);
        continue;
      }
      const owner = await this.getLive({
        apiVersion: ref.apiVersion ?? '',
        kind: ref.kind ?? '',
        name: ref.name ?? '',
        uid,
        namespace: kind.namespaced ? node.identity.namespace : '',
      });
      if (!owner) {
        this.absent.add(uid);
        if (this.absent.size > 100_000) this.absent.clear();
        dangling.push(ref);
      } else if (owner.metadata?.deletionTimestamp && (owner.metadata.finalizers ?? []).includes(FOREGROUND_FINALIZER)) {
        waiting.push(ref);
      } else solid.push(ref);
    }
    return { solid, dangling, waiting };
  }

  /** A foreground deletion: done when no blocking dependent is left; else push them along. */
  private async processDeletingDependents(node: GraphNode): Promise<void> {
    const blocking = node.blockingDependents();
    if (blocking.length === 0) {
      this.logger.info({ object: node.identity }, 'garbagecollector: dependents gone, finishing foreground deletion');
      await this.removeFinalizer(node.identity, FOREGROUND_FINALIZER);
      return;
    }
    for (const dep of blocking) if (!dep.deletingDependents) this.deleteQueue.add(dep.uid);
  }

  // ---- attemptToOrphan -------------------------------------------------------------------

  async attemptToOrphan(uid: string): Promise<void> {
    const owner = this.graph.get(uid);
    if (!owner) return;
    const errors: unknown[] = [];
    await Promise.all(
      [...owner.dependents].map(async (dep) => {
        try {
          await this.removeOwnerReferences(dep.identity, [uid]);
        } catch (err) {
          if (!(err instanceof UnknownKind)) errors.push(err);
        }
      }),
    );
    if (errors.length > 0) throw new Error(`orphaning the dependents of ${owner.identity.kind} ${owner.identity.name}: ${errorMessage(errors[0])}`);
    this.logger.info({ object: owner.identity }, 'garbagecollector: dependents orphaned');
    await this.removeFinalizer(owner.identity, ORPHAN_FINALIZER);
  }
}
