// The informer: list, then watch from the list's resource version, into a local indexed
// cache, telling handlers about every change in order. When the watch cannot continue
// (the version is too old: Gone; or the stream broke) it lists again, with backoff, and
// tells handlers the differences, so that they converge on the server's state.
import { Backoff } from './backoff';
import type { BackoffOptions } from './backoff';
import { Indexer, listerFor } from './cache';
import type { IndexFunc, Lister } from './cache';
import { realClock, sleep } from './clock';
import type { Clock } from './clock';
import { isGone, toStatusError } from './errors';
import { noopLogger } from './logger';
import type { Logger } from './logger';
import { deepFreeze, keyOf, resourceVersionOf } from './objects';
import type { KubeObject } from './objects';
import type { Clientset, ObjectList, ResourceClient, ResourceMember, SelectOptions } from './resources';
import type { Watch, WatchEvent } from './watch';

/**
 * Where an informer gets its objects: one page of a list, and a watch from a version. The
 * typed clients provide it through listWatchFor; tests provide in-memory fakes.
 */
export interface ListWatch<T> {
  list(opts: { limit?: number; continue?: string; resourceVersion?: string; signal?: AbortSignal }): Promise<ObjectList<T>>;
  watch(opts: { resourceVersion: string; allowWatchBookmarks: boolean; signal?: AbortSignal }): Watch<T>;
}

/** The ListWatch of a typed client, restricted to a namespace and selectors. */
export function listWatchFor<T extends KubeObject>(client: ResourceClient<T>, select: SelectOptions = {}): ListWatch<T> {
  return {
    list: (opts) => client.list({ ...select, ...opts }),
    watch: (opts) => client.watch({ ...select, ...opts }),
  };
}

/**
 * What an informer tells its handlers. Handlers run synchronously, in the order of the
 * changes; they should be quick (typically: put a key on a workqueue). The objects are the
 * cache's own, frozen: never change them.
 */
export interface EventHandlers<T> {
  onAdd?(obj: T): void;
  /** Also called with old === new for every object on each resync period. */
  onUpdate?(oldObj: T, newObj: T): void;
  /** The object's last known state. After a relist this may be older than its real last state. */
  onDelete?(obj: T): void;
}

export interface InformerOptions<T> {
  /** A name for log messages, e.g. 'pods'. */
  name?: string;
  /** Secondary indexes, besides the built-in 'namespace' index. */
  indexers?: Record<string, IndexFunc<T>>;
  /** Calls onUpdate(obj, obj) for every cached object this often. Default 0: never. */
  resyncPeriodMs?: number;
  /** Items per list page. Default 500. */
  pageSize?: number;
  /** The backoff between failed attempts. Default 200 ms doubling to 30 s, with jitter. */
  backoff?: BackoffOptions;
  /**
   * A watch that delivered no event counts as healthy (resetting the backoff) once it has
   * stayed open this long. Default 10 s.
   */
  healthyAfterMs?: number;
  /** Freeze cached objects so that mutating them throws. Default true. */
  freeze?: boolean;
  clock?: Clock;
  logger?: Logger;
}

/** An informer over one kind (optionally one namespace and selectors). */
export class Informer<T extends KubeObject> {
  /** The cache. Read it through `lister`; the informer alone writes it. */
  readonly indexer: Indexer<T>;
  readonly lister: Lister<T>;
  private handlers: EventHandlers<T>[] = [];
  private synced = false;
  private started = false;
  private stopped = false;
  private resourceVersion = '';
  private readonly abort = new AbortController();
  private syncWaiters: ((synced: boolean) => void)[] = [];
  private resyncTimer: unknown;
  private progress = false;
  private readonly name: string;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly backoff: Backoff;
  private done?: Promise<void>;

  constructor(
    private readonly lw: ListWatch<T>,
    private readonly opts: InformerOptions<T> = {},
  ) {
    this.indexer = new Indexer<T>(opts.indexers ?? {});
    this.lister = listerFor(this.indexer);
    this.name = opts.name ?? 'informer';
    this.clock = opts.clock ?? realClock;
    this.logger = opts.logger ?? noopLogger;
    this.backoff = new Backoff({ initialMs: 200, maxMs: 30_000, ...opts.backoff });
  }

  /**
   * Adds handlers; returns a function that removes them. Added after the first list, they
   * are told about every cached object with onAdd at once.
   */
  addEventHandler(handlers: EventHandlers<T>): () => void {
    const h = { ...handlers };
    this.handlers.push(h);
    if (this.synced) for (const obj of this.indexer.list()) this.call(h, 'onAdd', obj);
    return () => {
      this.handlers = this.handlers.filter((x) => x !== h);
    };
  }

  /** Adds indexes (allowed at any time; existing objects are indexed at once). */
  addIndexers(indexers: Record<string, IndexFunc<T>>): void {
    this.indexer.addIndexers(indexers);
  }

  /** Starts listing and watching in the background. Idempotent. `signal` stops the informer. */
  start(signal?: AbortSignal): void {
    if (this.started || this.stopped) return;
    this.started = true;
    signal?.addEventListener('abort', () => this.stop(), { once: true });
    if (signal?.aborted) {
      this.stop();
      return;
    }
    this.done = this.run();
    this.scheduleResync();
  }

  /** Stops the informer; the cache keeps its last state. Resolves once the loop has ended. */
  async stop(): Promise<void> {
    if (!this.stopped) {
      this.stopped = true;
      this.abort.abort();
      if (this.resyncTimer !== undefined) this.clock.clearTimeout(this.resyncTimer);
      for (const w of this.syncWaiters.splice(0)) w(false);
    }
    await this.done;
  }

  /** True once the first list has been stored and its objects handed to the handlers. */
  hasSynced(): boolean {
    return this.synced;
  }

  /** Resolves true once synced, or false if the informer stops (or `signal` aborts) first. */
  waitForSync(signal?: AbortSignal): Promise<boolean> {
    if (this.synced) return Promise.resolve(true);
    if (this.stopped || signal?.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const waiter = (ok: boolean) => {
        signal?.removeEventListener('abort', onAbort);
        resolve(ok);
      };
      const onAbort = () => {
        this.syncWaiters = this.syncWaiters.filter((w) => w !== waiter);
        resolve(false);
      };
      this.syncWaiters.push(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** The version the cache is current to (of the last list, event or bookmark). */
  lastSyncResourceVersion(): string {
    return this.resourceVersion;
  }

  private async run(): Promise<void> {
    let needList = true;
    while (!this.stopped) {
      this.progress = false;
      let failure: unknown;
      try {
        if (needList) {
          await this.listAndReplace();
          needList = false;
        }
        await this.watchOnce();
      } catch (err) {
        failure = err;
      }
      if (this.stopped) break;
      if (this.progress) this.backoff.reset();
      if (failure !== undefined) {
        // Gone: the version is too old; anything else: the stream or the list broke. Either
        // way the cache may have missed changes, so list again.
        needList = true;
        const err = toStatusError(failure);
        const fields = { informer: this.name, code: err.codeName, err: err.message };
        if (isGone(err)) this.logger.info(fields, 'informer: resource version too old, listing again');
        else this.logger.warn(fields, 'informer: list or watch failed, listing again');
      }
      const delay = this.progress ? 0 : this.backoff.next();
      if (delay > 0) await sleep(this.clock, delay, this.abort.signal);
    }
  }

  private async listAndReplace(): Promise<void> {
    const items: T[] = [];
    let resourceVersion = '';
    let token = '';
    let first = true;
    do {
      const page = await this.lw.list({ limit: this.opts.pageSize ?? 500, continue: token, signal: this.abort.signal });
      if (this.stopped) return;
      if (first) resourceVersion = page.resourceVersion;
      first = false;
      items.push(...page.items);
      token = page.continue;
    } while (token);
    this.replace(items, resourceVersion);
  }

  /** Makes the cache equal to a fresh list, telling handlers only what changed. */
  private replace(items: T[], resourceVersion: string): void {
    const seen = new Set<string>();
    for (const item of items) {
      const key = keyOf(item);
      seen.add(key);
      const old = this.indexer.get(key);
      if (old && resourceVersionOf(old) === resourceVersionOf(item) && resourceVersionOf(item) !== '') continue;
      const obj = this.store(key, item);
      if (old) this.notify('onUpdate', old, obj);
      else this.notify('onAdd', obj);
    }
    for (const key of this.indexer.keys()) {
      if (seen.has(key)) continue;
      const old = this.indexer.delete(key)!;
      this.notify('onDelete', old);
    }
    this.resourceVersion = resourceVersion;
    if (!this.synced) {
      this.synced = true;
      this.logger.debug({ informer: this.name, objects: items.length, resourceVersion }, 'informer: synced');
      for (const w of this.syncWaiters.splice(0)) w(true);
    }
  }

  private async watchOnce(): Promise<void> {
    const started = this.clock.now();
    const watch = this.lw.watch({ resourceVersion: this.resourceVersion, allowWatchBookmarks: true, signal: this.abort.signal });
    const onAbort = () => watch.stop();
    this.abort.signal.addEventListener('abort', onAbort, { once: true });
    try {
      for await (const event of watch) {
        if (this.stopped) break;
        this.progress = true;
        this.apply(event);
      }
    } finally {
      this.abort.signal.removeEventListener('abort', onAbort);
      watch.stop();
      if (this.clock.now() - started >= (this.opts.healthyAfterMs ?? 10_000)) this.progress = true;
    }
  }

  private apply(event: WatchEvent<T>): void {
    const rv = resourceVersionOf(event.object);
    if (event.type === 'BOOKMARK') {
      if (rv) this.resourceVersion = rv;
      return;
    }
    const key = keyOf(event.object);
    if (event.type === 'DELETED') {
      const old = this.indexer.delete(key);
      if (old) this.notify('onDelete', this.opts.freeze === false ? event.object : deepFreeze(event.object));
    } else {
      const old = this.indexer.get(key);
      const obj = this.store(key, event.object);
      if (old) this.notify('onUpdate', old, obj);
      else this.notify('onAdd', obj);
    }
    if (rv) this.resourceVersion = rv;
  }

  private store(key: string, obj: T): T {
    const stored = this.opts.freeze === false ? obj : deepFreeze(obj);
    this.indexer.set(key, stored);
    return stored;
  }

  private scheduleResync(): void {
    const period = this.opts.resyncPeriodMs ?? 0;
    if (period <= 0 || this.stopped) return;
    this.resyncTimer = this.clock.setTimeout(() => {
      if (this.stopped) return;
      if (this.synced) for (const obj of this.indexer.list()) this.notify('onUpdate', obj, obj);
      this.scheduleResync();
    }, period);
  }

  private notify(kind: 'onAdd' | 'onDelete', obj: T): void;
  private notify(kind: 'onUpdate', oldObj: T, newObj: T): void;
  private notify(kind: keyof EventHandlers<T>, a: T, b?: T): void {
    for (const h of this.handlers) this.call(h, kind, a, b);
  }

  private call(h: EventHandlers<T>, kind: keyof EventHandlers<T>, a: T, b?: T): void {
    try {
      if (kind === 'onUpdate') h.onUpdate?.(a, b as T);
      else h[kind]?.(a);
    } catch (err) {
      this.logger.error({ informer: this.name, handler: kind, err: String(err) }, 'informer: event handler threw');
    }
  }
}

/** The object type of a Clientset member: ObjectOf<'pods'> is corev1.Pod. */
export type ObjectOf<M extends ResourceMember> = Clientset[M] extends ResourceClient<infer T> ? T : never;

export interface InformerFactoryOptions {
  /** Default resync period of the informers it makes. Default 0: never. */
  resyncPeriodMs?: number;
  /** Only this namespace, for every namespaced kind. Default: all namespaces. */
  namespace?: string;
  clock?: Clock;
  logger?: Logger;
}

/**
 * Shares one informer per kind (and selection) among the controllers of a process, like
 * client-go's SharedInformerFactory: ask for informers, then start() them all and
 * waitForSync() before starting workers.
 */
export class InformerFactory {
  private readonly informers = new Map<string, Informer<any>>();
  private started = false;
  private signal?: AbortSignal;

  constructor(
    private readonly clientset: Clientset,
    private readonly opts: InformerFactoryOptions = {},
  ) {}

  /** The shared informer of a kind; the same selection always gives the same informer. */
  informerFor<M extends ResourceMember>(
    member: M,
    select: Omit<SelectOptions, 'namespace'> & { namespace?: string; indexers?: Record<string, IndexFunc<ObjectOf<M>>> } = {},
  ): Informer<ObjectOf<M>> {
    const client = this.clientset[member] as unknown as ResourceClient<ObjectOf<M>>;
    const namespace = client.kind.namespaced ? (select.namespace ?? this.opts.namespace ?? '') : '';
    const selection = { namespace, labelSelector: select.labelSelector ?? '', fieldSelector: select.fieldSelector ?? '' };
    const id = `${member}|${selection.namespace}|${selection.labelSelector}|${selection.fieldSelector}`;
    let informer = this.informers.get(id) as Informer<ObjectOf<M>> | undefined;
    if (!informer) {
      informer = new Informer<ObjectOf<M>>(listWatchFor(client, selection), {
        name: member,
        resyncPeriodMs: this.opts.resyncPeriodMs,
        clock: this.opts.clock,
        logger: this.opts.logger,
      });
      this.informers.set(id, informer);
      if (this.started) informer.start(this.signal);
    }
    for (const [name, fn] of Object.entries(select.indexers ?? {})) {
      // An index of the same name added earlier (by another controller) is kept.
      if (!informer.indexer.hasIndex(name)) informer.addIndexers({ [name]: fn });
    }
    return informer;
  }

  /** Starts every informer made so far, and those made later. */
  start(signal?: AbortSignal): void {
    this.started = true;
    this.signal = signal;
    for (const informer of this.informers.values()) informer.start(signal);
  }

  /** Resolves true when every informer has synced, false if one stops first. */
  async waitForSync(signal?: AbortSignal): Promise<boolean> {
    const results = await Promise.all([...this.informers.values()].map((i) => i.waitForSync(signal)));
    return results.every(Boolean);
  }

  /** Stops every informer. */
  async stop(): Promise<void> {
    await Promise.all([...this.informers.values()].map((i) => i.stop()));
  }
}
