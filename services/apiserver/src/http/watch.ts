// ?watch=1 over HTTP: Kubernetes' streaming JSON watch. One line per event,
// {"type":"ADDED|MODIFIED|DELETED|BOOKMARK|ERROR","object":{...}}, from the same watch cache
// as the gRPC Watch (each object's JSON encoded once and shared by every watcher). A
// version older than the cache keeps ends the stream with an ERROR event carrying a 410
// Expired Status, as Kubernetes does; timeoutSeconds ends it cleanly; bookmarks when asked.
import type * as http from 'http';
import { metav1 } from '@k8ts/api';
import { toTable } from '@k8ts/machinery';
import { ApiError, badRequest } from '../errors';
import type { WatchOut, WatchSink } from '../cache/watchcache';
import type { ResourceContext } from './context';
import { type KindInfo } from '@k8ts/api';
import type { ApiObject } from '../strategies/types';
import { objectBytes, sharedObjectValue, statusJson } from './respond';
import { includeObject, intParam } from './resources';

const TYPES: Record<number, string> = {
  [metav1.WatchEventType.WATCH_EVENT_TYPE_ADDED]: 'ADDED',
  [metav1.WatchEventType.WATCH_EVENT_TYPE_MODIFIED]: 'MODIFIED',
  [metav1.WatchEventType.WATCH_EVENT_TYPE_DELETED]: 'DELETED',
};

/** One event's line, built once per object version and type and shared by every watcher. */
const eventLines = new WeakMap<object, Map<string, Buffer>>();

function eventLine(kind: KindInfo, type: string, obj: ApiObject): Buffer {
  let byType = eventLines.get(obj);
  if (!byType) {
    byType = new Map();
    eventLines.set(obj, byType);
  }
  let line = byType.get(type);
  if (!line) {
    line = Buffer.concat([Buffer.from(`{"type":"${type}","object":`), objectBytes(kind, obj), Buffer.from('}\n')]);
    byType.set(type, line);
  }
  return line;
}

/** Kubernetes ends a watch without timeoutSeconds after a random 30 to 60 minutes. */
const MIN_REQUEST_TIMEOUT_S = 1800;

export async function serveWatch(ctx: ResourceContext): Promise<void> {
  const { kind, query, deps } = ctx;
  const res = ctx.res as http.ServerResponse;
  const bookmarks = query.get('allowWatchBookmarks') === 'true' || query.get('allowWatchBookmarks') === '1';
  const initialEvents = query.get('sendInitialEvents');
  const timeoutSeconds = intParam(ctx, 'timeoutSeconds') ?? Math.round(MIN_REQUEST_TIMEOUT_S * (1 + Math.random()));
  let resourceVersion = query.get('resourceVersion') ?? '';
  if (initialEvents !== null) {
    if (initialEvents !== 'true' && initialEvents !== 'false') throw badRequest(`sendInitialEvents: invalid value ${JSON.stringify(initialEvents.slice(0, 20))}`);
    if (query.get('resourceVersionMatch') !== 'NotOlderThan') throw badRequest('sendInitialEvents is forbidden for watch unless resourceVersionMatch is set to NotOlderThan');
    if (initialEvents === 'true' && !bookmarks) throw badRequest('sendInitialEvents requires setting allowWatchBookmarks to true');
    // With initial events: the current state as ADDED, then changes (the cache's "" watch).
    if (initialEvents === 'true') resourceVersion = '';
  }
  let fieldSelector = query.get('fieldSelector') ?? '';
  if (ctx.info.name) fieldSelector = fieldSelector ? `${fieldSelector},metadata.name=${ctx.info.name}` : `metadata.name=${ctx.info.name}`;
  const table = ctx.format === 'table';
  const include = table ? includeObject(ctx) : 'Metadata';
  const maxPending = deps.maxPendingWatchEvents ?? 100_000;

  const line = (type: string, objectText: string) => `{"type":"${type}","object":${objectText}}\n`;
  const encode = (ev: WatchOut): string | Buffer => {
    const type = TYPES[ev.type] ?? 'MODIFIED';
    if (!table) return eventLine(kind, type, ev.object);
    const obj = sharedObjectValue(kind, ev.object);
    return line(type, JSON.stringify(toTable(kind, [obj], { now: Date.now(), includeObject: include })));
  };

  res.writeHead(200, {
    'content-type': table ? 'application/json;as=Table;v=v1;g=meta.k8s.io' : 'application/json',
    'cache-control': 'no-cache, private',
  });
  res.flushHeaders?.();

  const pending: (string | Buffer)[] = [];
  let blocked = false;
  let closed = false;
  let lastRv = 0;
  const write = (text: string | Buffer): boolean => {
    if (closed) return false;
    if (blocked) {
      if (pending.length >= maxPending) return false;
      pending.push(text);
      return true;
    }
    if (!res.write(text)) blocked = true;
    return true;
  };
  res.on('drain', () => {
    blocked = false;
    while (pending.length > 0 && !blocked) if (!res.write(pending.shift()!)) blocked = true;
  });

  let done!: () => void;
  const finished = new Promise<void>((resolve) => {
    done = resolve;
  });
  let watcher: { stop(): void } | undefined;
  let bookmarkTimer: NodeJS.Timeout | undefined;
  let timeoutTimer: NodeJS.Timeout | undefined;
  const end = () => {
    if (closed) return;
    closed = true;
    clearInterval(bookmarkTimer);
    clearTimeout(timeoutTimer);
    watcher?.stop();
    res.end();
    done();
  };
  res.on('close', end);

  const sink: WatchSink = {
    send(ev) {
      lastRv = Math.max(lastRv, ev.rv);
      return write(encode(ev));
    },
    close(err?: Error) {
      if (closed) return;
      if (err instanceof ApiError) write(line('ERROR', JSON.stringify(statusJson(err))));
      end();
    },
  };
  try {
    watcher = await deps.registry.watch(
      kind,
      { namespace: ctx.namespace || undefined, labelSelector: query.get('labelSelector') ?? '', fieldSelector, resourceVersion },
      sink,
    );
  } catch (err) {
    // After the headers: a failed start (too old a version, a bad selector) is an ERROR event.
    const e = err instanceof ApiError ? err : new ApiError(13, 'InternalError', 500, `watch failed: ${(err as Error).message}`);
    write(line('ERROR', JSON.stringify(statusJson(e))));
    end();
    return finished;
  }
  if (closed) {
    watcher.stop();
    return finished;
  }
  const cache = deps.hub.cache(kind.resource);
  const bookmark = (initialEnd: boolean) => {
    if (closed || blocked) return;
    const rv = Math.max(cache.rv, lastRv);
    const meta: Record<string, unknown> = { resourceVersion: String(rv) };
    if (initialEnd) meta.annotations = { 'k8s.io/initial-events-end': 'true' };
    write(line('BOOKMARK', JSON.stringify({ kind: kind.kind, apiVersion: kind.apiVersion, metadata: meta })));
  };
  if (initialEvents === 'true') bookmark(true);
  if (bookmarks) bookmarkTimer = setInterval(() => bookmark(false), deps.bookmarkIntervalMs);
  timeoutTimer = setTimeout(end, timeoutSeconds * 1000);
  return finished;
}
