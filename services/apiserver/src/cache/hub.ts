// The CacheHub owns the watch cache of every resource and the one change feed that fills
// them. At start it lists the whole /kubernetes.io/ prefix at one revision, then follows the
// feed from there; the revision it has applied everything up to is the apiserver's view of
// the store. A consistent read waits until that view has caught up with the store's current
// revision (asking the feed for a progress marker), so that two apiserver replicas serve the
// same state for the same request.
import type { Logger } from 'pino';
import { KINDS, type KindInfo } from '@k8ts/api';
import { STORAGE_PREFIX, isAllocationKey, parseObjectKey } from '@k8ts/machinery';
import { timeout } from '../errors';
import { decodeFromStore } from '../registry/codec';
import type { KV } from '../storage/kv';
import { prefixEnd } from '../storage/kv';
import { strategyFor } from '../strategies';
import type { ApiObject } from '../strategies/types';
import type { ChangeBatch, ChangeFeed } from './changefeed';
import { WatchCache, type WatchCacheOptions } from './watchcache';

interface Waiter {
  rev: number;
  resolve(): void;
}

export class CacheHub {
  readonly caches = new Map<string, WatchCache>();
  /** Allocation keys (service IPs, node ports) currently held, as last seen. */
  readonly allocated = new Set<string>();
  /** Everything up to this revision has been applied to every cache. */
  revision = 0;
  private synced = false;
  private stopped = false;
  private waiters: Waiter[] = [];
  private progressTimer?: NodeJS.Timeout;
  private restartTimer?: NodeJS.Timeout;
  private restartDelayMs = 100;
  /** Times the feed had to be restarted, and full relists (metrics). */
  restarts = 0;
  relists = 0;
  /**
   * Objects this apiserver just wrote, by key, with the revision of the write: when the feed
   * brings that change, the cache takes the object as it is instead of decoding the stored
   * JSON again (the decode is the costliest step of following the feed).
   */
  private readonly written = new Map<string, { rv: number; obj: ApiObject }>();

  constructor(
    private readonly kv: KV,
    private readonly feed: ChangeFeed,
    private readonly logger: Logger,
    opts: WatchCacheOptions,
  ) {
    for (const k of KINDS) this.caches.set(k.resource, new WatchCache(k, strategyFor(k.resource), opts));
  }

  cache(resource: string): WatchCache {
    const c = this.caches.get(resource);
    if (!c) throw new Error(`no watch cache for ${resource}`);
    return c;
  }

  /** The watch cache of the resource an object key belongs to (none for other keys). */
  private cacheOfKey(key: string): WatchCache | undefined {
    const resource = parseObjectKey(key)?.resource;
    return resource === undefined ? undefined : this.caches.get(resource);
  }

  get isSynced(): boolean {
    return this.synced;
  }

  /** Lists everything at one revision, fills the caches, and starts following the feed. */
  async start(): Promise<void> {
    const rev = await this.listAll();
    this.synced = true;
    this.startFeed(rev);
    this.logger.info({ revision: rev, feed: this.feed.name, objects: [...this.caches.values()].reduce((n, c) => n + c.size, 0) }, 'watch caches synced');
  }

  private async listAll(): Promise<number> {
    const end = prefixEnd(STORAGE_PREFIX);
    const byResource = new Map<string, { key: string; obj: ApiObject; rv: number }[]>();
    const allocated: string[] = [];
    let start = STORAGE_PREFIX;
    let rev = 0;
    for (;;) {
      const page = await this.kv.range(start, { end, limit: 1000, revision: rev });
      if (rev === 0) rev = page.revision;
      for (const kv of page.kvs) {
        if (isAllocationKey(kv.key)) {
          allocated.push(kv.key);
          continue;
        }
        const cache = this.cacheOfKey(kv.key);
        if (!cache) continue;
        const obj = this.decode(cache.kind, kv.key, kv.value, kv.modRevision);
        if (!obj) continue;
        let list = byResource.get(cache.kind.resource);
        if (!list) byResource.set(cache.kind.resource, (list = []));
        list.push({ key: kv.key, obj, rv: kv.modRevision });
      }
      if (!page.more || page.kvs.length === 0) break;
      start = `${page.kvs[page.kvs.length - 1].key}\0`;
    }
    for (const [res, cache] of this.caches) cache.reset(byResource.get(res) ?? [], rev);
    this.allocated.clear();
    for (const k of allocated) this.allocated.add(k);
    this.revision = rev;
    return rev;
  }

  /** Remembers an object just written at rv (never to be mutated afterwards). */
  remember(key: string, rv: number, obj: ApiObject): void {
    if (rv <= this.revision) return;
    if (this.written.size > 10_000) this.written.clear();
    this.written.set(key, { rv, obj });
  }

  private decode(kind: KindInfo, key: string, value: Buffer, rv: number): ApiObject | undefined {
    const w = this.written.get(key);
    if (w) {
      this.written.delete(key);
      if (w.rv === rv) return w.obj;
    }
    try {
      return decodeFromStore(kind, value, rv);
    } catch (err) {
      this.logger.error({ err, key }, 'cannot decode a stored object: skipped');
      return undefined;
    }
  }

  private startFeed(afterRevision: number): void {
    if (this.stopped) return;
    this.feed.start(afterRevision, {
      onBatch: (b) => this.onBatch(b),
      onError: (err, compacted) => this.onFeedError(err, compacted),
    });
  }

  private onBatch(b: ChangeBatch): void {
    this.restartDelayMs = 100;
    for (const e of b.events) {
      // Already applied (a feed restarted from an earlier point): skip.
      if (e.revision <= this.revision) continue;
      if (isAllocationKey(e.key)) {
        if (e.type === 'PUT') this.allocated.add(e.key);
        else this.allocated.delete(e.key);
        continue;
      }
      const cache = this.cacheOfKey(e.key);
      if (!cache) continue;
      const obj = e.type === 'PUT' && e.value ? this.decode(cache.kind, e.key, e.value, e.revision) : undefined;
      if (e.type === 'PUT' && !obj) continue;
      cache.apply(e.key, obj, e.revision);
    }
    if (b.revision > this.revision) {
      this.revision = b.revision;
      for (const c of this.caches.values()) c.advance(b.revision);
    }
    this.wake();
  }

  private onFeedError(err: Error, compacted: boolean): void {
    if (this.stopped) return;
    this.restarts++;
    this.logger.warn({ err: err.message, compacted, revision: this.revision }, compacted ? 'change feed lost its place: listing again' : 'change feed failed: restarting');
    const delay = this.restartDelayMs;
    this.restartDelayMs = Math.min(this.restartDelayMs * 2, 5000);
    clearTimeout(this.restartTimer);
    this.restartTimer = setTimeout(() => {
      if (this.stopped) return;
      if (!compacted) {
        this.startFeed(this.revision);
        return;
      }
      this.relists++;
      this.listAll().then(
        (rev) => {
          this.startFeed(rev);
          this.wake();
        },
        (e: Error) => this.onFeedError(e, true),
      );
    }, delay);
  }

  private wake(): void {
    if (this.waiters.length === 0) return;
    const still: Waiter[] = [];
    for (const w of this.waiters) {
      if (this.revision >= w.rev) w.resolve();
      else still.push(w);
    }
    this.waiters = still;
    if (still.length === 0 && this.progressTimer) {
      clearInterval(this.progressTimer);
      this.progressTimer = undefined;
    }
  }

  /** Resolves once every change up to `rev` has been applied; fails with a Timeout after timeoutMs. */
  waitFor(rev: number, timeoutMs = 3000): Promise<void> {
    if (this.revision >= rev) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(timeout(`Timeout: Too large resource version: ${rev}, current: ${this.revision}`));
      }, timeoutMs);
      const waiter: Waiter = {
        rev,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      this.waiters.push(waiter);
      this.feed.requestProgress();
      this.progressTimer ??= setInterval(() => this.feed.requestProgress(), 100);
    });
  }

  /** The store's current revision (a cheap read). */
  async storeRevision(): Promise<number> {
    return (await this.kv.range(`${STORAGE_PREFIX}`, { countOnly: true })).revision;
  }

  /** Waits until the caches reflect the store as it is now: a consistent read. */
  async sync(timeoutMs = 3000): Promise<number> {
    const rev = await this.storeRevision();
    await this.waitFor(rev, timeoutMs);
    return this.revision;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.restartTimer);
    if (this.progressTimer) clearInterval(this.progressTimer);
    await this.feed.stop();
    for (const c of this.caches.values()) c.closeAll();
  }
}
