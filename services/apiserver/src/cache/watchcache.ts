// The watch cache of one resource: the current objects (decoded once, never mutated), and a
// window of recent events from which a Watch can resume. It is fed, in revision order, by
// the CacheHub from the change feed, and it fans events out to its watchers, each filtered by
// namespace, label and field selectors (an object moving out of a watcher's selection is
// sent as DELETED, into it as ADDED). Every response a watcher sends is assembled from the
// object's protobuf bytes, encoded once per object version.
import { type KindInfo, metav1 } from '@k8ts/api';
import { type FieldSelector, type LabelSelector, resourcePrefix } from '@k8ts/machinery';
import { gone } from '../errors';
import { encodeProto } from '../registry/codec';
import type { ApiObject, Strategy } from '../strategies/types';
import { clone, compareKeys } from '../util';
import { encodeWatchEvent } from './wire';

const { WATCH_EVENT_TYPE_ADDED: ADDED, WATCH_EVENT_TYPE_MODIFIED: MODIFIED, WATCH_EVENT_TYPE_DELETED: DELETED } = metav1.WatchEventType;

/** One cached object version. */
export class Entry {
  private _fields?: Record<string, string>;
  private _proto?: Uint8Array;

  constructor(
    readonly key: string,
    readonly obj: ApiObject,
    readonly rv: number,
    private readonly kind: KindInfo,
    private readonly strategy: Strategy,
  ) {}

  get namespace(): string {
    return this.obj.metadata?.namespace ?? '';
  }
  get name(): string {
    return this.obj.metadata?.name ?? '';
  }
  get labels(): Record<string, string> {
    return this.obj.metadata?.labels ?? {};
  }
  /** Field selector values: metadata.name, metadata.namespace and the strategy's fields. */
  get fields(): Record<string, string> {
    this._fields ??= {
      'metadata.name': this.name,
      'metadata.namespace': this.namespace,
      ...(this.strategy.fields?.(this.obj) ?? {}),
    };
    return this._fields;
  }
  /** The object's protobuf bytes, encoded on first use. */
  get proto(): Uint8Array {
    this._proto ??= encodeProto(this.kind, this.obj);
    return this._proto;
  }
}

export interface WatchFilter {
  /** Only this namespace ('' or undefined: every namespace). */
  namespace?: string;
  labels: LabelSelector;
  fields: FieldSelector;
}

/** What a filter looks at: an Entry, or the same facts of an object read from the store. */
export interface Filterable {
  readonly namespace: string;
  readonly labels: Record<string, string>;
  readonly fields: Record<string, string>;
}

export function matches(f: WatchFilter, e: Filterable): boolean {
  if (f.namespace && e.namespace !== f.namespace) return false;
  if (!f.labels.matches(e.labels)) return false;
  if (!f.fields.matches(e.fields)) return false;
  return true;
}

/** One change in the history window. */
interface CacheEvent {
  type: number;
  /** The new version (ADDED, MODIFIED) or the last version (DELETED). */
  entry: Entry;
  /** The version before (MODIFIED, DELETED). */
  prev?: Entry;
  rv: number;
  time: number;
  /** Encoded responses, built on first use and shared by every watcher. */
  bytes?: Map<number, Buffer>;
}

/** An event as a watcher sends it. */
export interface WatchOut {
  type: number;
  object: ApiObject;
  rv: number;
  /** The whole Watch<Plural>Response, encoded. */
  bytes: Buffer;
}

/** Where a cache delivers one watch's events (the gRPC stream, in the server). */
export interface WatchSink {
  /** Delivers an event; returns false when the watcher is too far behind and must be closed. */
  send(ev: WatchOut): boolean;
  /** The watch is over (err: why, e.g. the cache was reset). */
  close(err?: Error): void;
}

export interface CacheWatcher {
  readonly filter: WatchFilter;
  stop(): void;
}

export interface WatchCacheOptions {
  /** Most events kept per resource. */
  maxEvents: number;
  /** Events younger than this are kept (up to maxEvents). */
  historyMs: number;
}

function eventBytes(ev: CacheEvent, type: number, build: () => Buffer): Buffer {
  ev.bytes ??= new Map();
  let b = ev.bytes.get(type);
  if (!b) {
    b = build();
    ev.bytes.set(type, b);
  }
  return b;
}

class Watcher implements CacheWatcher {
  constructor(
    readonly filter: WatchFilter,
    readonly sink: WatchSink,
    private readonly cache: WatchCache,
  ) {}
  stop(): void {
    this.cache.removeWatcher(this);
  }
}

export class WatchCache {
  readonly kind: KindInfo;
  readonly strategy: Strategy;
  private readonly objects = new Map<string, Entry>();
  private sortedKeys: string[] | null = null;
  private history: CacheEvent[] = [];
  private historyStart = 0;
  /** A Watch from a version >= oldestRv can be served from the history. */
  oldestRv = 0;
  /** Every change up to this revision is applied. */
  rv = 0;
  private readonly watchers = new Set<Watcher>();
  private readonly opts: WatchCacheOptions;
  /** Counts events sent to watchers (metrics). */
  sent = 0;
  /** Secondary indexes: name -> (value -> keys). */
  private readonly indexes = new Map<string, { fn: (obj: ApiObject) => string[]; map: Map<string, Set<string>> }>();

  constructor(kind: KindInfo, strategy: Strategy, opts: WatchCacheOptions) {
    this.kind = kind;
    this.strategy = strategy;
    this.opts = opts;
  }

  get size(): number {
    return this.objects.size;
  }
  get watcherCount(): number {
    return this.watchers.size;
  }
  get historySize(): number {
    return this.history.length - this.historyStart;
  }

  /** Adds a secondary index (e.g. pods by spec.nodeName); fn returns the index values of an object. */
  addIndex(name: string, fn: (obj: ApiObject) => string[]): void {
    const map = new Map<string, Set<string>>();
    this.indexes.set(name, { fn, map });
    for (const e of this.objects.values()) this.indexAdd(e);
  }

  /** The current objects whose index `name` has `value`. */
  byIndex(name: string, value: string): Entry[] {
    const keys = this.indexes.get(name)?.map.get(value);
    if (!keys) return [];
    const out: Entry[] = [];
    for (const k of keys) {
      const e = this.objects.get(k);
      if (e) out.push(e);
    }
    return out;
  }

  private indexAdd(e: Entry): void {
    for (const { fn, map } of this.indexes.values()) {
      for (const v of fn(e.obj)) {
        let set = map.get(v);
        if (!set) map.set(v, (set = new Set()));
        set.add(e.key);
      }
    }
  }

  private indexRemove(e: Entry): void {
    for (const { fn, map } of this.indexes.values()) {
      for (const v of fn(e.obj)) {
        const set = map.get(v);
        set?.delete(e.key);
        if (set && set.size === 0) map.delete(v);
      }
    }
  }

  private entry(key: string, obj: ApiObject, rv: number): Entry {
    return new Entry(key, obj, rv, this.kind, this.strategy);
  }

  /**
   * Replaces the content with a list read at `rv` (start, or a relist after the feed lost its
   * place). The history restarts at rv; watchers of a previous content are closed with 410
   * Gone, so that their clients list again.
   */
  reset(items: { key: string; obj: ApiObject; rv: number }[], rv: number): void {
    const hadContent = this.rv > 0;
    this.objects.clear();
    for (const idx of this.indexes.values()) idx.map.clear();
    for (const it of items) {
      const e = this.entry(it.key, it.obj, it.rv);
      this.objects.set(it.key, e);
      this.indexAdd(e);
    }
    this.sortedKeys = null;
    this.history = [];
    this.historyStart = 0;
    this.oldestRv = rv;
    this.rv = rv;
    if (hadContent) {
      const err = gone(`too old resource version: the watch cache of ${this.kind.resource} was reset at ${rv}`);
      for (const w of [...this.watchers]) {
        this.watchers.delete(w);
        w.sink.close(err);
      }
    }
  }

  /** Applies one change (in revision order). */
  apply(key: string, obj: ApiObject | undefined, rv: number): void {
    const prev = this.objects.get(key);
    let ev: CacheEvent;
    if (obj) {
      const entry = this.entry(key, obj, rv);
      if (prev) this.indexRemove(prev);
      this.objects.set(key, entry);
      this.indexAdd(entry);
      if (!prev) this.sortedKeys = null;
      ev = { type: prev ? MODIFIED : ADDED, entry, prev, rv, time: Date.now() };
    } else {
      if (!prev) {
        this.advance(rv);
        return;
      }
      this.objects.delete(key);
      this.indexRemove(prev);
      this.sortedKeys = null;
      // The deleted object's last state, at the revision of its deletion.
      const last = clone(prev.obj);
      last.metadata!.resourceVersion = String(rv);
      ev = { type: DELETED, entry: this.entry(key, last, rv), prev, rv, time: Date.now() };
    }
    this.history.push(ev);
    this.trim();
    this.rv = Math.max(this.rv, rv);
    for (const w of this.watchers) this.dispatch(w, ev);
  }

  /** Every change up to rv has been applied (a progress marker). */
  advance(rv: number): void {
    if (rv > this.rv) this.rv = rv;
  }

  private trim(): void {
    const now = Date.now();
    while (this.historySize > 0) {
      const first = this.history[this.historyStart];
      const tooMany = this.historySize > this.opts.maxEvents;
      const tooOld = now - first.time > this.opts.historyMs;
      if (!tooMany && !tooOld) break;
      this.oldestRv = first.rv;
      this.historyStart++;
    }
    if (this.historyStart > 1024 && this.historyStart > this.history.length / 2) {
      this.history = this.history.slice(this.historyStart);
      this.historyStart = 0;
    }
  }

  get(key: string): Entry | undefined {
    return this.objects.get(key);
  }

  /** The current objects matching the filter, ordered by key, starting after `afterKey`. */
  list(filter: WatchFilter, afterKey = '', limit = 0): { items: Entry[]; more: boolean; lastKey: string } {
    if (!this.sortedKeys) this.sortedKeys = [...this.objects.keys()].sort(compareKeys);
    const keys = this.sortedKeys;
    let i = 0;
    if (afterKey) {
      // Binary search for the first key after afterKey.
      let lo = 0;
      let hi = keys.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (keys[mid] <= afterKey) lo = mid + 1;
        else hi = mid;
      }
      i = lo;
    } else if (filter.namespace) {
      // Keys of one namespace are contiguous: start at the namespace's prefix.
      const prefix = resourcePrefix(this.kind, filter.namespace);
      let lo = 0;
      let hi = keys.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (keys[mid] < prefix) lo = mid + 1;
        else hi = mid;
      }
      i = lo;
    }
    const items: Entry[] = [];
    let lastKey = '';
    for (; i < keys.length; i++) {
      const e = this.objects.get(keys[i])!;
      if (filter.namespace && e.namespace !== filter.namespace) {
        if (e.namespace > filter.namespace) break;
        continue;
      }
      if (!matches(filter, e)) continue;
      if (limit > 0 && items.length === limit) return { items, more: true, lastKey };
      items.push(e);
      lastKey = e.key;
    }
    return { items, more: false, lastKey };
  }

  /** Every current object (unfiltered, unordered), for the auth data sources. */
  values(): IterableIterator<Entry> {
    return this.objects.values();
  }

  /**
   * Starts a watch. Without fromRv: an ADDED event for every current object matching the
   * filter, then every change. With fromRv: every change after it, replayed from the
   * history, then live; a version older than the history gives 410 Gone (OUT_OF_RANGE).
   * The caller makes sure fromRv <= this.rv (waiting for the feed when needed).
   */
  watch(filter: WatchFilter, fromRv: number | undefined, sink: WatchSink): CacheWatcher {
    const w = new Watcher(filter, sink, this);
    if (fromRv === undefined) {
      for (const e of this.list(filter).items) {
        if (!sink.send({ type: ADDED, object: e.obj, rv: e.rv, bytes: encodeWatchEvent(ADDED, e.proto) })) {
          sink.close(gone('the watcher fell behind'));
          return w;
        }
      }
    } else {
      if (fromRv < this.oldestRv) throw gone(`too old resource version: ${fromRv} (${this.oldestRv})`);
      // Binary search for the first event after fromRv.
      let lo = this.historyStart;
      let hi = this.history.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (this.history[mid].rv <= fromRv) lo = mid + 1;
        else hi = mid;
      }
      for (let i = lo; i < this.history.length; i++) {
        if (!this.dispatch(w, this.history[i], false)) return w;
      }
    }
    this.watchers.add(w);
    return w;
  }

  removeWatcher(w: Watcher): void {
    this.watchers.delete(w);
  }

  /** Closes every watcher (shutdown). */
  closeAll(err?: Error): void {
    for (const w of [...this.watchers]) {
      this.watchers.delete(w);
      w.sink.close(err);
    }
  }

  /** Sends one event to one watcher, if its filter lets it through. Returns false when the watcher was dropped. */
  private dispatch(w: Watcher, ev: CacheEvent, registered = true): boolean {
    const f = w.filter;
    const before = ev.prev ? matches(f, ev.prev) : false;
    let out: WatchOut | undefined;
    const send = (type: number) => {
      out = { type, object: ev.entry.obj, rv: ev.rv, bytes: eventBytes(ev, type, () => encodeWatchEvent(type, ev.entry.proto)) };
    };
    if (ev.type === DELETED) {
      if (before) send(DELETED);
    } else {
      const cur = matches(f, ev.entry);
      if (cur && before) send(MODIFIED);
      else if (cur) send(ADDED);
      else if (before) {
        // Moved out of the selection: its previous state, at this event's version, as DELETED.
        const bytes = eventBytes(ev, -DELETED, () => {
          const last = clone(ev.prev!.obj);
          last.metadata!.resourceVersion = String(ev.rv);
          return encodeWatchEvent(DELETED, encodeProto(this.kind, last));
        });
        out = { type: DELETED, object: ev.prev!.obj, rv: ev.rv, bytes };
      }
    }
    if (!out) return true;
    this.sent++;
    if (!w.sink.send(out)) {
      if (registered) this.watchers.delete(w);
      w.sink.close(gone(`the watcher fell behind: ${this.kind.resource} events were produced faster than the client read them; watch again`));
      return false;
    }
    return true;
  }
}
