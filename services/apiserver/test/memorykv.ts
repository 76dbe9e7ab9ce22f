// An in-memory fake of the store for unit tests: the KV interface (Range, Txn with compares,
// LeaseGrant) over a map with etcd's revision rules, and a ChangeFeed delivering its changes.
// Integration tests use the real store; this only lets the registry and caches be tested
// without processes.
import type { ChangeBatch, ChangeFeed, ChangeFeedHandlers } from '../src/cache/changefeed';
import type { Compare, KV, KeyValue, RangeOptions, RangeResult, TxnOp, TxnResult } from '../src/storage/kv';

export class MemoryKV implements KV {
  revision = 1;
  private readonly data = new Map<string, KeyValue>();
  private nextLease = 1;
  /** Every committed batch, in order (the fake's change log). */
  readonly log: ChangeBatch[] = [];
  private readonly feeds = new Set<MemoryFeed>();

  async range(key: string, opts: RangeOptions = {}): Promise<RangeResult> {
    if (opts.revision && opts.revision !== this.revision) throw new Error('MemoryKV: past revisions are not supported');
    const kvs = [...this.data.values()]
      .filter((kv) => (opts.end === undefined ? kv.key === key : kv.key >= key && kv.key < opts.end))
      .sort((a, b) => (a.key < b.key ? -1 : 1));
    const limit = opts.limit ?? 0;
    const page = limit > 0 ? kvs.slice(0, limit) : kvs;
    return { kvs: opts.countOnly ? [] : page, more: page.length < kvs.length, count: kvs.length, revision: this.revision };
  }

  private holds(c: Compare): boolean {
    const kv = this.data.get(c.key);
    const actual = c.target === 'CREATE' ? (kv?.createRevision ?? 0) : c.target === 'MOD' ? (kv?.modRevision ?? 0) : (kv?.version ?? 0);
    switch (c.result) {
      case 'EQUAL':
        return actual === c.value;
      case 'NOT_EQUAL':
        return actual !== c.value;
      case 'GREATER':
        return actual > c.value;
      case 'LESS':
        return actual < c.value;
    }
  }

  async txn(compares: Compare[], success: TxnOp[], failure: TxnOp[] = []): Promise<TxnResult> {
    const ok = compares.every((c) => this.holds(c));
    const ops = ok ? success : failure;
    const writes = ops.some((o) => !('get' in o));
    const rev = writes ? this.revision + 1 : this.revision;
    const batch: ChangeBatch = { revision: rev, events: [] };
    const responses = ops.map((op) => {
      if ('get' in op) {
        const kv = this.data.get(op.get.key);
        return { kvs: kv ? [kv] : [] };
      }
      if ('put' in op) {
        const prev = this.data.get(op.put.key);
        this.data.set(op.put.key, {
          key: op.put.key,
          value: op.put.value,
          createRevision: prev?.createRevision ?? rev,
          modRevision: rev,
          version: (prev?.version ?? 0) + 1,
          lease: op.put.lease ?? '0',
        });
        batch.events.push({ type: 'PUT', key: op.put.key, value: op.put.value, revision: rev });
        return {};
      }
      const existed = this.data.delete(op.delete.key);
      if (existed) batch.events.push({ type: 'DELETE', key: op.delete.key, revision: rev });
      return { deleted: existed ? 1 : 0 };
    });
    if (writes) {
      this.revision = rev;
      this.log.push(batch);
      for (const f of this.feeds) f.deliver(batch);
    }
    return { succeeded: ok, revision: this.revision, responses };
  }

  async leaseGrant(): Promise<string> {
    return String(this.nextLease++);
  }

  close(): void {}

  /** A change feed over this store. */
  feed(): MemoryFeed {
    const f = new MemoryFeed(this);
    this.feeds.add(f);
    return f;
  }
}

export class MemoryFeed implements ChangeFeed {
  readonly name = 'memory';
  private handlers?: ChangeFeedHandlers;
  private after = 0;

  constructor(private readonly kv: MemoryKV) {}

  start(afterRevision: number, handlers: ChangeFeedHandlers): void {
    this.handlers = handlers;
    this.after = afterRevision;
    for (const b of this.kv.log) if (b.revision > afterRevision) handlers.onBatch(b);
  }

  deliver(b: ChangeBatch): void {
    if (this.handlers && b.revision > this.after) {
      // Asynchronously, as a real feed would.
      const h = this.handlers;
      queueMicrotask(() => h.onBatch(b));
    }
  }

  requestProgress(): void {
    const h = this.handlers;
    if (h) queueMicrotask(() => h.onBatch({ revision: this.kv.revision, events: [] }));
  }

  async stop(): Promise<void> {
    this.handlers = undefined;
  }
}
