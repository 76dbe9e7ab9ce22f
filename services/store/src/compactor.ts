// Compaction. The compact revision is a record in the metadata bucket ("compact", a
// CompactionRecord) so that every replica agrees on it; each replica applies it to its index
// (logical compaction) when it sees it. The replica that writes the record also purges the
// stream (physical compaction), in the order that keeps a replay exact (see
// MvccIndex.compact): void entries first (before the record is written), then superseded
// versions per key subject, then multi-key entries that hold nothing live; and finally it
// records the purge as complete. Compaction runs on request (KV.Compact) and every
// window/10 to keep `window` of history, like etcd's periodic auto-compaction.
import type { Logger } from 'pino';
import { storev1 } from '@k8ts/api';
import { Backend, ConflictError } from './backend';
import { etcdErrors } from './errors';
import { MvccIndex, PurgePlan } from './mvcc';
import type { StoreMetrics } from './metrics';

export interface CompactorDeps {
  backend: Backend;
  index: MvccIndex;
  name: string;
  logger: Logger;
  metrics: StoreMetrics;
  barrier(): Promise<void>;
  waitApplied(seq: number, timeoutMs?: number): Promise<void>;
  /** Called after the index was compacted (watchers catching up below it are cancelled). */
  onCompacted(rev: number): void;
  /** History to keep, ms; 0 = no automatic compaction. */
  windowMs: number;
}

const KEY = 'compact';

export class Compactor {
  /** The latest record seen. */
  private record = { revision: 0, purged: 0, metaRevision: 0 };
  /** Plans of compactions applied locally, until their purge is recorded complete. */
  private readonly plans = new Map<number, PurgePlan>();
  private samples: { at: number; rev: number }[] = [];
  private timer?: NodeJS.Timeout;
  private sub?: { stop(): void };
  private purging = false;

  constructor(private readonly d: CompactorDeps) {}

  /** Loads the compaction record; resolves once it is known. Call after the index caught up. */
  start(): Promise<void> {
    return new Promise((resolve) => {
      let first = true;
      this.sub = this.d.backend.metaWatch(KEY, {
        begin: () => undefined,
        change: (c) => {
          if (!c.value) return;
          try {
            const r = storev1.CompactionRecord.decode(c.value);
            this.onRecord(r.revision ?? 0, r.purgedRevision ?? 0, c.revision);
          } catch (err) {
            this.d.logger.warn({ err }, 'undecodable compaction record; ignoring it');
          }
        },
        ready: () => {
          if (!first) return;
          first = false;
          if (this.d.windowMs > 0) {
            const every = Math.max(1000, Math.floor(this.d.windowMs / 10));
            this.timer = setInterval(() => this.tick(), every);
            this.timer.unref();
          }
          // Ready once the index is compacted at the recorded revision.
          this.applyLocally(this.record.revision).then(
            () => resolve(),
            () => resolve(),
          );
        },
      });
    });
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.sub?.stop();
  }

  get revision(): number {
    return this.record.revision;
  }

  private onRecord(revision: number, purged: number, metaRevision: number): void {
    if (metaRevision <= this.record.metaRevision) return;
    this.record = { revision, purged, metaRevision };
    void this.applyLocally(revision).catch((err) => this.d.logger.warn({ err, revision }, 'applying compaction failed'));
    for (const [c, plan] of this.plans) {
      if (c <= purged) {
        this.d.index.forgetTxns(plan.txnDeletes);
        this.plans.delete(c);
      }
    }
    this.d.index.forgetVoidsBelow(purged);
  }

  /** Compacts the index at rev once it has applied that far. */
  private async applyLocally(rev: number): Promise<PurgePlan | undefined> {
    const { index } = this.d;
    if (rev <= index.compactRev) return this.plans.get(rev);
    // A replica behind the record applies it once it gets there, however long that takes.
    await this.d.waitApplied(rev, 0);
    if (rev <= index.compactRev) return this.plans.get(rev);
    const plan = index.planPurge(rev);
    this.plans.set(rev, plan);
    index.compact(rev);
    this.d.metrics.compactRevision.set(rev);
    this.d.onCompacted(rev);
    this.d.logger.info({ revision: rev }, 'compacted');
    return plan;
  }

  /**
   * Compacts at rev (KV.Compact): OUT_OF_RANGE if rev is already compacted or in the future.
   * With physical, resolves only once the stream is purged.
   */
  async compact(rev: number, physical: boolean): Promise<void> {
    const { index, backend } = this.d;
    await this.d.barrier();
    if (rev <= Math.max(index.compactRev, this.record.revision)) throw etcdErrors.compacted();
    if (rev > index.rev) throw etcdErrors.futureRev();
    // Void entries below rev go before the record that allows their witnesses to go.
    for (const v of index.voidsBelow(rev)) {
      await backend.deleteMessage(v);
      this.d.metrics.purged.inc({ kind: 'void' });
    }
    for (let attempt = 0; ; attempt++) {
      const cur = await backend.metaGet(KEY);
      const curRec = cur ? storev1.CompactionRecord.decode(cur.value) : undefined;
      if (curRec && (curRec.revision ?? 0) >= rev) throw etcdErrors.compacted();
      const value = storev1.CompactionRecord.encode({
        revision: rev,
        purgedRevision: curRec?.purgedRevision ?? 0,
        compactedBy: this.d.name,
        compactedUnixMs: Date.now(),
      }).finish();
      try {
        const metaRevision = await backend.metaPut(KEY, value, cur?.revision ?? 0);
        this.onRecord(rev, curRec?.purgedRevision ?? 0, metaRevision);
        break;
      } catch (err) {
        if (!(err instanceof ConflictError) || attempt >= 10) throw err;
      }
    }
    const plan = await this.applyLocally(rev);
    const purge = this.purge(rev, plan).catch((err) => this.d.logger.warn({ err, revision: rev }, 'physical compaction failed; the next one will retry'));
    if (physical) await purge;
  }

  private async purge(rev: number, plan: PurgePlan | undefined): Promise<void> {
    if (!plan || this.purging) return;
    this.purging = true;
    const { backend, metrics } = this.d;
    try {
      const started = Date.now();
      await runLimited(plan.subjectPurges, 16, async (p) => {
        await backend.purgeSubject(p.subject, p.below);
        metrics.purged.inc({ kind: 'subject' });
      });
      await runLimited(plan.txnDeletes, 16, async (seq) => {
        await backend.deleteMessage(seq);
        metrics.purged.inc({ kind: 'txn' });
      });
      // Record that the purge at rev is complete.
      for (let attempt = 0; attempt < 10; attempt++) {
        const cur = await backend.metaGet(KEY);
        if (!cur) break;
        const r = storev1.CompactionRecord.decode(cur.value);
        if ((r.purgedRevision ?? 0) >= rev) break;
        try {
          const value = storev1.CompactionRecord.encode({ ...r, purgedRevision: rev }).finish();
          await backend.metaPut(KEY, value, cur.revision);
          break;
        } catch (err) {
          if (!(err instanceof ConflictError)) throw err;
        }
      }
      this.d.logger.info(
        { revision: rev, subjects: plan.subjectPurges.length, txns: plan.txnDeletes.length, ms: Date.now() - started },
        'purged the stream below the compact revision',
      );
    } finally {
      this.purging = false;
    }
  }

  /** Automatic compaction: keep `window` of history. */
  private tick(): void {
    const now = Date.now();
    this.samples.push({ at: now, rev: this.d.index.rev });
    let target = 0;
    while (this.samples.length > 0 && this.samples[0].at <= now - this.d.windowMs) {
      target = this.samples[0].rev;
      this.samples.shift();
    }
    if (target > Math.max(this.d.index.compactRev, this.record.revision) && target > 1) {
      this.compact(target, false).catch((err) => {
        if ((err as { code?: number }).code === etcdErrors.compacted().code && /compacted/.test((err as Error).message)) return;
        this.d.logger.warn({ err, revision: target }, 'automatic compaction failed');
      });
    }
  }
}

async function runLimited<T>(items: T[], limit: number, fn: (t: T) => Promise<void>): Promise<void> {
  let i = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (i < items.length) await fn(items[i++]);
  });
  await Promise.all(workers);
}
