// The change feed read straight from the store's replicated log: an ordered JetStream
// consumer on the store's stream (format: proto/k8ts/store/v1/log.proto). The stream's
// sequence is the revision, so the feed resumes from any revision the stream still holds.
//
// Applying the log as the store does (see log.proto, "Applying entries"):
//   - P.genesis (sequence 1) gives the guard window W;
//   - P.txn carries multi-key entries, which always take effect;
//   - P.kv.>, P.kvb.>, P.kvh.> carry single-key entries, which take effect only when their
//     guard holds: the entry is within W revisions of its basis revision, and no multi-key
//     entry between the basis and itself changed the same key. A void entry changes nothing
//     but still uses its revision.
// To evaluate guards right after a (re)start at revision s, the multi-key entries of
// (s - W, s] are read first (direct gets by subject). A start below the store's compact
// revision is reported as `compacted`: the hub lists again.
import type { Logger } from 'pino';
import { type ConsumerMessages, type JetStreamClient, type StoredMsg, type JetStreamManager, type JsMsg, type NatsConnection, connect } from 'nats';
import { storev1 } from '@k8ts/api';

/** Direct gets of the stream (the store's stream allows them). */
interface DirectStreamAPI {
  getMessage(stream: string, query: { seq: number; next_by_subj?: string }): Promise<StoredMsg>;
}
import type { ChangeBatch, ChangeEvent, ChangeFeed, ChangeFeedHandlers } from './changefeed';

/** The default guard window, when the genesis message cannot be read. */
const DEFAULT_GUARD_WINDOW = 10_000;

export interface NatsFeedOptions {
  servers: string[];
  /** The store's stream (default K8TS). */
  stream: string;
  /** The subject prefix (default: the stream name in lower case). */
  subjectPrefix?: string;
  logger: Logger;
  /** How often to check that the store has not compacted past the feed's position, ms. */
  compactionCheckMs?: number;
}

interface RecentTxn {
  seq: number;
  keys: Set<string>;
}

export class NatsChangeFeed implements ChangeFeed {
  readonly name = 'nats';
  private readonly prefix: string;
  private guardWindow?: number;
  private recentTxns: RecentTxn[] = [];
  /** The last sequence applied. */
  private position = 0;
  private run = 0;
  private messages?: ConsumerMessages;
  private handlers?: ChangeFeedHandlers;
  private compactionTimer?: NodeJS.Timeout;
  private stopped = false;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly opts: NatsFeedOptions,
  ) {
    this.prefix = opts.subjectPrefix || opts.stream.toLowerCase();
  }

  static async connect(opts: NatsFeedOptions): Promise<NatsChangeFeed> {
    const nc = await connect({ servers: opts.servers, name: 'k8ts-apiserver-feed', maxReconnectAttempts: -1, reconnectTimeWait: 250 });
    const jsm = await nc.jetstreamManager();
    return new NatsChangeFeed(nc, nc.jetstream(), jsm, opts);
  }

  /** Direct gets (the store's stream allows them); the implementation has them, the interface does not say so. */
  private get direct(): DirectStreamAPI {
    return (this.jsm as unknown as { direct: DirectStreamAPI }).direct;
  }

  private async readGuardWindow(): Promise<number> {
    if (this.guardWindow !== undefined) return this.guardWindow;
    try {
      const m = await this.direct.getMessage(this.opts.stream, { seq: 1 });
      const g = storev1.Genesis.decode(m.data);
      this.guardWindow = g.guardWindow && g.guardWindow > 0 ? g.guardWindow : DEFAULT_GUARD_WINDOW;
    } catch {
      this.guardWindow = DEFAULT_GUARD_WINDOW;
    }
    return this.guardWindow;
  }

  /** The store's compact revision (0 when it never compacted). */
  private async compactRevision(): Promise<number> {
    try {
      const kv = await this.js.views.kv(`${this.opts.stream}-meta`, { bindOnly: true });
      const e = await kv.get('compact');
      if (e?.operation !== 'PUT' || e.value.length === 0) return 0;
      return Number(storev1.CompactionRecord.decode(e.value).revision ?? 0);
    } catch {
      return 0;
    }
  }

  /** The multi-key entries with a sequence in [from, to]. */
  private async readTxns(from: number, to: number): Promise<RecentTxn[]> {
    const out: RecentTxn[] = [];
    let seq = Math.max(1, from);
    while (seq <= to) {
      let m: Awaited<ReturnType<DirectStreamAPI['getMessage']>>;
      try {
        m = await this.direct.getMessage(this.opts.stream, { seq, next_by_subj: `${this.prefix}.txn` });
      } catch {
        break; // no further multi-key entry
      }
      if (m.seq > to) break;
      const entry = storev1.Entry.decode(m.data);
      out.push({ seq: m.seq, keys: new Set((entry.changes ?? []).map((c) => Buffer.from(c.key ?? []).toString('latin1'))) });
      seq = m.seq + 1;
    }
    return out;
  }

  start(afterRevision: number, handlers: ChangeFeedHandlers): void {
    this.handlers = handlers;
    const run = ++this.run;
    void this.messages?.close();
    this.messages = undefined;
    this.follow(run, afterRevision, handlers).catch((err: Error) => {
      if (run === this.run && !this.stopped) handlers.onError(err, false);
    });
  }

  private async follow(run: number, after: number, h: ChangeFeedHandlers): Promise<void> {
    const w = await this.readGuardWindow();
    const compact = await this.compactRevision();
    if (after + 1 < compact) {
      h.onError(new Error(`revision ${after} is below the store's compact revision ${compact}`), true);
      return;
    }
    const txns = await this.readTxns(after - w + 1, after);
    if (run !== this.run) return;
    this.recentTxns = txns;
    this.position = after;
    const consumer = await this.js.consumers.get(this.opts.stream, { opt_start_seq: after + 1 });
    if (run !== this.run) return;
    const messages = await consumer.consume({
      max_messages: 4096,
      callback: (m) => {
        if (run === this.run) this.onMessage(m, h);
      },
    });
    this.messages = messages;
    this.scheduleCompactionCheck(run, h);
    await messages.closed();
    if (run === this.run && !this.stopped) h.onError(new Error('the stream consumer closed'), false);
  }

  private scheduleCompactionCheck(run: number, h: ChangeFeedHandlers): void {
    clearInterval(this.compactionTimer);
    this.compactionTimer = setInterval(() => {
      void this.compactRevision().then((c) => {
        if (run === this.run && !this.stopped && this.position + 1 < c) {
          this.run++;
          void this.messages?.close();
          h.onError(new Error(`the store compacted to ${c} past the feed's position ${this.position}`), true);
        }
      });
    }, this.opts.compactionCheckMs ?? 10_000);
    this.compactionTimer.unref();
  }

  private onMessage(m: JsMsg, h: ChangeFeedHandlers): void {
    const seq = m.seq;
    if (seq <= this.position) return;
    const events: ChangeEvent[] = [];
    const subject = m.subject;
    const isTxn = subject === `${this.prefix}.txn`;
    const isKey = !isTxn && /^(kv|kvb|kvh)\./.test(subject.slice(this.prefix.length + 1)) && subject.startsWith(`${this.prefix}.`);
    if (isTxn || isKey) {
      let entry: storev1.Entry | undefined;
      try {
        entry = storev1.Entry.decode(m.data);
      } catch (err) {
        this.opts.logger.error({ err, seq, subject }, 'undecodable log entry: skipped');
      }
      const changes = entry?.changes ?? [];
      let applies = !!entry;
      if (entry && isKey) {
        const key = changes.length === 1 ? Buffer.from(changes[0].key ?? []).toString('latin1') : undefined;
        applies = key !== undefined && this.guardHolds(seq, Number(entry.guard?.basisRevision ?? 0), key);
      }
      if (applies) {
        for (const c of changes) {
          const key = Buffer.from(c.key ?? []).toString('utf8');
          if (c.type === storev1.ChangeType.CHANGE_TYPE_DELETE) events.push({ type: 'DELETE', key, revision: seq });
          else events.push({ type: 'PUT', key, value: Buffer.from(c.value ?? []), revision: seq });
        }
        if (isTxn) this.recentTxns.push({ seq, keys: new Set(changes.map((c) => Buffer.from(c.key ?? []).toString('latin1'))) });
      }
    }
    this.position = seq;
    const horizon = seq - (this.guardWindow ?? DEFAULT_GUARD_WINDOW);
    if (this.recentTxns.length > 0 && this.recentTxns[0].seq <= horizon) {
      this.recentTxns = this.recentTxns.filter((t) => t.seq > horizon);
    }
    const batch: ChangeBatch = { revision: seq, events };
    h.onBatch(batch);
  }

  private guardHolds(seq: number, basis: number, key: string): boolean {
    if (seq - basis > (this.guardWindow ?? DEFAULT_GUARD_WINDOW)) return false;
    for (let i = this.recentTxns.length - 1; i >= 0; i--) {
      const t = this.recentTxns[i];
      if (t.seq <= basis) break;
      if (t.seq < seq && t.keys.has(key)) return false;
    }
    return true;
  }

  requestProgress(): void {
    const h = this.handlers;
    if (!h) return;
    const run = this.run;
    this.jsm.streams.info(this.opts.stream).then(
      (info) => {
        if (run === this.run && this.position >= info.state.last_seq) h.onBatch({ revision: this.position, events: [] });
      },
      () => undefined,
    );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.run++;
    clearInterval(this.compactionTimer);
    await this.messages?.close();
    await this.nc.close();
  }
}
