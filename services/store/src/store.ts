// The store: the etcd semantics above the Backend. It applies the log to the MVCC index,
// serves reads from the index (after a barrier for linearizable ones), runs writes through
// the Writer, and owns the watch hub, the lessor and the compactor. The etcd front end
// (range.ts, put.ts, ...) calls only this class.
import type { Logger } from 'pino';
import { etcdserverpb as pb, storev1 } from '@k8ts/api';
import { DEFAULT_GUARD_WINDOW, encodeGenesis, genesisSubject } from '@k8ts/machinery';
import { Backend, LogMessage, Subscription, UnavailableError } from './backend';
import { Compactor } from './compactor';
import { etcdErrors, unavailable } from './errors';
import { checkRangeRevision, evaluateTxn, executeRangeOn, finalize, keyRange, Outcome } from './evaluate';
import { Lessor } from './lessor';
import { createStoreMetrics, StoreMetrics } from './metrics';
import { MvccIndex } from './mvcc';
import { isTxnReadonly, isTxnSerializable, leasesOf, singleKeyOf } from './validate';
import { WatchHub } from './watchHub';
import { Writer } from './writer';

export interface StoreOptions {
  backend: Backend;
  /** Subject prefix of the stream (default 'k8ts'). */
  subjectPrefix: string;
  /** This replica's name (logs, Entry.writer, MemberList). */
  name: string;
  logger: Logger;
  metrics?: StoreMetrics;
  /** History kept by automatic compaction, ms (0: none). */
  compactionWindowMs: number;
  /** Bound on waiting for the replica to apply a revision, ms. */
  applyTimeoutMs?: number;
  /** Write attempts before ABORTED. */
  maxWriteAttempts?: number;
  /** Guard window W written into a new stream's genesis. */
  guardWindow?: number;
  /** Timings of the lessor (tests shorten them). */
  leaseCheckIntervalMs?: number;
  leaseSweepIntervalMs?: number;
}

interface Waiter {
  seq: number;
  resolve: () => void;
  reject: (err: Error) => void;
  timer?: NodeJS.Timeout;
}

/** A member ID (below 2^53) derived from a name. */
export function idFromName(name: string): number {
  let h = 0xcbf29ce484222325n;
  for (const b of Buffer.from(name)) h = ((h ^ BigInt(b)) * 0x100000001b3n) & 0xffffffffffffffffn;
  return Number(h & 0x1fffffffffffffn) || 1;
}

export class Store {
  readonly index: MvccIndex;
  readonly hub = new WatchHub();
  readonly writer: Writer;
  readonly lessor: Lessor;
  readonly compactor: Compactor;
  readonly metrics: StoreMetrics;
  readonly memberId: number;
  readonly logger: Logger;
  /** Raft term in etcd; constant here. */
  readonly raftTerm = 1;
  ready = false;

  private waiters: Waiter[] = [];
  private follow?: Subscription;
  private barrierRunning?: Promise<void>;
  private barrierNext?: Promise<void>;
  private closed = false;
  private readonly applyTimeoutMs: number;
  /** The sequences of the last messages applied, ascending (see appliedExactly()). */
  private recentApplied: number[] = [];
  /** Holes in the log below this sequence are removals by a completed compaction. */
  private purgedAtStart = 0;
  /** Called after the index was compacted. */
  private compactedListeners: ((rev: number) => void)[] = [];

  constructor(readonly opts: StoreOptions) {
    this.logger = opts.logger;
    this.metrics = opts.metrics ?? createStoreMetrics();
    this.index = new MvccIndex(opts.subjectPrefix);
    this.memberId = idFromName(opts.name);
    this.applyTimeoutMs = opts.applyTimeoutMs ?? 30_000;
    this.writer = new Writer({
      index: this.index,
      backend: opts.backend,
      name: opts.name,
      logger: opts.logger,
      metrics: this.metrics,
      waitApplied: (seq) => this.waitApplied(seq),
      appliedExactly: (seq) => this.appliedExactly(seq),
      barrier: () => this.barrier(),
      maxAttempts: opts.maxWriteAttempts ?? 50,
    });
    this.lessor = new Lessor({
      backend: opts.backend,
      index: this.index,
      writer: this.writer,
      logger: opts.logger,
      metrics: this.metrics,
      checkIntervalMs: opts.leaseCheckIntervalMs,
      sweepIntervalMs: opts.leaseSweepIntervalMs,
    });
    this.compactor = new Compactor({
      backend: opts.backend,
      index: this.index,
      name: opts.name,
      logger: opts.logger,
      metrics: this.metrics,
      barrier: () => this.barrier(),
      waitApplied: (seq, timeoutMs) => this.waitApplied(seq, timeoutMs),
      onCompacted: (rev) => {
        for (const l of this.compactedListeners) l(rev);
      },
      windowMs: opts.compactionWindowMs,
    });
  }

  get backend(): Backend {
    return this.opts.backend;
  }

  /** The cluster ID (from the stream's genesis). */
  get clusterId(): number {
    return this.index.genesis?.clusterId ?? 0;
  }

  /** Writes the genesis if the log is empty, rebuilds the index, loads compaction and leases. */
  async start(): Promise<void> {
    const { backend, logger } = this.opts;
    const started = Date.now();
    const head = await this.retrying('read the stream head', () => backend.head());
    if (head === 0) {
      const genesis = encodeGenesis({
        clusterId: idFromName(`${this.opts.name}/${Date.now()}/${Math.random()}`),
        createdBy: this.opts.name,
        createdUnixMs: Date.now(),
        guardWindow: this.opts.guardWindow ?? DEFAULT_GUARD_WINDOW,
      });
      try {
        await backend.append(genesisSubject(this.opts.subjectPrefix), genesis, { lastSeq: 0 });
        logger.info('wrote the genesis message of a new stream');
      } catch (err) {
        logger.info({ err: (err as Error).message }, 'another replica wrote the genesis message');
      }
    }
    // Holes in the log below the purged revision of the compaction record are removals;
    // any other hole is checked by the follower (a consumer may skip existing messages).
    const record = await this.retrying('read the compaction record', () => backend.metaGet('compact'));
    if (record) {
      try {
        this.purgedAtStart = storev1.CompactionRecord.decode(record.value).purgedRevision ?? 0;
      } catch {
        this.purgedAtStart = 0;
      }
    }
    this.follow = backend.follow(
      1,
      (m) => this.onMessage(m),
      (err) => logger.warn({ err: err.message }, 'following the stream failed; retrying'),
      () => this.purgedAtStart,
    );
    const target = await this.retrying('read the stream head', () => backend.head());
    await this.waitApplied(Math.max(target, 1), 0);
    await this.compactor.start();
    await this.waitApplied(this.compactor.revision, 0);
    await this.lessor.start();
    this.ready = true;
    logger.info(
      { revision: this.index.rev, compactRevision: this.index.compactRev, keys: this.index.liveKeys, ms: Date.now() - started },
      'index rebuilt from the stream',
    );
  }

  private async retrying<T>(what: string, fn: () => Promise<T>): Promise<T> {
    for (let i = 0; ; i++) {
      try {
        return await fn();
      } catch (err) {
        if (this.closed) throw err;
        if (i % 10 === 0) this.logger.warn({ err: (err as Error).message }, `cannot ${what} yet; retrying`);
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.follow?.stop();
    this.lessor.stop();
    this.compactor.stop();
    for (const w of this.waiters) {
      if (w.timer) clearTimeout(w.timer);
      w.reject(new Error('store stopped'));
    }
    this.waiters = [];
  }

  onCompacted(fn: (rev: number) => void): void {
    this.compactedListeners.push(fn);
  }

  // ---- applying the log ----

  private onMessage(m: LogMessage): void {
    try {
      this.applyMessage(m);
    } catch (err) {
      // The log broke its contract (an entry before the genesis): nothing can be applied
      // after it. Say so loudly; the index stays where it is and writes time out.
      this.logger.error({ err, seq: m.seq, subject: m.subject }, 'applying a log message failed');
    }
  }

  private applyMessage(m: LogMessage): void {
    if (m.seq <= this.index.rev) return;
    const res = this.index.apply(m.seq, m.subject, m.data);
    const ra = this.recentApplied;
    ra.push(m.seq);
    if (ra.length > 200_000) this.recentApplied = ra.slice(ra.length - 100_000);
    if (res.applied) this.metrics.applied.inc({ result: 'applied' });
    else {
      this.metrics.applied.inc({ result: res.cause ?? 'invalid' });
      this.logger.info({ seq: m.seq, subject: m.subject, reason: res.reason }, 'log entry has no effect');
    }
    this.metrics.revision.set(m.seq);
    if (res.events.length > 0) this.hub.onRevision(m.seq, res.events);
    const ws = this.waiters;
    if (ws.length > 0 && ws[0].seq <= m.seq) {
      let i = 0;
      while (i < ws.length && ws[i].seq <= m.seq) {
        const w = ws[i++];
        if (w.timer) clearTimeout(w.timer);
        w.resolve();
      }
      this.waiters = ws.slice(i);
    }
  }

  /**
   * Whether the index applied the message at exactly seq (rather than only a later one):
   * false when it skipped it or it is too old to tell. Call once seq <= index.rev.
   */
  appliedExactly(seq: number): boolean {
    const ra = this.recentApplied;
    let lo = 0;
    let hi = ra.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (ra[mid] < seq) lo = mid + 1;
      else hi = mid;
    }
    return lo < ra.length && ra[lo] === seq;
  }

  /** Resolves once the index has applied seq (timeoutMs 0: no timeout). */
  waitApplied(seq: number, timeoutMs = this.applyTimeoutMs): Promise<void> {
    if (seq <= this.index.rev) return Promise.resolve();
    if (this.closed) return Promise.reject(new Error('store stopped'));
    return new Promise((resolve, reject) => {
      const w: Waiter = { seq, resolve, reject };
      if (timeoutMs > 0) {
        w.timer = setTimeout(() => {
          this.waiters = this.waiters.filter((x) => x !== w);
          reject(new Error(`revision ${seq} not applied within ${timeoutMs} ms (applied: ${this.index.rev})`));
        }, timeoutMs);
      }
      const ws = this.waiters;
      let i = ws.length;
      while (i > 0 && ws[i - 1].seq > seq) i--;
      ws.splice(i, 0, w);
    });
  }

  /**
   * Resolves once this replica has applied everything committed before the call: reads the
   * stream head (one request shared by concurrent callers that arrive before it is sent) and
   * waits for it. UNAVAILABLE when JetStream cannot answer.
   */
  barrier(): Promise<void> {
    if (!this.barrierRunning) {
      this.barrierRunning = this.runBarrier();
      return this.barrierRunning;
    }
    // A head read is in flight but may have been sent before this call: use the next one.
    this.barrierNext ??= this.barrierRunning
      .catch(() => undefined)
      .then(() => {
        this.barrierNext = undefined;
        this.barrierRunning = this.runBarrier();
        return this.barrierRunning;
      });
    return this.barrierNext;
  }

  private async runBarrier(): Promise<void> {
    const end = this.metrics.barrierSeconds.startTimer();
    try {
      let head: number;
      try {
        head = await this.opts.backend.head();
      } catch (err) {
        if (err instanceof UnavailableError) throw unavailable(`cannot confirm the latest revision: ${err.message}`);
        throw err;
      }
      this.metrics.applyLag.set(Math.max(0, head - this.index.rev));
      try {
        await this.waitApplied(head);
      } catch (err) {
        throw unavailable(`cannot catch up with the stream: ${(err as Error).message}`);
      }
    } finally {
      end();
      if (this.barrierNext === undefined) this.barrierRunning = undefined;
    }
  }

  // ---- requests ----

  header(revision: number): pb.ResponseHeader {
    return { clusterId: this.clusterId, memberId: this.memberId, revision, raftTerm: this.raftTerm };
  }

  private checkReady(): void {
    if (this.closed) throw etcdErrors.stopped();
    if (!this.ready) throw unavailable('not ready: still rebuilding the index from the stream');
  }

  /** KV.Range (validated by the caller). */
  async range(r: pb.RangeRequest): Promise<pb.RangeResponse> {
    this.checkReady();
    if (!r.serializable) await this.barrier();
    const rev = r.revision && r.revision > 0 ? r.revision : 0;
    const err = checkRangeRevision(this.index, rev);
    if (err) throw err;
    const res = executeRangeOn(this.index.range(keyRange(r.key!, r.rangeEnd), rev || this.index.rev), r);
    return { header: this.header(this.index.rev), kvs: res.kvs, more: res.more, count: res.count };
  }

  /** KV.Txn, and Put and DeleteRange as one-operation txns (validated by the caller). */
  async txn(req: pb.TxnRequest): Promise<pb.TxnResponse> {
    this.checkReady();
    const { index } = this;
    if (isTxnReadonly(req)) {
      if (!isTxnSerializable(req)) await this.barrier();
      const outcome = this.evaluate(req, () => true);
      finalize(outcome.responses, index.rev + 1, outcome.basis);
      return { header: this.header(outcome.basis), succeeded: outcome.succeeded, responses: outcome.responses };
    }
    const leases = [...leasesOf(req)];
    const live = new Set<number>();
    for (const id of leases) if (await this.lessor.exists(id)) live.add(id);
    const singleKey = singleKeyOf(req);
    return this.writer.write<pb.TxnResponse>({
      singleKey,
      evaluate: () => this.evaluate(req, (id) => live.has(id)),
      answer: (outcome, rev) => {
        const r = rev ?? outcome.basis;
        finalize(outcome.responses, r, rev !== undefined ? rev - 1 : outcome.basis);
        return { header: this.header(r), succeeded: outcome.succeeded, responses: outcome.responses };
      },
    });
  }

  private evaluate(req: pb.TxnRequest, leaseExists: (id: number) => boolean): Outcome {
    return evaluateTxn(this.index, req, leaseExists);
  }

  /** KV.Compact. */
  async compact(rev: number, physical: boolean): Promise<pb.CompactionResponse> {
    this.checkReady();
    await this.compactor.compact(rev, physical);
    return { header: this.header(this.index.rev) };
  }

  /** Approximate size of the data, for Status. */
  dbSize(): number {
    return Math.max(this.opts.backend.storedBytes(), this.index.liveBytes);
  }

  problems(): string[] {
    const out = [...this.opts.backend.problems()];
    if (!this.ready) out.push('rebuilding the index from the stream');
    return out;
  }
}
