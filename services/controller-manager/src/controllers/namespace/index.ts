// The namespace controller: when a namespace is deleted (deletionTimestamp set; the
// apiserver keeps it while spec.finalizers holds "kubernetes"), it marks it Terminating,
// deletes every object of every namespaced kind in it, and once nothing is left removes the
// "kubernetes" finalizer so that the apiserver removes the namespace. Objects that take time
// to go (pods in their grace period, objects with finalizers) are waited for by looking
// again after a delay; the namespace's conditions say what is left.
import type { corev1 } from '@k8ts/api';
import { type Informer, RESOURCES, type KubeObject, type WorkQueue, deepCopy, isConflict, isNotFound, keyOf } from '@k8ts/client';
import { BaseController, type ControllerContext } from '../../controller';
import { semanticEqual } from '../../util/canonical';
import { now, parseTime } from '../../util/time';

export const NAME = 'namespace';
/** The finalizer in spec.finalizers that this controller owns. */
export const NAMESPACE_FINALIZER = 'kubernetes';

export interface NamespaceOptions {
  /** Workers (--concurrent-namespace-syncs). Default 10. */
  workers?: number;
  /** How soon to look again while content is still going away. Default 2 s. */
  recheckMs?: number;
}

type Namespace = corev1.Namespace;

interface Cleanup {
  /** Objects still present, by resource. */
  remaining: Map<string, number>;
  /** Finalizers still present on remaining objects, by finalizer. */
  finalizers: Map<string, number>;
  failures: string[];
  /** The longest remaining grace period among pods being deleted, in ms. */
  estimateMs: number;
}

function errorMessage(err: unknown): string {
  return String((err as Error)?.message ?? err);
}

export class NamespaceController extends BaseController {
  readonly queue: WorkQueue;
  private readonly namespaces: Informer<Namespace>;
  private readonly recheckMs: number;

  constructor(ctx: ControllerContext, opts: NamespaceOptions = {}) {
    super(NAME, ctx);
    this.recheckMs = opts.recheckMs ?? 2000;
    this.namespaces = ctx.informers.informerFor('namespaces');
    this.queue = this.addLoop(NAME, opts.workers ?? 10, (key) => this.reconcile(key));
    const enqueue = (ns: Namespace) => {
      if (ns.metadata?.deletionTimestamp) this.queue.add(keyOf(ns));
    };
    this.namespaces.addEventHandler({ onAdd: enqueue, onUpdate: (_o, ns) => enqueue(ns) });
  }

  async reconcile(name: string): Promise<void> {
    const cached = this.namespaces.lister.get(name);
    if (!cached?.metadata?.deletionTimestamp) return;
    let ns = cached;
    if (ns.status?.phase !== 'Terminating') ns = await this.writeStatus(ns, { ...deepCopy(ns.status ?? {}), phase: 'Terminating' });

    const cleanup = await this.deleteContent(name);
    ns = await this.writeConditions(ns, cleanup);
    if (cleanup.failures.length > 0) throw new Error(`namespace ${name}: ${cleanup.failures.join('; ')}`);
    if (cleanup.remaining.size > 0) {
      const delay = cleanup.estimateMs > 0 ? Math.min(cleanup.estimateMs + 1000, 15_000) : this.recheckMs;
      this.logger.debug({ namespace: name, remaining: Object.fromEntries(cleanup.remaining), delayMs: delay }, 'namespace: content remaining');
      this.queue.addAfter(name, delay);
      return;
    }
    await this.removeFinalizer(name);
  }

  /** Deletes every object in the namespace; reports what is still there. */
  private async deleteContent(namespace: string): Promise<Cleanup> {
    const out: Cleanup = { remaining: new Map(), finalizers: new Map(), failures: [], estimateMs: 0 };
    const nowMs = this.ctx.clock.now();
    const note = (resource: string, obj: KubeObject) => {
      out.remaining.set(resource, (out.remaining.get(resource) ?? 0) + 1);
      for (const f of obj.metadata?.finalizers ?? []) out.finalizers.set(f, (out.finalizers.get(f) ?? 0) + 1);
      const until = parseTime(obj.metadata?.deletionTimestamp);
      if (until !== undefined && until > nowMs) out.estimateMs = Math.max(out.estimateMs, until - nowMs);
    };
    await Promise.all(
      RESOURCES.filter((r) => r.kind.namespaced).map(async (r) => {
        const client = this.ctx.clientset.forKind(r.kind);
        let items: KubeObject[];
        try {
          items = (await client.listAll({ namespace })).items;
        } catch (err) {
          out.failures.push(`listing ${r.kind.resource}: ${errorMessage(err)}`);
          return;
        }
        for (const obj of items) {
          if (obj.metadata?.deletionTimestamp) {
            note(r.kind.resource, obj);
            continue;
          }
          try {
            const last = await client.delete(obj.metadata?.name ?? '', {
              namespace,
              propagationPolicy: 'Background',
              preconditions: { uid: obj.metadata?.uid },
            });
            // Still there (graceful deletion or finalizers) when marked rather than removed.
            if (last?.metadata?.deletionTimestamp) note(r.kind.resource, last);
          } catch (err) {
            if (isNotFound(err)) continue;
            if (isConflict(err)) {
              // Replaced meanwhile: the next pass deletes the new one.
              note(r.kind.resource, obj);
              continue;
            }
            out.failures.push(`deleting ${r.kind.resource} ${obj.metadata?.name}: ${errorMessage(err)}`);
            note(r.kind.resource, obj);
          }
        }
      }),
    );
    return out;
  }

  private async writeStatus(ns: Namespace, status: corev1.NamespaceStatus): Promise<Namespace> {
    const copy = deepCopy(ns);
    copy.status = status;
    try {
      return await this.ctx.clientset.namespaces.updateStatus(copy);
    } catch (err) {
      if (isNotFound(err)) return ns;
      throw err;
    }
  }

  /** Kubernetes' deletion conditions: content remaining, finalizers remaining, failures. */
  private async writeConditions(ns: Namespace, c: Cleanup): Promise<Namespace> {
    const t = now(this.ctx.clock);
    const describe = (m: Map<string, number>, what: string) =>
      [...m].map(([k, n]) => `${k} has ${n} ${what}`).join(', ');
    const wanted: corev1.NamespaceCondition[] = [
      c.remaining.size > 0
        ? { type: 'NamespaceContentRemaining', status: 'True', reason: 'SomeResourcesRemain', message: `Some resources are remaining: ${describe(c.remaining, 'resource instances')}` }
        : { type: 'NamespaceContentRemaining', status: 'False', reason: 'ContentRemoved', message: 'All content successfully removed' },
      c.finalizers.size > 0
        ? { type: 'NamespaceFinalizersRemaining', status: 'True', reason: 'SomeFinalizersRemain', message: `Some content in the namespace has finalizers remaining: ${describe(c.finalizers, 'resource instances')}` }
        : { type: 'NamespaceFinalizersRemaining', status: 'False', reason: 'ContentHasNoFinalizers', message: 'All content-preserving finalizers finished' },
      c.failures.length > 0
        ? { type: 'NamespaceDeletionContentFailure', status: 'True', reason: 'ContentDeletionFailed', message: `Failed to delete all resource types: ${c.failures.join('; ')}` }
        : { type: 'NamespaceDeletionContentFailure', status: 'False', reason: 'ContentDeleted', message: 'All content successfully deleted, may be waiting on finalization' },
    ];
    const existing = ns.status?.conditions ?? [];
    const conditions = wanted.map((w) => {
      const old = existing.find((e) => e.type === w.type);
      const same = old && old.status === w.status && old.reason === w.reason && old.message === w.message;
      if (same) return old;
      return { ...w, lastTransitionTime: old && old.status === w.status ? old.lastTransitionTime : t };
    });
    const others = existing.filter((e) => !wanted.some((w) => w.type === e.type));
    const next = [...others, ...conditions];
    if (semanticEqual(existing, next)) return ns;
    return this.writeStatus(ns, { ...deepCopy(ns.status ?? {}), phase: 'Terminating', conditions: next });
  }

  /** Removes "kubernetes" from spec.finalizers; the apiserver then removes the namespace. */
  private async removeFinalizer(name: string): Promise<void> {
    const cs = this.ctx.clientset;
    for (let attempt = 0; ; attempt++) {
      let live: Namespace;
      try {
        live = await cs.namespaces.get(name);
      } catch (err) {
        if (isNotFound(err)) return;
        throw err;
      }
      const finalizers = live.spec?.finalizers ?? [];
      if (!finalizers.includes(NAMESPACE_FINALIZER)) return;
      const copy = deepCopy(live);
      copy.spec = { ...copy.spec, finalizers: finalizers.filter((f) => f !== NAMESPACE_FINALIZER) };
      try {
        await cs.namespaces.update(copy);
        this.logger.info({ namespace: name }, 'namespace: content deleted, finalizer removed');
        return;
      } catch (err) {
        if (isNotFound(err)) return;
        if (!isConflict(err) || attempt >= 3) throw err;
      }
    }
  }
}
