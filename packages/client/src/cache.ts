// The local cache behind an informer: objects by key (`namespace/name`), secondary indexes
// computed by index functions, and the read-only Lister view that controllers use.
import { toLabelSelector } from '@k8ts/machinery';
import type { LabelSelector } from '@k8ts/machinery';
import { objectKey } from './objects';
import type { KubeObject } from './objects';

/** Computes the index values of an object (an object may have several, or none). */
export type IndexFunc<T> = (obj: T) => string[];

/** The name of the index every cache has: objects by metadata.namespace. */
export const NAMESPACE_INDEX = 'namespace';

/** Indexes objects by their namespace ('' for cluster-scoped objects). */
export const byNamespace: IndexFunc<KubeObject> = (obj) => [obj.metadata?.namespace ?? ''];

/** Indexes pods (or anything with spec.nodeName) by the node they are bound to; unbound ones by ''. */
export const byNodeName: IndexFunc<{ spec?: { nodeName?: string | undefined } | undefined }> = (obj) => [obj.spec?.nodeName ?? ''];

/** Objects by key plus secondary indexes. Not safe to mutate the objects it returns. */
export class Indexer<T extends KubeObject> {
  private readonly items = new Map<string, T>();
  private readonly indexers = new Map<string, IndexFunc<T>>();
  private readonly indices = new Map<string, Map<string, Set<string>>>();

  constructor(indexers: Record<string, IndexFunc<T>> = {}) {
    this.addIndexers({ [NAMESPACE_INDEX]: byNamespace, ...indexers });
  }

  /** Adds index functions; existing objects are indexed at once. An existing name is an error. */
  addIndexers(indexers: Record<string, IndexFunc<T>>): void {
    for (const [name, fn] of Object.entries(indexers)) {
      if (this.indexers.has(name)) throw new Error(`indexer "${name}" already exists`);
      this.indexers.set(name, fn);
      const index = new Map<string, Set<string>>();
      this.indices.set(name, index);
      for (const [key, obj] of this.items) this.indexAdd(index, fn, key, obj);
    }
  }

  /** True when an index of this name exists. */
  hasIndex(name: string): boolean {
    return this.indexers.has(name);
  }

  private indexAdd(index: Map<string, Set<string>>, fn: IndexFunc<T>, key: string, obj: T): void {
    for (const value of fn(obj)) {
      let keys = index.get(value);
      if (!keys) index.set(value, (keys = new Set()));
      keys.add(key);
    }
  }

  private indexRemove(index: Map<string, Set<string>>, fn: IndexFunc<T>, key: string, obj: T): void {
    for (const value of fn(obj)) {
      const keys = index.get(value);
      if (!keys) continue;
      keys.delete(key);
      if (keys.size === 0) index.delete(value);
    }
  }

  /** Stores an object under a key; returns the object it replaced. */
  set(key: string, obj: T): T | undefined {
    const old = this.items.get(key);
    for (const [name, fn] of this.indexers) {
      const index = this.indices.get(name)!;
      if (old) this.indexRemove(index, fn, key, old);
      this.indexAdd(index, fn, key, obj);
    }
    this.items.set(key, obj);
    return old;
  }

  /** Removes an object; returns it. */
  delete(key: string): T | undefined {
    const old = this.items.get(key);
    if (!old) return undefined;
    for (const [name, fn] of this.indexers) this.indexRemove(this.indices.get(name)!, fn, key, old);
    this.items.delete(key);
    return old;
  }

  get(key: string): T | undefined {
    return this.items.get(key);
  }

  has(key: string): boolean {
    return this.items.has(key);
  }

  get size(): number {
    return this.items.size;
  }

  keys(): string[] {
    return [...this.items.keys()];
  }

  list(): T[] {
    return [...this.items.values()];
  }

  entries(): IterableIterator<[string, T]> {
    return this.items.entries();
  }

  /** The objects whose index function returned `value`. Throws for an unknown index. */
  byIndex(indexName: string, value: string): T[] {
    return this.indexKeys(indexName, value).map((k) => this.items.get(k)!);
  }

  /** The keys of the objects whose index function returned `value`. */
  indexKeys(indexName: string, value: string): string[] {
    const index = this.indices.get(indexName);
    if (!index) throw new Error(`no index "${indexName}"`);
    return [...(index.get(value) ?? [])];
  }

  /** Every value the index currently holds. */
  indexValues(indexName: string): string[] {
    const index = this.indices.get(indexName);
    if (!index) throw new Error(`no index "${indexName}"`);
    return [...index.keys()];
  }
}

/**
 * Read access to an informer's cache. The objects are shared and frozen: never change them;
 * copy first (deepCopy) to build an update.
 */
export interface Lister<T extends KubeObject> {
  /** One object by name (and namespace, for namespaced kinds). */
  get(name: string, namespace?: string): T | undefined;
  /** One object by cache key: 'namespace/name' or 'name'. */
  getByKey(key: string): T | undefined;
  /**
   * The objects in a namespace (or all), optionally filtered by a label selector (for a
   * metav1.LabelSelector, pass labelSelectorAsSelector(spec.selector)).
   */
  list(opts?: { namespace?: string; labelSelector?: string | LabelSelector }): T[];
  /** The objects an index function mapped to `value`. */
  byIndex(indexName: string, value: string): T[];
}

/** A Lister over an Indexer. */
export function listerFor<T extends KubeObject>(indexer: Indexer<T>): Lister<T> {
  return {
    get: (name, namespace = '') => indexer.get(objectKey(namespace, name)),
    getByKey: (key) => indexer.get(key),
    list: (opts = {}) => {
      const objects = opts.namespace ? indexer.byIndex(NAMESPACE_INDEX, opts.namespace) : indexer.list();
      if (opts.labelSelector === undefined) return objects;
      const selector = toLabelSelector(opts.labelSelector);
      return objects.filter((o) => selector.matches(o.metadata?.labels));
    },
    byIndex: (indexName, value) => indexer.byIndex(indexName, value),
  };
}
