// The change feed read straight from the store's replicated log: an ordered JetStream
// consumer on the store's stream (format: proto/k8ts/store/v1/log.proto). The stream's
// sequence is the revision, so the feed resumes from any revision the stream still holds.
//
// Which messages take effect is decided exactly as the store decides it, by the same code:
// @k8ts/machinery's GuardLedger over messages decoded by its codec. A single-key entry is
// void when ANY entry that took effect (single-key or multi-key) changed its key after its
// basis revision, so the verdict on a message can depend on every message of the W
// revisions before it, and theirs on the ones before. The only exact way to know them is the
// store's own: apply the log from sequence 1 (compaction keeps replays exact, log.proto).
// So a new feed replays the stream from sequence 1 through the ledger, delivering only the
// changes after the revision it was asked to start after; a restarted feed keeps its ledger
// and either reads on from where it stopped or recalls the verdicts of the W revisions
// behind it. A void entry changes nothing but still uses its revision.
//
// Errors never turn into defaults: a failed read of the compaction record or a log that
// breaks its contract stops the run with an error, and the CacheHub restarts the feed.
import type { Logger } from 'pino';
import { type ConsumerMessages, type JetStreamClient, type JetStreamManager, type JsMsg, type NatsConnection, connect } from 'nats';
import { storev1 } from '@k8ts/api';
import { GuardLedger, type LogChange, type LogMessage, LogOrderError, type Verdict, decodeLogMessage } from '@k8ts/machinery';
import type { ChangeEvent, ChangeFeed, ChangeFeedHandlers } from './changefeed';
import type { NatsConnectAuth } from '@k8ts/kit';

export interface NatsFeedOptions {
  servers: string[];
  /** The store's stream (default K8TS). */
  stream: string;
  /** The subject prefix (default: the stream name in lower case). */
  subjectPrefix?: string;
  logger: Logger;
  /** How often to check that the store has not compacted past the feed's position, ms. */
  compactionCheckMs?: number;
  /** The apiserver's NATS credentials (natsauth.ts); none: anonymous. */
  auth?: NatsConnectAuth;
}

/** One run of the consumer: the changes after `after` go to `handlers`. */
interface Run {
  id: number;
  after: number;
  handlers: ChangeFeedHandlers;
}

export class NatsChangeFeed implements ChangeFeed {
  readonly name = 'nats';
  private readonly prefix: string;
  /** The log's apply rule, kept across runs so that a restart need not replay the log. */
  private ledger = new GuardLedger();
  /** Every change up to this revision has been delivered (or was before the run's start). */
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
    const nc = await connect({ ...opts.auth, servers: opts.servers, name: 'k8ts-apiserver-feed', maxReconnectAttempts: -1, reconnectTimeWait: 250 });
    const jsm = await nc.jetstreamManager();
    return new NatsChangeFeed(nc, nc.jetstream(), jsm, opts);
  }

  /** The store's compact revision: 0 when it has no compaction record. Read errors propagate. */
  private async compactRevision(): Promise<number> {
    const kv = await this.js.views.kv(`${this.opts.stream}-meta`, { bindOnly: true });
    const e = await kv.get('compact');
    if (e?.operation !== 'PUT') return 0;
    return storev1.CompactionRecord.decode(e.value).revision ?? 0;
  }

  start(afterRevision: number, handlers: ChangeFeedHandlers): void {
    this.handlers = handlers;
    const run: Run = { id: ++this.run, after: afterRevision, handlers };
    // At once, so that no progress marker of the previous run's position reaches the hub.
    this.position = afterRevision;
    void this.messages?.close();
    this.messages = undefined;
    this.follow(run).catch((err: Error) => this.fail(run, err));
  }

  private async follow(run: Run): Promise<void> {
    const compact = await this.compactRevision();
    if (!this.isCurrent(run)) return;
    if (run.after + 1 < compact) {
      run.handlers.onError(new Error(`revision ${run.after} is below the store's compact revision ${compact}`), true);
      return;
    }
    const from = this.firstSequenceToRead(run.after);
    const consumer = await this.js.consumers.get(this.opts.stream, { opt_start_seq: from });
    if (!this.isCurrent(run)) return;
    const messages = await consumer.consume({
      max_messages: 4096,
      callback: (m) => {
        if (this.isCurrent(run)) this.onMessage(run, m);
      },
    });
    if (!this.isCurrent(run)) {
      await messages.close();
      return;
    }
    this.messages = messages;
    this.scheduleCompactionCheck(run);
    await messages.closed();
    if (this.isCurrent(run)) run.handlers.onError(new Error('the stream consumer closed'), false);
  }

  /** Where to read so that every message after `after` gets a verdict; a new ledger when the old one cannot tell. */
  private firstSequenceToRead(after: number): number {
    const from = this.ledger.firstSequenceToRead(after);
    if (from !== undefined) return from;
    this.opts.logger.info({ after, ledgerPosition: this.ledger.position }, 'change feed: replaying the log from sequence 1 to evaluate guards');
    this.ledger = new GuardLedger();
    return 1;
  }

  private isCurrent(run: Run): boolean {
    return run.id === this.run && !this.stopped;
  }

  /** Ends a run with an error; the hub restarts the feed. A ledger the log contradicted is dropped (the restart replays). */
  private fail(run: Run, err: Error): void {
    if (!this.isCurrent(run)) return;
    this.run++;
    void this.messages?.close();
    if (err instanceof LogOrderError) this.ledger = new GuardLedger();
    run.handlers.onError(err, false);
  }

  private onMessage(run: Run, m: JsMsg): void {
    const seq = m.seq;
    const msg = decodeLogMessage(this.prefix, m.subject, m.data);
    let verdict: Verdict;
    try {
      verdict = seq <= this.ledger.position ? this.ledger.recall(seq) : this.ledger.apply(seq, msg);
    } catch (err) {
      this.fail(run, err as Error);
      return;
    }
    if (msg.kind === 'invalid' && seq > this.position) this.opts.logger.warn({ seq, subject: m.subject, reason: msg.reason }, 'invalid log message: it takes no effect');
    // Messages up to the run's start only feed the ledger; the hub already has their changes.
    if (seq <= this.position) return;
    this.position = seq;
    run.handlers.onBatch({ revision: seq, events: verdict.effective ? changeEvents(seq, msg) : [] });
  }

  private scheduleCompactionCheck(run: Run): void {
    clearInterval(this.compactionTimer);
    const every = this.opts.compactionCheckMs ?? 10_000;
    this.compactionTimer = setInterval(() => {
      this.compactRevision().then(
        (c) => {
          if (this.isCurrent(run) && this.position + 1 < c) {
            this.fail(run, new Error(`the store compacted to ${c} past the feed's position ${this.position}`));
          }
        },
        (err: Error) => this.opts.logger.warn({ err: err.message }, `cannot read the store's compaction record; checking again in ${every} ms`),
      );
    }, every);
    this.compactionTimer.unref();
  }

  requestProgress(): void {
    const h = this.handlers;
    if (!h) return;
    const run = this.run;
    // A failed read only delays the marker: the hub asks again while it waits.
    this.jsm.streams.info(this.opts.stream).then(
      (info) => {
        if (run === this.run && this.position >= info.state.last_seq) h.onBatch({ revision: this.position, events: [] });
      },
      (err: Error) => this.opts.logger.debug({ err: err.message }, 'progress request failed'),
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

/** The changes of an entry that took effect, as change events at its revision. */
function changeEvents(seq: number, msg: LogMessage): ChangeEvent[] {
  const changes: LogChange[] = msg.kind === 'single-key' ? [msg.change] : msg.kind === 'multi-key' ? msg.changes : [];
  return changes.map((c) =>
    c.type === 'delete'
      ? { type: 'DELETE', key: c.key.toString('utf8'), revision: seq }
      : { type: 'PUT', key: c.key.toString('utf8'), value: Buffer.from(c.value), revision: seq },
  );
}
