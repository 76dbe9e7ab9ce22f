// The watchers of this replica: which watcher wants which events. The index calls
// onRevision() for every applied revision; each synced watcher whose range matches gets
// that revision's matching events queued, all of them together (a revision is never split).
// Watch streams (watch.ts) send what is queued, and catch unsynced watchers up from the
// index's history.
import { IndexEvent, inRange, KeyRange, RevisionEvents } from './mvcc';

export interface WatcherOptions {
  range: KeyRange;
  noPut: boolean;
  noDelete: boolean;
  prevKv: boolean;
  progressNotify: boolean;
}

/** Where a watcher's queued events go: its Watch stream. */
export interface WatchSink {
  /** Some watcher of the stream has new queued events. */
  schedule(): void;
}

export class Watcher {
  /** Next revision to deliver when not synced (catching up from history). */
  nextRev = 0;
  /** Receives live events (true once caught up with the index). */
  synced = false;
  /** Events queued for sending, by revision. */
  pending: RevisionEvents[] = [];
  /** Revisions below this are not delivered (a start revision in the future). */
  minRev = 0;
  /** Events were sent since the last progress tick. */
  sentSinceTick = false;

  constructor(
    readonly id: number,
    readonly opts: WatcherOptions,
    readonly sink: WatchSink,
  ) {}

  /** The events of a revision this watcher wants, or undefined. */
  select(events: IndexEvent[]): IndexEvent[] | undefined {
    let out: IndexEvent[] | undefined;
    for (const ev of events) {
      if (!this.wants(ev)) continue;
      (out ??= []).push(ev);
    }
    return out;
  }

  wants(ev: IndexEvent): boolean {
    if (ev.type === 'put' ? this.opts.noPut : this.opts.noDelete) return false;
    return inRange(this.opts.range, ev.kv.keyStr);
  }
}

export class WatchHub {
  private readonly exact = new Map<string, Set<Watcher>>();
  private readonly ranged = new Set<Watcher>();
  private count = 0;

  add(w: Watcher): void {
    if (w.opts.range.end === undefined) {
      let set = this.exact.get(w.opts.range.start);
      if (!set) this.exact.set(w.opts.range.start, (set = new Set()));
      set.add(w);
    } else this.ranged.add(w);
    this.count++;
  }

  remove(w: Watcher): void {
    if (w.opts.range.end === undefined) {
      const set = this.exact.get(w.opts.range.start);
      if (set?.delete(w)) {
        this.count--;
        if (set.size === 0) this.exact.delete(w.opts.range.start);
      }
    } else if (this.ranged.delete(w)) this.count--;
  }

  get size(): number {
    return this.count;
  }

  /** Queues an applied revision's events on every synced watcher that wants some. */
  onRevision(rev: number, events: IndexEvent[]): void {
    let touched: Map<Watcher, IndexEvent[]> | undefined;
    const offer = (w: Watcher, ev: IndexEvent) => {
      if (!w.synced || rev < w.minRev || !w.wants(ev)) return;
      touched ??= new Map();
      let list = touched.get(w);
      if (!list) touched.set(w, (list = []));
      list.push(ev);
    };
    for (const ev of events) {
      const set = this.exact.get(ev.kv.keyStr);
      if (set) for (const w of set) offer(w, ev);
      for (const w of this.ranged) offer(w, ev);
    }
    if (!touched) return;
    for (const [w, evs] of touched) {
      w.pending.push({ rev, events: evs });
      w.sink.schedule();
    }
  }
}

/** Rough wire size of an event, for batching. */
export function eventSize(ev: IndexEvent, prevKv: boolean): number {
  let n = 24 + ev.kv.key.length + ev.kv.value.length;
  if (prevKv && ev.prev) n += 24 + ev.prev.key.length + ev.prev.value.length;
  return n;
}

/**
 * Splits revisions into batches for WatchResponses: consecutive revisions are grouped while
 * the batch stays under maxBytes and maxEvents; a revision is never split (a revision larger
 * than the limits is a batch of its own).
 */
export function batchRevisions(revs: RevisionEvents[], maxBytes: number, maxEvents: number, prevKv = false): RevisionEvents[][] {
  const out: RevisionEvents[][] = [];
  let cur: RevisionEvents[] = [];
  let bytes = 0;
  let events = 0;
  for (const r of revs) {
    let size = 0;
    for (const ev of r.events) size += eventSize(ev, prevKv);
    if (cur.length > 0 && (bytes + size > maxBytes || events + r.events.length > maxEvents)) {
      out.push(cur);
      cur = [];
      bytes = 0;
      events = 0;
    }
    cur.push(r);
    bytes += size;
    events += r.events.length;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}
