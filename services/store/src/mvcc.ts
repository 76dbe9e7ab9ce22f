// The in-memory MVCC index: every key's versions since the compact revision, the events of
// every revision (for watches), and what the writer needs to build guarded entries. It is
// rebuilt on start by applying the stream from its first message, and kept current by
// applying each new message in stream order. Which messages take effect is decided by the
// log's one apply rule, @k8ts/machinery's GuardLedger (the same code the apiserver's change
// feed runs), over messages decoded by its codec. Everything here is deterministic: two
// replicas that applied the same messages hold the same index (compaction aside, see compact()).
import type { storev1 } from '@k8ts/api';
import { GuardLedger, type LogChange, type LogMessage, decodeLogMessage, keySubject } from '@k8ts/machinery';

/** One version of a key (a put or a tombstone). Never mutated once applied. */
export interface Version {
  /** The key as a latin1 string: one char per byte, so string order is byte order. */
  keyStr: string;
  key: Buffer;
  /** Revision of this change. */
  mod: number;
  /** create_revision (0 for a tombstone). */
  create: number;
  /** version (0 for a tombstone). */
  version: number;
  value: Buffer;
  lease: number;
  deleted: boolean;
  /** Written by a multi-key entry (subject <prefix>.txn) rather than the key's own subject. */
  viaTxn: boolean;
}

/** One change as a watch event. */
export interface IndexEvent {
  type: 'put' | 'delete';
  /** For a delete: the tombstone (key and mod only). */
  kv: Version;
  /** The live version before the change, if any. */
  prev?: Version;
}

/** The events of one revision, in the order of the entry's changes. */
export interface RevisionEvents {
  rev: number;
  events: IndexEvent[];
}

/** The outcome of applying one message. */
export interface ApplyResult {
  seq: number;
  /** The message took effect (false for a void guarded entry or an invalid message). */
  applied: boolean;
  events: IndexEvent[];
  /** Why the apply rule gave it no effect: its guard failed, or it breaks the log format. */
  cause?: 'void' | 'invalid';
  /** Why a message was not applied (void guard, bad payload, already applied). */
  reason?: string;
  /** The Genesis record, when the message was the stream's first. */
  genesis?: storev1.Genesis;
  /** The entry's writer and request id, for the writer's bookkeeping. */
  writer?: string;
  requestId?: number;
}

/** What a physical compaction must remove from the stream, in this order (see compact()). */
export interface PurgePlan {
  /** Delete these void entries first (JetStream message delete). */
  voidDeletes: number[];
  /** Purge these subjects below these sequences (JetStream purge with filter and seq). */
  subjectPurges: { subject: string; below: number }[];
  /** Delete these multi-key messages last (JetStream message delete). */
  txnDeletes: number[];
}

class KeyRecord {
  versions: Version[] = [];
  constructor(
    readonly keyStr: string,
    readonly key: Buffer,
    readonly subject: string,
  ) {}
  /** The newest version, tombstone or not. */
  last(): Version | undefined {
    return this.versions[this.versions.length - 1];
  }
  /** The live version at `rev` (undefined if the key did not exist then). */
  at(rev: number): Version | undefined {
    const vs = this.versions;
    // Fast path: the current version.
    const top = vs[vs.length - 1];
    if (top && top.mod <= rev) return top.deleted ? undefined : top;
    let lo = 0;
    let hi = vs.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (vs[mid].mod <= rev) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (found < 0) return undefined;
    const v = vs[found];
    return v.deleted ? undefined : v;
  }
}

const EMPTY = Buffer.alloc(0);

/** Finds the first index in a sorted string array whose element is >= key. */
function lowerBound(arr: string[], key: string): number {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (arr[mid] < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A key range: [start, end); end undefined = the single key start; end '' = every key >= start. */
export interface KeyRange {
  start: string;
  end?: string;
}

/** Whether a key is in a range. */
export function inRange(r: KeyRange, key: string): boolean {
  if (r.end === undefined) return key === r.start;
  return key >= r.start && (r.end === '' || key < r.end);
}

export class MvccIndex {
  /** The applied revision: the sequence of the last message applied (1 after genesis). */
  rev = 0;
  /** Revisions below this are compacted (unreadable). 0: nothing compacted. */
  compactRev = 0;
  /** The genesis record, once applied. */
  genesis?: storev1.Genesis;
  /** The log's apply rule: decides which messages take effect (guards of single-key entries). */
  readonly ledger = new GuardLedger();

  private readonly records = new Map<string, KeyRecord>();
  private sorted: string[] = [];
  private sortedDirty = false;
  /** Events of each revision >= compactRev that had events, in revision order. */
  private log: RevisionEvents[] = [];
  /** Live keys by lease. */
  private readonly leaseKeys = new Map<number, Set<string>>();
  /** Last sequence seen on each key subject (for Nats-Expected-Last-Subject-Sequence). */
  private readonly subjectSeq = new Map<string, number>();
  /** Void (or invalid) entries on key subjects not yet known to be deleted from the stream. */
  private readonly voids = new Set<number>();
  /** Keys of multi-key entries that may still be in the stream (for physical compaction). */
  private readonly txnKeys = new Map<number, string[]>();
  /** Total bytes of live keys and values (approximate size for Status). */
  liveBytes = 0;
  liveKeys = 0;

  constructor(readonly prefix: string) {}

  /** W: the guard window of the stream (from its genesis; throws before the genesis). */
  get guardWindow(): number {
    return this.ledger.requireGuardWindow();
  }

  // ---- reads ----

  /** The live version of a key at rev (default: current). */
  get(keyStr: string, rev = this.rev): Version | undefined {
    return this.records.get(keyStr)?.at(rev);
  }

  /** The subject of a key's single-key entries. */
  subjectOf(keyStr: string, key: Buffer): string {
    return this.records.get(keyStr)?.subject ?? keySubject(this.prefix, key);
  }

  /** The last sequence known on a key subject (0: none). */
  lastSubjectSeq(subject: string): number {
    return this.subjectSeq.get(subject) ?? 0;
  }

  /** Live versions in a range at rev, in key order. */
  range(r: KeyRange, rev = this.rev): Version[] {
    const out: Version[] = [];
    this.forEachInRange(r, rev, (v) => {
      out.push(v);
    });
    return out;
  }

  /** Number of live keys in a range at rev. */
  count(r: KeyRange, rev = this.rev): number {
    let n = 0;
    this.forEachInRange(r, rev, () => {
      n++;
    });
    return n;
  }

  /** Calls fn for each live version in the range at rev, in key order; fn returns false to stop. */
  forEachInRange(r: KeyRange, rev: number, fn: (v: Version) => boolean | void): void {
    if (r.end === undefined) {
      const v = this.get(r.start, rev);
      if (v) fn(v);
      return;
    }
    const sorted = this.sortedKeys();
    for (let i = lowerBound(sorted, r.start); i < sorted.length; i++) {
      const k = sorted[i];
      if (r.end !== '' && k >= r.end) break;
      const v = this.records.get(k)!.at(rev);
      if (v && fn(v) === false) return;
    }
  }

  /** Live keys attached to a lease (current revision), sorted. */
  keysOfLease(lease: number): string[] {
    return [...(this.leaseKeys.get(lease) ?? [])].sort();
  }

  /** Every lease that has live keys. */
  leasesInUse(): number[] {
    return [...this.leaseKeys.keys()];
  }

  /** Whether a message was a void guarded entry (known for entries not yet purged). */
  isVoid(seq: number): boolean {
    return this.voids.has(seq);
  }

  /** The revisions with events in [from, to], in order (for watch catch-up). */
  eventsBetween(from: number, to = this.rev, maxRevisions = Infinity): RevisionEvents[] {
    const log = this.log;
    let lo = 0;
    let hi = log.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (log[mid].rev < from) lo = mid + 1;
      else hi = mid;
    }
    const out: RevisionEvents[] = [];
    for (let i = lo; i < log.length && log[i].rev <= to && out.length < maxRevisions; i++) out.push(log[i]);
    return out;
  }

  /** Number of keys with any retained version (live or not). */
  get recordCount(): number {
    return this.records.size;
  }

  private sortedKeys(): string[] {
    if (this.sortedDirty) {
      this.sorted = [...this.records.keys()].sort();
      this.sortedDirty = false;
    }
    return this.sorted;
  }

  private record(keyStr: string, key: Buffer): KeyRecord {
    let rec = this.records.get(keyStr);
    if (!rec) {
      rec = new KeyRecord(keyStr, Buffer.from(key), keySubject(this.prefix, key));
      this.records.set(keyStr, rec);
      if (!this.sortedDirty) {
        const sorted = this.sorted;
        const i = lowerBound(sorted, keyStr);
        // Appending is the common case; a splice is O(n) but memmove-fast. Very large
        // indexes fall back to a lazy full sort on the next range.
        if (i === sorted.length) sorted.push(keyStr);
        else if (sorted.length < 200_000) sorted.splice(i, 0, keyStr);
        else this.sortedDirty = true;
      }
    }
    return rec;
  }

  // ---- apply ----

  /**
   * Applies the message at `seq` (which must be > rev). The ledger decides whether it takes
   * effect; a message that is void or invalid changes nothing but its revision is used up.
   * Throws (LogOrderError) only when the log breaks its contract: an entry before the genesis.
   */
  apply(seq: number, subject: string, data: Uint8Array): ApplyResult {
    if (seq <= this.rev) return { seq, applied: false, events: [], reason: 'already applied' };
    const msg = decodeLogMessage(this.prefix, subject, data);
    const verdict = this.ledger.apply(seq, msg);
    const result: ApplyResult = verdict.effective
      ? this.applyEffective(seq, msg)
      : { seq, applied: false, events: [], cause: verdict.cause, reason: verdict.reason, ...originOf(msg) };
    if (msg.kind === 'single-key' || (msg.kind === 'invalid' && msg.subject === 'key')) {
      this.subjectSeq.set(subject, seq);
      if (!verdict.effective) this.voids.add(seq);
    }
    this.rev = seq;
    return result;
  }

  private applyEffective(seq: number, msg: LogMessage): ApplyResult {
    switch (msg.kind) {
      case 'genesis':
        this.genesis = msg.genesis;
        return { seq, applied: true, events: [], genesis: msg.genesis };
      case 'single-key':
        return { seq, applied: true, events: this.applyChanges(seq, [msg.change], false), ...originOf(msg) };
      case 'multi-key':
        this.txnKeys.set(seq, msg.changes.map((c) => c.keyStr));
        return { seq, applied: true, events: this.applyChanges(seq, msg.changes, true), ...originOf(msg) };
      case 'invalid':
        throw new Error(`invalid message ${seq} judged effective: ${msg.reason}`);
    }
  }

  /** Applies the changes of an effective entry at seq; returns their watch events. */
  private applyChanges(seq: number, changes: LogChange[], viaTxn: boolean): IndexEvent[] {
    const events: IndexEvent[] = [];
    for (const c of changes) {
      const ev = c.type === 'delete' ? this.del(seq, c.keyStr, viaTxn) : this.put(seq, c, viaTxn);
      if (ev) events.push(ev);
    }
    if (events.length > 0) this.log.push({ rev: seq, events });
    return events;
  }

  private put(seq: number, c: LogChange, viaTxn: boolean): IndexEvent {
    const keyStr = c.keyStr;
    const rec = this.record(keyStr, c.key);
    const prevLast = rec.last();
    const prev = prevLast && !prevLast.deleted ? prevLast : undefined;
    const v: Version = {
      keyStr,
      key: rec.key,
      mod: seq,
      // 0 means "this put creates the key"; a put written without a version counts on.
      create: c.createRevision || seq,
      version: c.version || (prev?.version ?? 0) + 1,
      value: c.value,
      lease: c.lease,
      deleted: false,
      viaTxn,
    };
    rec.versions.push(v);
    if (prev) {
      this.detachLease(prev);
      this.liveBytes -= prev.key.length + prev.value.length;
    } else this.liveKeys++;
    this.attachLease(v);
    this.liveBytes += v.key.length + v.value.length;
    return { type: 'put', kv: v, prev };
  }

  private del(seq: number, keyStr: string, viaTxn: boolean): IndexEvent | undefined {
    const rec = this.records.get(keyStr);
    const last = rec?.last();
    if (!rec || !last || last.deleted) return undefined;
    const tomb: Version = { keyStr, key: rec.key, mod: seq, create: 0, version: 0, value: EMPTY, lease: 0, deleted: true, viaTxn };
    rec.versions.push(tomb);
    this.detachLease(last);
    this.liveKeys--;
    this.liveBytes -= last.key.length + last.value.length;
    return { type: 'delete', kv: tomb, prev: last };
  }

  private attachLease(v: Version): void {
    if (!v.lease) return;
    let set = this.leaseKeys.get(v.lease);
    if (!set) this.leaseKeys.set(v.lease, (set = new Set()));
    set.add(v.keyStr);
  }

  private detachLease(v: Version): void {
    if (!v.lease) return;
    const set = this.leaseKeys.get(v.lease);
    if (!set) return;
    set.delete(v.keyStr);
    if (set.size === 0) this.leaseKeys.delete(v.lease);
  }

  // ---- compaction ----

  /**
   * Logical compaction at revision c: afterwards revisions below c are unreadable. Each key
   * keeps its versions from c on, plus its live version at c (if any). Watch history keeps
   * the events of revisions >= c.
   *
   * planPurge(c), called before compact(c), says what the stream may lose (physical
   * compaction), in the order it must be removed:
   *  1. void entries below c (before any multi-key entry that made one of them void goes);
   *  2. on each key subject, everything below the key's last change before c if that change
   *     is a put on this subject (the value live at c-1), else everything below c;
   *  3. multi-key entries more than W revisions below c that hold no key's value live at
   *     c-1. A multi-key entry that stays may hold stale changes of other keys: replaying
   *     it must not resurrect them, so their later deletes below c stay too (transitively).
   * Replaying what is left gives the exact state at c-1 and every revision after it, and
   * every remaining guard evaluates as it did.
   */
  compact(c: number): void {
    if (c <= this.compactRev) return;
    let removed = false;
    for (const [keyStr, rec] of this.records) {
      const vs = rec.versions;
      if (vs.length === 0 || vs[0].mod > c) continue;
      let i = vs.length - 1;
      while (i > 0 && vs[i].mod > c) i--;
      const keepFrom = vs[i].deleted ? i + 1 : i;
      if (keepFrom > 0) rec.versions = vs.slice(keepFrom);
      if (rec.versions.length === 0) {
        this.records.delete(keyStr);
        this.subjectSeq.delete(rec.subject);
        removed = true;
      }
    }
    if (removed) this.sortedDirty = true;
    let drop = 0;
    while (drop < this.log.length && this.log[drop].rev < c) drop++;
    if (drop > 0) this.log = this.log.slice(drop);
    this.compactRev = c;
  }

  /** Void entries below a revision (to delete before a compaction at that revision). */
  voidsBelow(rev: number): number[] {
    return [...this.voids].filter((v) => v < rev).sort((a, b) => a - b);
  }

  /** Forgets multi-key entries deleted from the stream. */
  forgetTxns(seqs: number[]): void {
    for (const s of seqs) this.txnKeys.delete(s);
  }

  /** Forgets void entries below a revision whose physical purge completed. */
  forgetVoidsBelow(rev: number): void {
    for (const v of this.voids) if (v < rev) this.voids.delete(v);
  }

  /** What a physical compaction at c removes (see compact()); call before compact(c). Pure. */
  planPurge(c: number): PurgePlan {
    // The last change below c of every key that has one.
    const below = new Map<string, { rec: KeyRecord; last: Version; onSubject: boolean }>();
    for (const [keyStr, rec] of this.records) {
      const vs = rec.versions;
      if (vs.length === 0 || vs[0].mod >= c) continue;
      let i = vs.length - 1;
      while (vs[i].mod >= c) i--;
      let onSubject = false;
      for (let j = 0; j <= i; j++) if (!vs[j].viaTxn) onSubject = true;
      below.set(keyStr, { rec, last: vs[i], onSubject });
    }
    // Multi-key entries that must stay, and the tombstones they keep.
    const retained = new Set<number>();
    const keepTombstone = new Map<string, number>();
    const work: number[] = [];
    const retain = (seq: number) => {
      if (!retained.has(seq)) {
        retained.add(seq);
        work.push(seq);
      }
    };
    for (const { last } of below.values()) if (!last.deleted && last.viaTxn) retain(last.mod);
    const w = this.guardWindow;
    for (const seq of this.txnKeys.keys()) if (seq >= c - w) retain(seq);
    while (work.length > 0) {
      const t = work.pop()!;
      for (const k of this.txnKeys.get(t) ?? []) {
        const b = below.get(k);
        if (!b || b.last.mod <= t || !b.last.deleted) continue;
        if (b.last.viaTxn) retain(b.last.mod);
        else keepTombstone.set(k, Math.min(keepTombstone.get(k) ?? Infinity, b.last.mod));
      }
    }
    const txnDeletes = [...this.txnKeys.keys()].filter((seq) => seq < c && !retained.has(seq)).sort((a, b) => a - b);
    const voidDeletes = this.voidsBelow(c);
    const subjectPurges: { subject: string; below: number }[] = [];
    for (const [keyStr, { rec, last, onSubject }] of below) {
      if (!onSubject) continue;
      let purgeBelow = !last.deleted && !last.viaTxn ? last.mod : c;
      // Keep the last W revisions: they witness the guards of the entries from c on.
      if (purgeBelow > c - w) purgeBelow = c - w;
      if (purgeBelow <= 1) continue;
      const tomb = keepTombstone.get(keyStr);
      if (tomb !== undefined && tomb < purgeBelow) purgeBelow = tomb;
      subjectPurges.push({ subject: rec.subject, below: purgeBelow });
    }
    return { voidDeletes, subjectPurges, txnDeletes };
  }
}

/** The writer and request id of an entry (for the writer's bookkeeping). */
function originOf(msg: LogMessage): { writer?: string; requestId?: number } {
  return msg.kind === 'single-key' || msg.kind === 'multi-key' ? { writer: msg.writer, requestId: msg.requestId } : {};
}
