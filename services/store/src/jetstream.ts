// The Backend on NATS JetStream: the log is one stream (file storage, 1 or 3 replicas) whose
// sequence numbers are the store's revisions; metadata lives in the key-value bucket
// "<stream>-meta". Compare-and-swap appends use JetStream's own checks
// (Nats-Expected-Last-Subject-Sequence, Nats-Expected-Last-Sequence); nats-server 2.9 can
// let two concurrent publishes pass them (nats-io/nats-server#4320), so the store's
// apply-time guard (mvcc.ts) decides single-key compare-and-swaps. Every call is bounded by
// a timeout; a lost quorum surfaces as UnavailableError, never as a silent success.
import { MIN_NATS_SERVER, natsVersionOk } from '@k8ts/kit';
import type { Logger } from 'pino';
import {
  AckPolicy,
  connect,
  createInbox,
  DeliverPolicy,
  DiscardPolicy,
  ErrorCode,
  headers as natsHeaders,
  JetStreamClient,
  JetStreamManager,
  KV,
  Msg,
  NatsConnection,
  NatsError,
  Subscription as NatsSubscription,
  ReplayPolicy,
  RetentionPolicy,
  StorageType,
  nanos,
} from 'nats';
import {
  AppendExpectation,
  Backend,
  ConflictError,
  LogMessage,
  MetaEntry,
  MetaWatchHandler,
  Subscription,
  UnavailableError,
} from './backend';
import type { NatsConnectAuth } from '@k8ts/kit';

export interface JetStreamBackendOptions {
  urls: string[];
  stream: string;
  subjectPrefix: string;
  replicas: number;
  /** Bound on every publish and API request, in ms. */
  timeoutMs: number;
  /** Connection name shown by the NATS server. */
  name: string;
  logger: Logger;
  /** The store's NATS credentials (natsauth.ts); none: anonymous. */
  auth?: NatsConnectAuth;
}

const WRONG_LAST_SEQUENCE = 10071;

/** Describes an error from nats.js for logs and messages. */
function describe(err: unknown): string {
  const ne = err as NatsError;
  if (ne?.api_error) return `${ne.api_error.description} (JetStream error ${ne.api_error.err_code})`;
  return `${(err as Error)?.message ?? String(err)}${ne?.code ? ` (${ne.code})` : ''}`;
}

/** Maps a nats.js error to the Backend's errors. */
function mapError(err: unknown, what: string, timeoutMs: number): Error {
  const ne = err as NatsError;
  if (ne?.api_error?.err_code === WRONG_LAST_SEQUENCE) {
    const m = /wrong last sequence: (\d+)/i.exec(ne.api_error.description ?? '');
    return new ConflictError(ne.api_error.description, m ? Number(m[1]) : undefined);
  }
  if (ne?.code === 'TIMEOUT') {
    return new UnavailableError(`${what}: JetStream did not answer within ${timeoutMs} ms (no quorum, or NATS unreachable)`, { cause: err });
  }
  if (ne?.code === '503' || /no responders/i.test(ne?.message ?? '')) {
    return new UnavailableError(`${what}: JetStream is not available (no responders: stream without a leader or quorum, or JetStream disabled)`, { cause: err });
  }
  if (ne?.code === 'CONNECTION_CLOSED' || ne?.code === 'CONNECTION_DRAINING' || ne?.code === 'DISCONNECT') {
    return new UnavailableError(`${what}: not connected to NATS`, { cause: err });
  }
  return new UnavailableError(`${what}: ${describe(err)}`, { cause: err });
}

/**
 * Publishes to the stream and matches acknowledgements on one wildcard reply subscription:
 * publishes issued in the same turn of the event loop leave in one socket write, and no
 * per-request timer or error object is created (nats.js' request path does both), which
 * matters at tens of thousands of writes per second. Timeouts are swept every 50 ms.
 */
class Publisher {
  private readonly prefix: string;
  private readonly sub: NatsSubscription;
  private next = 0;
  private readonly pending = new Map<string, { resolve: (seq: number) => void; reject: (err: Error) => void; deadline: number }>();
  private queue: { subject: string; data: Uint8Array; expect: AppendExpectation; token: string }[] = [];
  private flushScheduled = false;
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly nc: NatsConnection,
    private readonly timeoutMs: number,
  ) {
    this.prefix = createInbox() + '.';
    this.sub = nc.subscribe(this.prefix + '*', { callback: (err, msg) => this.onAck(err, msg) });
    this.sweeper = setInterval(() => this.sweep(), 50);
    this.sweeper.unref();
  }

  publish(subject: string, data: Uint8Array, expect: AppendExpectation): Promise<number> {
    return new Promise((resolve, reject) => {
      const token = (this.next++).toString(36);
      this.pending.set(token, { resolve, reject, deadline: Date.now() + this.timeoutMs });
      this.queue.push({ subject, data, expect, token });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.flushScheduled = false;
    const q = this.queue;
    this.queue = [];
    for (const p of q) {
      const h = natsHeaders();
      if (p.expect.lastSubjectSeq !== undefined) h.set('Nats-Expected-Last-Subject-Sequence', String(p.expect.lastSubjectSeq));
      if (p.expect.lastSeq !== undefined) h.set('Nats-Expected-Last-Sequence', String(p.expect.lastSeq));
      try {
        this.nc.publish(p.subject, p.data, { reply: this.prefix + p.token, headers: h });
      } catch (err) {
        this.settle(p.token, undefined, mapError(err, 'publish', this.timeoutMs));
      }
    }
  }

  private settle(token: string, seq: number | undefined, err?: Error): void {
    const w = this.pending.get(token);
    if (!w) return;
    this.pending.delete(token);
    if (err) w.reject(err);
    else w.resolve(seq!);
  }

  private onAck(err: NatsError | null, msg: Msg): void {
    if (err) return;
    const token = msg.subject.slice(this.prefix.length);
    if (msg.headers && msg.headers.hasError && msg.data.length === 0) {
      const code = msg.headers.code;
      this.settle(token, undefined, new UnavailableError(
        code === 503
          ? 'publish: JetStream is not available (no responders: stream without a leader or quorum, or JetStream disabled)'
          : `publish: ${code} ${msg.headers.description}`,
      ));
      return;
    }
    let ack: { seq?: number; error?: { code: number; err_code: number; description: string } };
    try {
      ack = JSON.parse(Buffer.from(msg.data.buffer, msg.data.byteOffset, msg.data.length).toString());
    } catch (e) {
      this.settle(token, undefined, new UnavailableError(`publish: undecodable acknowledgement: ${(e as Error).message}`));
      return;
    }
    if (ack.error) {
      if (ack.error.err_code === WRONG_LAST_SEQUENCE) {
        const m = /wrong last sequence: (\d+)/i.exec(ack.error.description ?? '');
        this.settle(token, undefined, new ConflictError(ack.error.description, m ? Number(m[1]) : undefined));
      } else {
        this.settle(token, undefined, new UnavailableError(`publish: ${ack.error.description} (JetStream error ${ack.error.err_code})`));
      }
      return;
    }
    if (!ack.seq) {
      this.settle(token, undefined, new UnavailableError('publish: acknowledgement without a sequence'));
      return;
    }
    this.settle(token, ack.seq);
  }

  private sweep(): void {
    if (this.pending.size === 0) return;
    const now = Date.now();
    for (const [token, w] of this.pending) {
      if (w.deadline <= now) {
        this.pending.delete(token);
        w.reject(new UnavailableError(`publish: JetStream did not acknowledge within ${this.timeoutMs} ms (no quorum, or NATS unreachable)`));
      }
    }
  }

  close(): void {
    clearInterval(this.sweeper);
    this.sub.unsubscribe();
    for (const [token] of this.pending) this.settle(token, undefined, new UnavailableError('publish: store stopped'));
  }
}

/** How often the follower's consumer sends heartbeats when idle, ms. */
const HEARTBEAT_MS = 1000;

/**
 * Follows the stream with an ephemeral push consumer (flow control, heartbeats, in-memory,
 * one replica) that it manages itself: it checks that consumer sequences have no gaps,
 * checks every jump in stream sequences against the stream (see fill()), answers
 * flow-control requests, and re-creates the consumer from the next expected
 * sequence whenever messages went missing, heartbeats stopped (the consumer's server died,
 * or a reconnect lost deliveries), or the stream head is ahead while nothing arrives.
 */
class Follower {
  private stopped = false;
  private sub?: NatsSubscription;
  private consumerName?: string;
  private lastConsumerSeq = 0;
  private lastActivity = Date.now();
  private lastProgress = Date.now();
  private watchdog?: NodeJS.Timeout;
  private recreating = false;
  private generation = 0;
  /** Deliveries held while a gap in stream sequences is checked (see fill()). */
  private held?: LogMessage[];

  constructor(
    private readonly nc: NatsConnection,
    private readonly jsm: JetStreamManager,
    private readonly opts: JetStreamBackendOptions,
    private nextSeq: number,
    private readonly onMessage: (m: LogMessage) => void,
    private readonly onError: (err: Error) => void,
    private readonly head: () => Promise<number>,
    private readonly gapsExpectedBelow: () => number,
    private readonly nextMessage: (seq: number) => Promise<LogMessage | undefined>,
  ) {
    this.nextSeq = Math.max(1, nextSeq);
  }

  start(): void {
    this.watchdog = setInterval(() => void this.check(), HEARTBEAT_MS);
    this.watchdog.unref();
    void this.recreate('start');
  }

  stop(): void {
    this.stopped = true;
    if (this.watchdog) clearInterval(this.watchdog);
    this.drop();
  }

  private drop(): void {
    this.sub?.unsubscribe();
    this.sub = undefined;
    const name = this.consumerName;
    this.consumerName = undefined;
    if (name && !this.nc.isClosed()) void this.jsm.consumers.delete(this.opts.stream, name).catch(() => undefined);
  }

  /** (Re)creates the consumer from nextSeq; retries until it succeeds or the follower stops. */
  private async recreate(why: string): Promise<void> {
    if (this.recreating || this.stopped) return;
    this.recreating = true;
    const gen = ++this.generation;
    this.held = undefined;
    try {
      this.drop();
      if (why !== 'start') this.onError(new Error(`re-creating the stream consumer from sequence ${this.nextSeq}: ${why}`));
      for (let attempt = 0; !this.stopped; attempt++) {
        const inbox = createInbox();
        const sub = this.nc.subscribe(inbox, { callback: (err, msg) => this.onDelivery(gen, err, msg) });
        try {
          this.lastConsumerSeq = 0;
          const info = await this.jsm.consumers.add(this.opts.stream, {
            deliver_subject: inbox,
            deliver_policy: DeliverPolicy.StartSequence,
            opt_start_seq: this.nextSeq,
            ack_policy: AckPolicy.None,
            replay_policy: ReplayPolicy.Instant,
            flow_control: true,
            idle_heartbeat: nanos(HEARTBEAT_MS),
            mem_storage: true,
            num_replicas: 1,
            inactive_threshold: nanos(60_000),
            max_deliver: 1,
          });
          if (this.stopped) {
            sub.unsubscribe();
            void this.jsm.consumers.delete(this.opts.stream, info.name).catch(() => undefined);
            return;
          }
          this.sub = sub;
          this.consumerName = info.name;
          this.lastActivity = Date.now();
          this.lastProgress = Date.now();
          return;
        } catch (err) {
          sub.unsubscribe();
          if (attempt % 10 === 0) this.onError(mapError(err, 'create the stream consumer', this.opts.timeoutMs));
          await new Promise((r) => setTimeout(r, 250));
        }
      }
    } finally {
      this.recreating = false;
    }
  }

  private onDelivery(gen: number, err: NatsError | null, msg: Msg): void {
    if (err || gen !== this.generation || this.stopped) return;
    this.lastActivity = Date.now();
    if (msg.data.length === 0 && msg.headers && msg.headers.code === 100) {
      // Flow control request or idle heartbeat.
      if (msg.reply) msg.respond();
      const stalled = msg.headers.get('Nats-Consumer-Stalled');
      if (stalled) this.nc.publish(stalled);
      const lastConsumer = Number(msg.headers.get('Nats-Last-Consumer') || 0);
      if (lastConsumer > this.lastConsumerSeq) void this.recreate(`heartbeat reports consumer sequence ${lastConsumer}, last received ${this.lastConsumerSeq}`);
      return;
    }
    const info = parseAckSubject(msg.reply);
    if (!info) return;
    if (info.consumerSeq !== this.lastConsumerSeq + 1) {
      void this.recreate(`consumer sequence ${info.consumerSeq} after ${this.lastConsumerSeq}`);
      return;
    }
    this.lastConsumerSeq = info.consumerSeq;
    if (info.streamSeq < this.nextSeq) return;
    const m: LogMessage = { seq: info.streamSeq, subject: msg.subject, data: msg.data };
    if (this.held) {
      this.held.push(m);
      return;
    }
    if (m.seq > Math.max(this.nextSeq, this.gapsExpectedBelow())) {
      // Consumer sequences are contiguous, but stream sequences jumped: either the messages
      // in between were removed, or the server moved the consumer past messages that exist
      // (nats-server 2.9 does so when a subject is purged; fixed in nats-io/nats-server#3838).
      // Hold deliveries and look the missing sequences up.
      this.held = [m];
      void this.fill(this.generation);
      return;
    }
    this.deliver(m);
  }

  private deliver(m: LogMessage): void {
    this.nextSeq = m.seq + 1;
    this.lastProgress = Date.now();
    this.onMessage(m);
  }

  /** Delivers the held messages in order, fetching any existing message the consumer skipped. */
  private async fill(gen: number): Promise<void> {
    let failures = 0;
    while (!this.stopped && gen === this.generation && this.held && this.held.length > 0) {
      const m = this.held[0];
      if (m.seq < this.nextSeq) {
        this.held.shift();
        continue;
      }
      // Holes below gapsExpectedBelow() are known removals.
      const from = Math.max(this.nextSeq, this.gapsExpectedBelow());
      if (m.seq <= from) {
        this.held.shift();
        this.deliver(m);
        continue;
      }
      let next: LogMessage | undefined;
      try {
        next = await this.nextMessage(from);
      } catch (err) {
        if (failures++ % 10 === 0) this.onError(mapError(err, `look up stream sequence ${from}`, this.opts.timeoutMs));
        await new Promise((r) => setTimeout(r, 250));
        continue;
      }
      if (this.stopped || gen !== this.generation || !this.held) return;
      if (m.seq < this.nextSeq) continue;
      if (!next || next.seq >= m.seq) {
        // A real gap: the messages in between were removed.
        this.held.shift();
        this.deliver(m);
      } else {
        this.onError(new Error(`the stream consumer skipped sequence ${next.seq} (delivered ${m.seq} after ${this.nextSeq - 1}); fetched it from the stream`));
        this.deliver(next);
      }
    }
    if (gen === this.generation) this.held = undefined;
  }

  /** Re-creates a consumer that went silent, or that is idle while the stream has more. */
  private async check(): Promise<void> {
    if (this.stopped || this.recreating) return;
    const now = Date.now();
    if (!this.sub) return void this.recreate('no consumer');
    if (now - this.lastActivity > 3 * HEARTBEAT_MS) return void this.recreate(`no heartbeat for ${now - this.lastActivity} ms`);
    if (now - this.lastProgress > 5 * HEARTBEAT_MS) {
      this.lastProgress = now;
      try {
        const head = await this.head();
        if (head >= this.nextSeq && !this.stopped) void this.recreate(`stream is at ${head} but nothing arrived after ${this.nextSeq - 1}`);
      } catch {
        // JetStream unreachable: the heartbeat check will act once it is back.
      }
    }
  }
}

/** Stream and consumer sequences from a JetStream delivery's reply subject ($JS.ACK...). */
export function parseAckSubject(reply: string | undefined): { streamSeq: number; consumerSeq: number } | undefined {
  if (!reply || !reply.startsWith('$JS.ACK.')) return undefined;
  const t = reply.split('.');
  // v1: $JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending>
  // v2: $JS.ACK.<domain>.<account>.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending>[.<token>]
  const base = t.length === 9 ? 5 : t.length >= 11 ? 7 : -1;
  if (base < 0) return undefined;
  const streamSeq = Number(t[base]);
  const consumerSeq = Number(t[base + 1]);
  if (!Number.isSafeInteger(streamSeq) || !Number.isSafeInteger(consumerSeq)) return undefined;
  return { streamSeq, consumerSeq };
}

export class JetStreamBackend implements Backend {
  private disconnected = false;
  private bytes = 0;
  private closing = false;
  private readonly publisher: Publisher;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly kv: KV,
    private readonly opts: JetStreamBackendOptions,
  ) {
    this.publisher = new Publisher(nc, opts.timeoutMs);
    void this.watchStatus();
  }

  /** Connects, creates the stream and the metadata bucket if needed. */
  static async open(opts: JetStreamBackendOptions): Promise<JetStreamBackend> {
    const { logger } = opts;
    let nc: NatsConnection | undefined;
    for (let attempt = 0; !nc; attempt++) {
      try {
        nc = await connect({
          ...opts.auth,
          servers: opts.urls,
          name: opts.name,
          maxReconnectAttempts: -1,
          reconnectTimeWait: 250,
          pingInterval: 10_000,
          timeout: opts.timeoutMs,
        });
      } catch (err) {
        // Credentials NATS refuses stay refused: retrying would only hide the cause.
        if ((err as NatsError).code === ErrorCode.AuthorizationViolation) {
          throw new Error(`NATS refused the store's credentials (${describe(err)}): check --nats-nkey, --nats-creds or --nats-user/--nats-password against the NATS server's authorization`, { cause: err });
        }
        if (attempt % 10 === 0) logger.warn({ err: describe(err), urls: opts.urls }, 'cannot connect to NATS yet; retrying');
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    logger.info({ server: nc.getServer(), maxPayload: nc.info?.max_payload }, 'connected to NATS');
    if (!natsVersionOk(nc.info?.version ?? '')) {
      logger.warn(
        { version: nc.info?.version },
        `nats-server is older than ${MIN_NATS_SERVER}: after a stream leader is killed, replicas of the stream can diverge (seen with 2.9.10); use ${MIN_NATS_SERVER} or later`,
      );
    }
    const jsm = await nc.jetstreamManager({ timeout: opts.timeoutMs });
    const js = nc.jetstream({ timeout: opts.timeoutMs });
    await JetStreamBackend.ensureStream(jsm, opts);
    const kv = await JetStreamBackend.withRetry(logger, 'open metadata bucket', () =>
      js.views.kv(`${opts.stream}-meta`, { history: 1, replicas: opts.replicas, storage: StorageType.File }),
    );
    return new JetStreamBackend(nc, js, jsm, kv, opts);
  }

  private static async withRetry<T>(logger: Logger, what: string, fn: () => Promise<T>, attempts = 60): Promise<T> {
    for (let i = 0; ; i++) {
      try {
        return await fn();
      } catch (err) {
        if (i >= attempts) throw new Error(`${what}: ${describe(err)}`, { cause: err });
        if (i % 5 === 0) logger.warn({ err: describe(err) }, `${what} failed; retrying`);
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  private static async ensureStream(jsm: JetStreamManager, opts: JetStreamBackendOptions): Promise<void> {
    const subjects = [`${opts.subjectPrefix}.>`];
    await JetStreamBackend.withRetry(opts.logger, `create stream ${opts.stream}`, async () => {
      try {
        const info = await jsm.streams.info(opts.stream);
        const have = info.config.subjects ?? [];
        if (have.length !== 1 || have[0] !== subjects[0]) {
          throw Object.assign(new Error(`stream ${opts.stream} exists with subjects ${JSON.stringify(have)}, expected ${JSON.stringify(subjects)}: it is not this store's stream`), { fatal: true });
        }
        if (info.config.num_replicas !== opts.replicas) {
          opts.logger.warn({ stream: opts.stream, have: info.config.num_replicas, want: opts.replicas }, 'stream exists with a different replica count; keeping it');
        }
        return;
      } catch (err) {
        if ((err as { fatal?: boolean }).fatal) throw err;
        if (!/stream not found/i.test((err as Error).message)) throw err;
      }
      try {
        await jsm.streams.add({
          name: opts.stream,
          subjects,
          storage: StorageType.File,
          num_replicas: opts.replicas,
          retention: RetentionPolicy.Limits,
          discard: DiscardPolicy.Old,
          max_msgs: -1,
          max_bytes: -1,
          max_age: 0,
          max_msgs_per_subject: -1,
          duplicate_window: nanos(120_000),
          deny_delete: false,
          deny_purge: false,
          allow_direct: true,
        });
        opts.logger.info({ stream: opts.stream, subjects, replicas: opts.replicas }, 'created stream');
      } catch (err) {
        if (!/already in use/i.test((err as Error).message)) throw err;
      }
    }).catch((err) => {
      const cause = (err as Error).cause as { fatal?: boolean } | undefined;
      if (cause?.fatal) throw cause;
      throw err;
    });
  }

  private async watchStatus(): Promise<void> {
    for await (const s of this.nc.status()) {
      if (s.type === 'disconnect') {
        this.disconnected = true;
        this.opts.logger.warn({ server: s.data }, 'disconnected from NATS');
      } else if (s.type === 'reconnect') {
        this.disconnected = false;
        this.opts.logger.info({ server: s.data }, 'reconnected to NATS');
      }
    }
  }

  get maxPayload(): number {
    return this.nc.info?.max_payload ?? 1024 * 1024;
  }

  append(subject: string, data: Uint8Array, expect: AppendExpectation): Promise<number> {
    return this.publisher.publish(subject, data, expect);
  }

  async head(): Promise<number> {
    try {
      const info = await this.jsm.streams.info(this.opts.stream);
      // During a quorum loss a stream member answers STREAM.INFO from its own, possibly stale
      // copy, without a leader: that is no basis for a linearizable read.
      const replicas = info.config?.num_replicas ?? this.opts.replicas;
      if (replicas > 1 && !info.cluster?.leader) {
        throw new UnavailableError(`store: no JetStream quorum (stream ${this.opts.stream} has no leader)`);
      }
      this.bytes = info.state.bytes;
      return info.state.last_seq;
    } catch (err) {
      if (err instanceof UnavailableError) throw err;
      throw mapError(err, 'stream info', this.opts.timeoutMs);
    }
  }

  async lastSeqOfSubject(subject: string): Promise<number> {
    try {
      const m = await this.jsm.streams.getMessage(this.opts.stream, { last_by_subj: subject });
      return m.seq;
    } catch (err) {
      if ((err as NatsError)?.code === '404' || /no message found/i.test((err as Error).message)) return 0;
      throw mapError(err, 'get last message of subject', this.opts.timeoutMs);
    }
  }

  async message(seq: number): Promise<LogMessage | undefined> {
    try {
      const m = await this.jsm.streams.getMessage(this.opts.stream, { seq });
      return { seq: m.seq, subject: m.subject, data: m.data };
    } catch (err) {
      if ((err as NatsError)?.code === '404' || /no message found/i.test((err as Error).message)) return undefined;
      throw mapError(err, 'get message', this.opts.timeoutMs);
    }
  }

  /** The first message at or after seq (read from the stream leader), undefined if none. */
  async nextMessage(seq: number): Promise<LogMessage | undefined> {
    try {
      const query = { seq, next_by_subj: `${this.opts.subjectPrefix}.>` } as unknown as { seq: number };
      const m = await this.jsm.streams.getMessage(this.opts.stream, query);
      return { seq: m.seq, subject: m.subject, data: m.data };
    } catch (err) {
      if ((err as NatsError)?.code === '404' || /no message found/i.test((err as Error).message)) return undefined;
      throw err;
    }
  }

  follow(fromSeq: number, onMessage: (m: LogMessage) => void, onError: (err: Error) => void, gapsExpectedBelow: () => number = () => 0): Subscription {
    const f = new Follower(this.nc, this.jsm, this.opts, fromSeq, onMessage, onError, () => this.head(), gapsExpectedBelow, (seq) => this.nextMessage(seq));
    f.start();
    return { stop: () => f.stop() };
  }

  async deleteMessage(seq: number): Promise<void> {
    try {
      await this.jsm.streams.deleteMessage(this.opts.stream, seq, false);
    } catch (err) {
      if (/no message found|not found/i.test((err as Error).message)) return;
      throw mapError(err, `delete message ${seq}`, this.opts.timeoutMs);
    }
  }

  async purgeSubject(subject: string, belowSeq: number): Promise<void> {
    try {
      await this.jsm.streams.purge(this.opts.stream, { filter: subject, seq: belowSeq });
    } catch (err) {
      throw mapError(err, `purge ${subject}`, this.opts.timeoutMs);
    }
  }

  async metaGet(key: string): Promise<MetaEntry | undefined> {
    try {
      const e = await this.kv.get(key);
      if (!e || e.operation !== 'PUT') return undefined;
      return { key, value: e.value, revision: e.revision };
    } catch (err) {
      throw mapError(err, `read ${key}`, this.opts.timeoutMs);
    }
  }

  async metaPut(key: string, value: Uint8Array, expectedRevision: number): Promise<number> {
    try {
      return expectedRevision === 0 ? await this.kv.create(key, value) : await this.kv.update(key, value, expectedRevision);
    } catch (err) {
      const mapped = mapError(err, `write ${key}`, this.opts.timeoutMs);
      if (!(mapped instanceof ConflictError) && /wrong last sequence|key exists/i.test((err as Error).message)) {
        throw new ConflictError((err as Error).message);
      }
      throw mapped;
    }
  }

  async metaPutAny(key: string, value: Uint8Array): Promise<number> {
    try {
      return await this.kv.put(key, value);
    } catch (err) {
      throw mapError(err, `write ${key}`, this.opts.timeoutMs);
    }
  }

  async metaDelete(key: string, expectedRevision: number): Promise<void> {
    try {
      await this.kv.delete(key, { previousSeq: expectedRevision });
    } catch (err) {
      const mapped = mapError(err, `delete ${key}`, this.opts.timeoutMs);
      if (!(mapped instanceof ConflictError) && /wrong last sequence/i.test((err as Error).message)) throw new ConflictError((err as Error).message);
      throw mapped;
    }
  }

  metaWatch(pattern: string, h: MetaWatchHandler): Subscription {
    let stopped = false;
    let stopFn: (() => void) | undefined;
    const run = async () => {
      while (!stopped) {
        try {
          h.begin();
          const iter = await this.kv.watch({ key: pattern, initializedFn: () => h.ready() });
          stopFn = () => iter.stop();
          if (stopped) iter.stop();
          for await (const e of iter) {
            h.change({ key: e.key, value: e.operation === 'PUT' ? e.value : undefined, revision: e.revision });
          }
        } catch (err) {
          if (stopped) return;
          this.opts.logger.warn({ err: describe(err), pattern }, 'metadata watch failed; restarting it');
          await new Promise((r) => setTimeout(r, 500));
        }
      }
    };
    void run();
    return {
      stop: () => {
        stopped = true;
        stopFn?.();
      },
    };
  }

  storedBytes(): number {
    return this.bytes;
  }

  problems(): string[] {
    return this.disconnected ? ['not connected to NATS'] : [];
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.publisher.close();
    try {
      await this.nc.drain();
    } catch {
      await this.nc.close().catch(() => undefined);
    }
  }
}
