// An in-memory Backend for unit tests: one MemoryLog can be shared by several store
// replicas, each with its own MemoryBackend, and enforces the same compare-and-swap rules
// as JetStream (last sequence, last sequence on a subject). Deliveries are asynchronous, as
// over a network.
import {
  AppendExpectation,
  Backend,
  ConflictError,
  LogMessage,
  MetaChange,
  MetaEntry,
  MetaWatchHandler,
  Subscription,
  UnavailableError,
} from './backend';

export class MemoryLog {
  readonly messages = new Map<number, LogMessage>();
  lastSeq = 0;
  readonly meta = new Map<string, { value: Uint8Array; revision: number }>();
  metaRev = 0;
  /** When false, every operation fails with UnavailableError (a lost quorum). */
  available = true;
  readonly followers = new Set<() => void>();
  readonly metaWatchers = new Set<(c: MetaChange) => void>();

  lastOnSubject(subject: string): number {
    let last = 0;
    for (const m of this.messages.values()) if (m.subject === subject && m.seq > last) last = m.seq;
    return last;
  }

  wake(): void {
    for (const f of this.followers) f();
  }
}

export class MemoryBackend implements Backend {
  private closed = false;
  /** While true, follow() delivers nothing (a replica that lags behind the log). */
  paused = false;
  private wakeSelf?: () => void;
  /** Test hook: follow() silently skips messages for which this returns true (a faulty consumer). */
  skip?: (seq: number) => boolean;

  /** Resumes deliveries after `paused`. */
  resume(): void {
    this.paused = false;
    this.wakeSelf?.();
  }
  constructor(
    readonly log: MemoryLog,
    readonly maxPayload = 1024 * 1024,
  ) {}

  private check(): void {
    if (this.closed) throw new UnavailableError('backend closed');
    if (!this.log.available) throw new UnavailableError('log unavailable (simulated loss of quorum)');
  }

  async append(subject: string, data: Uint8Array, expect: AppendExpectation): Promise<number> {
    await Promise.resolve();
    this.check();
    if (data.length > this.maxPayload) throw new Error(`message of ${data.length} bytes exceeds the maximum payload ${this.maxPayload}`);
    if (expect.lastSeq !== undefined && expect.lastSeq !== this.log.lastSeq) {
      throw new ConflictError(`wrong last sequence: ${this.log.lastSeq}`, this.log.lastSeq);
    }
    if (expect.lastSubjectSeq !== undefined) {
      const last = this.log.lastOnSubject(subject);
      if (last !== expect.lastSubjectSeq) throw new ConflictError(`wrong last sequence: ${last}`, last);
    }
    const seq = ++this.log.lastSeq;
    this.log.messages.set(seq, { seq, subject, data: Uint8Array.from(data) });
    this.log.wake();
    return seq;
  }

  async head(): Promise<number> {
    this.check();
    return this.log.lastSeq;
  }

  async lastSeqOfSubject(subject: string): Promise<number> {
    this.check();
    return this.log.lastOnSubject(subject);
  }

  async message(seq: number): Promise<LogMessage | undefined> {
    this.check();
    return this.log.messages.get(seq);
  }

  follow(fromSeq: number, onMessage: (m: LogMessage) => void): Subscription {
    let next = Math.max(1, fromSeq);
    let scheduled = false;
    let stopped = false;
    const pump = () => {
      scheduled = false;
      if (stopped || this.paused) return;
      while (next <= this.log.lastSeq) {
        const m = this.log.messages.get(next);
        next++;
        if (m && !this.skip?.(m.seq)) onMessage(m);
        if (stopped) return;
      }
    };
    const wake = () => {
      if (!scheduled) {
        scheduled = true;
        setImmediate(pump);
      }
    };
    this.log.followers.add(wake);
    this.wakeSelf = wake;
    wake();
    return {
      stop: () => {
        stopped = true;
        this.log.followers.delete(wake);
      },
    };
  }

  async deleteMessage(seq: number): Promise<void> {
    this.check();
    this.log.messages.delete(seq);
  }

  async purgeSubject(subject: string, belowSeq: number): Promise<void> {
    this.check();
    for (const [seq, m] of this.log.messages) if (m.subject === subject && seq < belowSeq) this.log.messages.delete(seq);
  }

  async metaGet(key: string): Promise<MetaEntry | undefined> {
    this.check();
    const e = this.log.meta.get(key);
    return e ? { key, value: e.value, revision: e.revision } : undefined;
  }

  async metaPut(key: string, value: Uint8Array, expectedRevision: number): Promise<number> {
    await Promise.resolve();
    this.check();
    const cur = this.log.meta.get(key)?.revision ?? 0;
    if (cur !== expectedRevision) throw new ConflictError(`wrong last sequence: ${cur}`, cur);
    return this.metaSet(key, value);
  }

  async metaPutAny(key: string, value: Uint8Array): Promise<number> {
    this.check();
    return this.metaSet(key, value);
  }

  private metaSet(key: string, value: Uint8Array): number {
    const revision = ++this.log.metaRev;
    this.log.meta.set(key, { value, revision });
    for (const w of this.log.metaWatchers) setImmediate(() => w({ key, value, revision }));
    return revision;
  }

  async metaDelete(key: string, expectedRevision: number): Promise<void> {
    await Promise.resolve();
    this.check();
    const cur = this.log.meta.get(key)?.revision ?? 0;
    if (cur === 0 || cur !== expectedRevision) throw new ConflictError(`wrong last sequence: ${cur}`, cur);
    this.log.meta.delete(key);
    const revision = ++this.log.metaRev;
    for (const w of this.log.metaWatchers) setImmediate(() => w({ key, revision }));
  }

  metaWatch(pattern: string, h: MetaWatchHandler): Subscription {
    const matches = (key: string) => (pattern.endsWith('>') ? key.startsWith(pattern.slice(0, -1)) : key === pattern);
    const w = (c: MetaChange) => {
      if (matches(c.key)) h.change(c);
    };
    setImmediate(() => {
      h.begin();
      for (const [key, e] of this.log.meta) if (matches(key)) h.change({ key, value: e.value, revision: e.revision });
      this.log.metaWatchers.add(w);
      h.ready();
    });
    return { stop: () => this.log.metaWatchers.delete(w) };
  }

  storedBytes(): number {
    let n = 0;
    for (const m of this.log.messages.values()) n += m.data.length + m.subject.length;
    return n;
  }

  problems(): string[] {
    return this.log.available ? [] : ['log unavailable'];
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
