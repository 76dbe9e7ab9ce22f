// Watch: one bidirectional stream carries many watchers. Each watcher catches up from the
// index's history (if its start revision is in the past), then receives live events.
// Responses group whole revisions (never split one), carry the current revision in their
// header (so headers never go backwards on a stream), and are never fragmented. A stream
// whose client reads too slowly stops receiving live events and catches up from history
// once it drains, as etcd's unsynced watchers do.
import * as grpc from '@grpc/grpc-js';
import { etcdserverpb as pb, mvccpb } from '@k8ts/api';
import { toStoreError, WATCH_COMPACTED_REASON } from '../errors';
import { toKeyValue, keyRange } from '../evaluate';
import type { IndexEvent, RevisionEvents } from '../mvcc';
import type { Store } from '../store';
import { batchRevisions, Watcher, WatchSink } from '../watchHub';
import { badRequest } from './common';

/** Responses are kept under this size, except a single revision larger than it. */
const MAX_RESPONSE_BYTES = 1024 * 1024;
const MAX_RESPONSE_EVENTS = 10_000;
/** Revisions read from history per step of a catch-up. */
const CATCH_UP_REVISIONS = 1000;
/** Responses buffered for a client before its watchers stop receiving live events. */
const CONGESTED_RESPONSES = 1024;

export interface WatchOptions {
  /** Period of progress notifications for watchers that asked for them, ms. */
  progressNotifyMs: number;
}

export class WatchStreams {
  private readonly streams = new Set<WatchStream>();

  constructor(
    private readonly store: Store,
    private readonly opts: WatchOptions,
  ) {}

  handler() {
    return (call: grpc.ServerDuplexStream<pb.WatchRequest, pb.WatchResponse>): void => {
      const s = new WatchStream(this.store, call, this.opts, () => this.streams.delete(s));
      this.streams.add(s);
    };
  }

  /** Ends every stream (on shutdown). */
  closeAll(): void {
    for (const s of [...this.streams]) s.end();
  }
}

// ---- encoding events once for every watcher ----

function varint(n: number, out: number[]): void {
  while (n > 0x7f) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
}

/** Field 11 (events) of a WatchResponse, framed: tag, length, Event. Cached per event. */
const framedCache = new WeakMap<IndexEvent, { plain?: Buffer; withPrev?: Buffer }>();
function framedEvent(ev: IndexEvent, prevKv: boolean): Buffer {
  let c = framedCache.get(ev);
  if (!c) framedCache.set(ev, (c = {}));
  const withPrev = prevKv && !!ev.prev;
  const hit = withPrev ? c.withPrev : c.plain;
  if (hit) return hit;
  const body = mvccpb.Event.encode(toEvent(ev, withPrev)).finish();
  const head: number[] = [(11 << 3) | 2];
  varint(body.length, head);
  const framed = Buffer.concat([Buffer.from(head), body]);
  if (withPrev) c.withPrev = framed;
  else c.plain = framed;
  return framed;
}

/** Field 1 (header) of a WatchResponse, framed; cached for the last revision. */
let headerCache: { rev: number; cluster: number; member: number; bytes: Buffer } | undefined;
function framedHeader(h: pb.ResponseHeader): Buffer {
  const rev = h.revision ?? 0;
  if (headerCache && headerCache.rev === rev && headerCache.cluster === h.clusterId && headerCache.member === h.memberId) return headerCache.bytes;
  const body = pb.ResponseHeader.encode(h).finish();
  const head: number[] = [(1 << 3) | 2];
  varint(body.length, head);
  const bytes = Buffer.concat([Buffer.from(head), body]);
  headerCache = { rev, cluster: h.clusterId ?? 0, member: h.memberId ?? 0, bytes };
  return bytes;
}

/** An encoded WatchResponse carrying events: header, watch_id, events. */
export function encodeEventsResponse(header: pb.ResponseHeader, watchId: number, events: IndexEvent[], prevKv: boolean): Buffer {
  const parts: Buffer[] = [framedHeader(header)];
  if (watchId > 0) {
    const id: number[] = [(2 << 3) | 0];
    varint(watchId, id);
    parts.push(Buffer.from(id));
  }
  for (const ev of events) parts.push(framedEvent(ev, prevKv));
  return Buffer.concat(parts);
}

function toEvent(ev: IndexEvent, prevKv: boolean): mvccpb.Event {
  return {
    type: ev.type === 'put' ? mvccpb.Event_EventType.PUT : mvccpb.Event_EventType.DELETE,
    kv: ev.type === 'put' ? toKeyValue(ev.kv) : { key: ev.kv.key, modRevision: ev.kv.mod },
    prevKv: prevKv && ev.prev ? toKeyValue(ev.prev) : undefined,
  };
}

class WatchStream implements WatchSink {
  private readonly watchers = new Map<number, Watcher>();
  private nextAutoId = 0;
  private flushScheduled = false;
  private progressAllPending = false;
  private closed = false;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly store: Store,
    private readonly call: grpc.ServerDuplexStream<pb.WatchRequest, pb.WatchResponse>,
    opts: WatchOptions,
    private readonly onClose: () => void,
  ) {
    store.metrics.watchStreams.inc();
    call.on('data', (req: pb.WatchRequest) => this.onRequest(req));
    call.on('cancelled', () => this.close());
    call.on('error', () => this.close());
    call.on('close', () => this.close());
    call.on('drain', () => this.schedule());
    this.timer = setInterval(() => {
      try {
        this.progressTick();
      } catch (err) {
        this.fail(err);
      }
    }, Math.max(10, opts.progressNotifyMs));
    this.timer.unref();
  }

  private header(): pb.ResponseHeader {
    return this.store.header(this.store.index.rev);
  }

  private send(resp: pb.WatchResponse | Buffer): void {
    if (this.closed) return;
    this.call.write(resp as pb.WatchResponse);
  }

  private congested(): boolean {
    return this.call.writableLength > CONGESTED_RESPONSES;
  }

  private onRequest(req: pb.WatchRequest): void {
    if (this.closed) return;
    const bad = badRequest(req);
    if (bad) {
      this.fail(bad);
      return;
    }
    try {
      if (req.createRequest) this.create(req.createRequest);
      else if (req.cancelRequest) this.cancel(req.cancelRequest.watchId ?? 0);
      else if (req.progressRequest) {
        this.progressAllPending = true;
        this.schedule();
      }
    } catch (err) {
      this.store.logger.error({ err }, 'unexpected error handling a watch request');
      this.fail(err);
    }
  }

  private refuse(reason: string): void {
    this.send({ header: this.header(), watchId: -1, created: true, canceled: true, cancelReason: reason });
  }

  private create(cr: pb.WatchCreateRequest): void {
    const { index, hub, metrics } = this.store;
    const key = cr.key && cr.key.length > 0 ? cr.key : Buffer.from([0]);
    const rangeEnd = cr.rangeEnd;
    if (rangeEnd && rangeEnd.length > 0 && !(rangeEnd.length === 1 && rangeEnd[0] === 0) && Buffer.compare(rangeEnd, key) < 0) {
      {
      this.refuse('store: watch range_end must not sort before key (use "\\0" for every key from key on)');
      return;
    }
    }
    if ((cr.startRevision ?? 0) < 0) {
      this.refuse(WATCH_COMPACTED_REASON);
      return;
    }
    let noPut = false;
    let noDelete = false;
    for (const f of cr.filters ?? []) {
      if (f === pb.WatchCreateRequest_FilterType.NOPUT) noPut = true;
      else if (f === pb.WatchCreateRequest_FilterType.NODELETE) noDelete = true;
      else {
      this.refuse(`store: unknown watch filter ${f} (NOPUT = 0, NODELETE = 1)`);
      return;
    }
    }
    let id = cr.watchId ?? 0;
    if (id < 0) {
      this.refuse('store: watch_id must not be negative (0 lets the server choose)');
      return;
    }
    if (id !== 0) {
      if (this.watchers.has(id)) {
      this.refuse('mvcc: duplicate watch ID provided on the WatchStream');
      return;
    }
    } else {
      while (this.watchers.has(this.nextAutoId)) this.nextAutoId++;
      id = this.nextAutoId++;
    }
    const w = new Watcher(id, { range: keyRange(key, rangeEnd), noPut, noDelete, prevKv: !!cr.prevKv, progressNotify: !!cr.progressNotify }, this);
    const start = cr.startRevision ?? 0;
    this.send({ header: this.header(), watchId: id, created: true });
    if (start > 0 && start < index.compactRev) {
      this.send({ header: this.header(), watchId: id, canceled: true, compactRevision: index.compactRev });
      return;
    }
    this.watchers.set(id, w);
    hub.add(w);
    metrics.watchers.set(hub.size);
    if (start === 0 || start > index.rev) {
      w.synced = true;
      w.minRev = start;
    } else {
      w.nextRev = start;
      this.schedule();
    }
  }

  private cancel(id: number): void {
    const w = this.watchers.get(id);
    if (!w) return;
    this.remove(w);
    this.send({ header: this.header(), watchId: id, canceled: true });
  }

  private remove(w: Watcher): void {
    this.watchers.delete(w.id);
    this.store.hub.remove(w);
    this.store.metrics.watchers.set(this.store.hub.size);
  }

  schedule(): void {
    if (this.flushScheduled || this.closed) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      try {
        this.flush();
      } catch (err) {
        this.store.logger.error({ err }, 'sending watch events failed; ending the stream');
        this.fail(err);
      }
    });
  }

  private flush(): void {
    if (this.closed) return;
    let allSynced = true;
    for (const w of this.watchers.values()) {
      if (!w.synced) this.catchUp(w);
      else if (w.pending.length > 0) {
        const revs = w.pending;
        w.pending = [];
        this.sendEvents(w, revs);
      }
      if (this.congested()) this.unsyncAll();
      if (!w.synced && this.watchers.has(w.id)) allSynced = false;
    }
    if (this.progressAllPending && allSynced && !this.congested()) {
      this.progressAllPending = false;
      this.send({ header: this.header(), watchId: -1 });
    }
  }

  /** The client reads too slowly: its watchers catch up from history once it drains. */
  private unsyncAll(): void {
    for (const w of this.watchers.values()) {
      if (!w.synced) continue;
      w.nextRev = w.pending.length > 0 ? w.pending[0].rev : Math.max(this.store.index.rev + 1, w.minRev);
      w.pending = [];
      w.synced = false;
    }
  }

  private catchUp(w: Watcher): void {
    const { index } = this.store;
    while (!w.synced && !this.congested() && !this.closed) {
      if (w.nextRev < index.compactRev) {
        this.remove(w);
        this.send({ header: this.header(), watchId: w.id, canceled: true, compactRevision: index.compactRev });
        return;
      }
      const chunk = index.eventsBetween(w.nextRev, index.rev, CATCH_UP_REVISIONS);
      const selected: RevisionEvents[] = [];
      for (const r of chunk) {
        const evs = w.select(r.events);
        if (evs) selected.push({ rev: r.rev, events: evs });
      }
      if (chunk.length < CATCH_UP_REVISIONS) {
        w.synced = true;
        w.nextRev = 0;
      } else w.nextRev = chunk[chunk.length - 1].rev + 1;
      if (selected.length > 0) this.sendEvents(w, selected);
    }
  }

  private sendEvents(w: Watcher, revs: RevisionEvents[]): void {
    for (const batch of batchRevisions(revs, MAX_RESPONSE_BYTES, MAX_RESPONSE_EVENTS, w.opts.prevKv)) {
      const events: IndexEvent[] = [];
      for (const r of batch) for (const ev of r.events) events.push(ev);
      this.send(encodeEventsResponse(this.header(), w.id, events, w.opts.prevKv));
      this.store.metrics.watchEvents.inc(events.length);
    }
    w.sentSinceTick = true;
  }

  private progressTick(): void {
    if (this.closed) return;
    for (const w of this.watchers.values()) {
      if (!w.opts.progressNotify) continue;
      if (w.synced && !w.sentSinceTick && w.pending.length === 0) this.send({ header: this.header(), watchId: w.id });
      w.sentSinceTick = false;
    }
  }

  private fail(err: unknown): void {
    if (this.closed) return;
    this.close();
    this.call.emit('error', toStoreError(err));
  }

  /** Ends the stream with OK (server shutdown). */
  end(): void {
    if (this.closed) return;
    this.close();
    this.call.end();
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    for (const w of this.watchers.values()) this.store.hub.remove(w);
    this.watchers.clear();
    this.store.metrics.watchers.set(this.store.hub.size);
    this.store.metrics.watchStreams.dec();
    this.onClose();
  }
}
