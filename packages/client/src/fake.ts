// @k8ts/client/fake, an entry point of its own (never imported by production code):
// an in-memory clientset for unit tests of components (controllers, scheduler, kubelet):
// the same Clientset interface as connect(), over an ObjectTracker that keeps objects,
// resource versions and a change log, and serves watches from it. Behaviour follows the
// apiserver's contract where tests depend on it: ALREADY_EXISTS, NOT_FOUND, ABORTED for a
// stale resourceVersion, OUT_OF_RANGE for a compacted version, selectors, status kept
// apart from spec. It does not validate objects, and list pages are read from the current
// state rather than one snapshot.
import * as grpc from '@grpc/grpc-js';
import type { KindInfo, appsv1 } from '@k8ts/api';
import { parseFieldSelector, parseLabelSelector } from '@k8ts/machinery';
import type { FieldSelector, LabelSelector } from '@k8ts/machinery';
import { listAllPages } from './client';
import { realClock } from './clock';
import type { Clock } from './clock';
import { StatusError, toStatusError } from './errors';
import { deepCopy, keyOf, objectKey } from './objects';
import type { KubeObject } from './objects';
import { RESOURCES, resourceFor } from './resources';
import type {
  Clientset,
  DeleteOptions,
  GenericResourceClient,
  GetOptions,
  ListOptions,
  LogOptions,
  ObjectList,
  ResourceInfo,
  WatchOptions,
} from './resources';
import { StreamQueue } from './watch';
import type { WatchEvent, WatchEventType } from './watch';

/** A call as reactors see it. */
export interface FakeAction {
  /** 'get', 'list', 'watch', 'create', 'update', 'updateStatus', 'delete', 'bind', 'logs', 'getScale', 'updateScale'. */
  verb: string;
  /** The kind's resource: 'pods', 'leases', ... */
  resource: string;
  namespace: string;
  name: string;
  /** The object sent, for writes. */
  object?: unknown;
}

/**
 * Runs before each call of a fake clientset. Throw (or reject) to make the call fail with
 * that error; return (or resolve) to let it proceed. Async reactors delay the call.
 */
export type Reactor = (action: FakeAction) => void | Promise<void>;

interface LogEntry {
  revision: number;
  resource: string;
  type: WatchEventType;
  object: KubeObject;
  old?: KubeObject;
}

interface Watcher {
  resource: string;
  namespace: string;
  labels: LabelSelector;
  fields: FieldSelector;
  bookmarks: boolean;
  queue: StreamQueue<WatchEvent<KubeObject>>;
}

function notFound(kind: KindInfo, name: string): StatusError {
  return new StatusError(grpc.status.NOT_FOUND, `${kind.resource} "${name}" not found`);
}

function conflict(kind: KindInfo, name: string, why: string): StatusError {
  return new StatusError(grpc.status.ABORTED, `Operation cannot be fulfilled on ${kind.resource} "${name}": ${why}`);
}

/**
 * The state behind fake clientsets: objects of every kind, one revision counter, and the
 * log of changes that watches replay. Several fake clientsets may share one tracker (for
 * example two leader-election candidates with their own fault injection).
 */
export class ObjectTracker {
  private revision = 0;
  private compacted = 0;
  private readonly objects = new Map<string, Map<string, KubeObject>>();
  private readonly log: LogEntry[] = [];
  private readonly watchers = new Set<Watcher>();
  private readonly logs = new Map<string, string>();
  private uidCounter = 0;

  constructor(
    readonly clock: Clock = realClock,
    /** How many changes the log keeps; older versions are compacted (watches from them get Gone). */
    private readonly logLimit = 10_000,
  ) {}

  /** The current revision (the resourceVersion of the latest write). */
  currentRevision(): string {
    return String(this.revision);
  }

  private store(resource: string): Map<string, KubeObject> {
    let m = this.objects.get(resource);
    if (!m) this.objects.set(resource, (m = new Map()));
    return m;
  }

  /** A copy of the stored object, or undefined. */
  get(resource: string, namespace: string, name: string): KubeObject | undefined {
    const obj = this.store(resource).get(objectKey(namespace, name));
    return obj && deepCopy(obj);
  }

  /** Copies of every stored object of a kind, ordered by key. */
  list(resource: string): KubeObject[] {
    return [...this.store(resource).entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, o]) => deepCopy(o));
  }

  /** Stores an object as is (any kind, given by KindInfo or name), with a new resourceVersion; tells watchers. */
  put<T extends KubeObject>(kind: KindInfo | string, obj: T): T {
    const info = typeof kind === 'string' ? resourceFor(kind).kind : kind;
    const key = keyOf(obj);
    const old = this.store(info.resource).get(key);
    const stored = deepCopy(obj);
    stored.metadata = { ...stored.metadata, resourceVersion: String(++this.revision) };
    this.store(info.resource).set(key, stored);
    this.record(info.resource, old ? 'MODIFIED' : 'ADDED', stored, old);
    return deepCopy(stored) as T;
  }

  /** Removes an object; tells watchers. Returns its last state. */
  remove(kind: KindInfo | string, namespace: string, name: string): KubeObject | undefined {
    const info = typeof kind === 'string' ? resourceFor(kind).kind : kind;
    const key = objectKey(namespace, name);
    const old = this.store(info.resource).get(key);
    if (!old) return undefined;
    this.store(info.resource).delete(key);
    const last = deepCopy(old);
    last.metadata = { ...last.metadata, resourceVersion: String(++this.revision) };
    this.record(info.resource, 'DELETED', last, old);
    return deepCopy(last);
  }

  private record(resource: string, type: WatchEventType, object: KubeObject, old?: KubeObject): void {
    const entry: LogEntry = { revision: this.revision, resource, type, object: deepCopy(object), old: old && deepCopy(old) };
    this.log.push(entry);
    while (this.log.length > this.logLimit) this.compacted = this.log.shift()!.revision;
    for (const w of this.watchers) this.deliver(w, entry);
  }

  private deliver(w: Watcher, e: LogEntry): void {
    if (w.resource !== e.resource) return;
    const matches = (o: KubeObject | undefined) =>
      !!o &&
      (!w.namespace || o.metadata?.namespace === w.namespace) &&
      w.labels.matches(o.metadata?.labels) &&
      w.fields.matchesObject(o);
    const now = matches(e.object);
    const before = e.type === 'MODIFIED' ? matches(e.old) : now;
    let type: WatchEventType | undefined = e.type;
    if (e.type === 'MODIFIED') type = before && now ? 'MODIFIED' : now ? 'ADDED' : before ? 'DELETED' : undefined;
    else if (!now) type = undefined;
    if (type) w.queue.push({ type, object: deepCopy(e.object) });
  }

  /** Starts a watch (used by the fake clients). */
  watch(resource: string, opts: WatchOptions): StreamQueue<WatchEvent<KubeObject>> {
    const queue: StreamQueue<WatchEvent<KubeObject>> = new StreamQueue({ onStop: () => this.watchers.delete(watcher) });
    const watcher: Watcher = {
      resource,
      namespace: opts.namespace ?? '',
      labels: parseLabelSelector(opts.labelSelector ?? ''),
      fields: parseFieldSelector(opts.fieldSelector ?? ''),
      bookmarks: opts.allowWatchBookmarks ?? false,
      queue,
    };
    const rv = opts.resourceVersion ?? '';
    if (rv === '' || rv === '0') {
      for (const obj of this.list(resource)) this.deliver(watcher, { revision: this.revision, resource, type: 'ADDED', object: obj });
    } else {
      const from = Number(rv);
      if (!Number.isInteger(from) || from < this.compacted) {
        queue.fail(new StatusError(grpc.status.OUT_OF_RANGE, `too old resource version: ${rv} (${this.compacted})`));
        return queue;
      }
      for (const e of this.log) if (e.revision > from) this.deliver(watcher, e);
    }
    this.watchers.add(watcher);
    if (opts.signal) opts.signal.addEventListener('abort', () => queue.stop(), { once: true });
    return queue;
  }

  /** Sends a BOOKMARK at the current revision to every watch that asked for bookmarks. */
  bookmark(): void {
    for (const w of this.watchers) {
      if (w.bookmarks) w.queue.push({ type: 'BOOKMARK', object: { metadata: { resourceVersion: String(this.revision) } } });
    }
  }

  /** Ends every open watch with an error (default UNAVAILABLE: a broken stream). */
  breakWatches(err: unknown = new StatusError(grpc.status.UNAVAILABLE, 'connection reset')): void {
    for (const w of [...this.watchers]) {
      this.watchers.delete(w);
      w.queue.fail(toStatusError(err));
    }
  }

  /** Forgets the change log up to now: watches from older versions get Gone (OUT_OF_RANGE). */
  compact(): void {
    this.log.length = 0;
    this.compacted = this.revision;
  }

  /** The number of open watches. */
  watchCount(): number {
    return this.watchers.size;
  }

  /** Sets what a pod's logs call streams. */
  setLogs(namespace: string, name: string, text: string): void {
    this.logs.set(objectKey(namespace, name), text);
  }

  /** @internal */
  logsOf(namespace: string, name: string): string {
    return this.logs.get(objectKey(namespace, name)) ?? '';
  }

  /** @internal */
  nextUid(): string {
    const n = (++this.uidCounter).toString(16).padStart(12, '0');
    return `00000000-0000-4000-8000-${n}`;
  }
}

/** A Clientset over an ObjectTracker, with reactors for fault injection. */
export interface FakeClientset extends Clientset {
  readonly tracker: ObjectTracker;
  /** Every call made, in order. */
  readonly actions: FakeAction[];
  /** Adds a reactor that runs before the others (and before the call itself). Returns a remover. */
  prependReactor(reactor: Reactor): () => void;
}

export interface FakeClientsetOptions {
  /** Share state with other fake clientsets. Default: a new tracker. */
  tracker?: ObjectTracker;
  /** Objects to store first (their kind from apiVersion and kind). */
  objects?: KubeObject[];
  clock?: Clock;
}

const STATUS_FIELDS = ['status'];

function withoutStatus(obj: KubeObject): Record<string, unknown> {
  const { metadata: _m, status: _s, ...rest } = obj as Record<string, unknown>;
  return rest;
}

/** The fake client of one kind. */
function fakeResourceClient(info: ResourceInfo, t: ObjectTracker, fake: { react(a: FakeAction): Promise<void> }): GenericResourceClient {
  const kind = info.kind;
  const resource = kind.resource;
  const hasStatus = !!info.methods.updateStatus;
  const ns = (namespace: string | undefined, verb: string, name: string): string => {
    if (!kind.namespaced) return '';
    if (!namespace) throw new StatusError(grpc.status.INVALID_ARGUMENT, `${resource} "${name}": a namespace is required to ${verb} a namespaced ${kind.kind}`);
    return namespace;
  };
  const act = async (verb: string, namespace: string, name: string, object?: unknown) => {
    await fake.react({ verb, resource, namespace, name, object: object === undefined ? undefined : deepCopy(object) });
  };
  const selected = (opts: ListOptions | WatchOptions) => {
    const labels = parseLabelSelector(opts.labelSelector ?? '');
    const fields = parseFieldSelector(opts.fieldSelector ?? '');
    const namespace = kind.namespaced ? (opts.namespace ?? '') : '';
    return (o: KubeObject) =>
      (!namespace || o.metadata?.namespace === namespace) && labels.matches(o.metadata?.labels) && fields.matchesObject(o);
  };
  const existing = (namespace: string, name: string): KubeObject => {
    const obj = t.get(resource, namespace, name);
    if (!obj) throw notFound(kind, name);
    return obj;
  };
  const writeTarget = (obj: KubeObject, verb: string) => {
    const name = obj.metadata?.name ?? '';
    const namespace = kind.namespaced ? obj.metadata?.namespace || 'default' : '';
    const current = existing(namespace, name);
    const rv = obj.metadata?.resourceVersion;
    if (rv && rv !== current.metadata?.resourceVersion) {
      throw conflict(kind, name, `the object has been modified; please apply your changes to the latest version and try again (${verb})`);
    }
    return { name, namespace, current };
  };

  const list = async (opts: ListOptions = {}): Promise<ObjectList<KubeObject>> => {
    await act('list', opts.namespace ?? '', '');
    const all = t.list(resource).filter(selected(opts));
    const start = opts.continue ? all.findIndex((o) => keyOf(o) > opts.continue!) : 0;
    const from = start < 0 ? all.length : start;
    const items = opts.limit ? all.slice(from, from + opts.limit) : all.slice(from);
    const more = from + items.length < all.length;
    return {
      items,
      resourceVersion: t.currentRevision(),
      continue: more ? keyOf(items[items.length - 1]) : '',
      ...(more ? { remainingItemCount: all.length - from - items.length } : {}),
    };
  };

  const client: GenericResourceClient & Record<string, unknown> = {
    kind,
    get: async (name: string, opts: GetOptions = {}) => {
      const namespace = ns(opts.namespace, 'get', name);
      await act('get', namespace, name);
      return existing(namespace, name);
    },
    list,
    listAll: (opts = {}) => listAllPages(list, opts),
    watch: (opts: WatchOptions = {}) => {
      let inner: StreamQueue<WatchEvent<KubeObject>> | undefined;
      const outer = new StreamQueue<WatchEvent<KubeObject>>({ onStop: () => inner?.stop() });
      act('watch', opts.namespace ?? '', '').then(
        () => {
          if (outer.closed) return;
          inner = t.watch(resource, { ...opts, namespace: kind.namespaced ? opts.namespace : '' });
          (async () => {
            try {
              for await (const e of inner) outer.push(e);
              outer.end();
            } catch (err) {
              outer.fail(err);
            }
          })();
        },
        (err) => outer.fail(toStatusError(err)),
      );
      if (opts.signal) opts.signal.addEventListener('abort', () => outer.stop(), { once: true });
      return outer;
    },
    create: async (obj: KubeObject, opts = {}) => {
      const namespace = kind.namespaced ? obj.metadata?.namespace || 'default' : '';
      let name = obj.metadata?.name ?? '';
      await act('create', namespace, name, obj);
      if (!name && obj.metadata?.generateName) name = obj.metadata.generateName + Math.random().toString(36).slice(2, 7);
      if (!name) throw new StatusError(grpc.status.INVALID_ARGUMENT, `${resource}: metadata.name: Required value`);
      if (t.get(resource, namespace, name)) throw new StatusError(grpc.status.ALREADY_EXISTS, `${resource} "${name}" already exists`);
      const created = deepCopy(obj);
      created.apiVersion = created.apiVersion || kind.apiVersion;
      created.kind = created.kind || kind.kind;
      created.metadata = {
        ...created.metadata,
        name,
        namespace,
        uid: t.nextUid(),
        creationTimestamp: new Date(t.clock.now()).toISOString(),
        generation: 1,
      };
      if (opts.dryRun) return created;
      return t.put(kind, created);
    },
    update: async (obj: KubeObject, opts = {}) => {
      await act('update', obj.metadata?.namespace ?? '', obj.metadata?.name ?? '', obj);
      const { current } = writeTarget(obj, 'update');
      const next = deepCopy(obj) as Record<string, unknown> & KubeObject;
      if (hasStatus) for (const f of STATUS_FIELDS) next[f] = (current as Record<string, unknown>)[f];
      const specChanged = JSON.stringify(withoutStatus(current)) !== JSON.stringify(withoutStatus(next));
      next.metadata = {
        ...next.metadata,
        namespace: current.metadata?.namespace,
        uid: current.metadata?.uid,
        creationTimestamp: current.metadata?.creationTimestamp,
        generation: (current.metadata?.generation ?? 1) + (specChanged ? 1 : 0),
      };
      if (opts.dryRun) return next;
      return t.put(kind, next);
    },
    delete: async (name: string, opts: DeleteOptions = {}) => {
      const namespace = ns(opts.namespace, 'delete', name);
      await act('delete', namespace, name);
      const current = existing(namespace, name);
      const pre = opts.preconditions ?? {};
      if (pre.uid && pre.uid !== current.metadata?.uid) throw conflict(kind, name, 'the uid in the precondition does not match');
      if (pre.resourceVersion && pre.resourceVersion !== current.metadata?.resourceVersion) {
        throw conflict(kind, name, 'the resourceVersion in the precondition does not match');
      }
      if (opts.dryRun) return current;
      return t.remove(kind, namespace, name)!;
    },
  };
  if (hasStatus) {
    client.updateStatus = async (obj: KubeObject) => {
      await act('updateStatus', obj.metadata?.namespace ?? '', obj.metadata?.name ?? '', obj);
      const { current } = writeTarget(obj, 'update status');
      const next = deepCopy(current) as Record<string, unknown> & KubeObject;
      for (const f of STATUS_FIELDS) next[f] = deepCopy((obj as Record<string, unknown>)[f]);
      return t.put(kind, next);
    };
  }
  if (info.methods.getScale) {
    client.getScale = async (name: string, opts: GetOptions = {}) => {
      const namespace = ns(opts.namespace, 'get scale of', name);
      await act('getScale', namespace, name);
      return scaleOf(existing(namespace, name));
    };
    client.updateScale = async (scale: appsv1.Scale) => {
      const name = scale.metadata?.name ?? '';
      await act('updateScale', scale.metadata?.namespace ?? '', name, scale);
      const { current } = writeTarget(scale as KubeObject, 'update scale');
      const next = deepCopy(current) as KubeObject & { spec?: Record<string, unknown> };
      next.spec = { ...next.spec, replicas: scale.spec?.replicas ?? 0 };
      next.metadata = { ...next.metadata, generation: (next.metadata?.generation ?? 1) + 1 };
      return scaleOf(t.put(kind, next));
    };
  }
  if (info.methods.bind) {
    client.bind = async (binding: { metadata?: { namespace?: string; name?: string; uid?: string }; target?: { name?: string } }) => {
      const name = binding.metadata?.name ?? '';
      const namespace = ns(binding.metadata?.namespace, 'bind', name);
      await act('bind', namespace, name, binding);
      const pod = existing(namespace, name) as KubeObject & { spec?: { nodeName?: string } };
      if (binding.metadata?.uid && binding.metadata.uid !== pod.metadata?.uid) throw conflict(kind, name, 'the pod uid does not match');
      if (pod.spec?.nodeName) throw conflict(kind, name, `pod ${name} is already assigned to node "${pod.spec.nodeName}"`);
      pod.spec = { ...pod.spec, nodeName: binding.target?.name ?? '' };
      t.put(kind, pod);
    };
    client.logs = (name: string, opts: LogOptions = {}) => {
      const q = new StreamQueue<Buffer>();
      const namespace = opts.namespace ?? '';
      act('logs', namespace, name).then(
        () => {
          if (!t.get(resource, namespace, name)) {
            q.fail(notFound(kind, name));
            return;
          }
          const text = t.logsOf(namespace, name);
          if (text) q.push(Buffer.from(text));
          q.end();
        },
        (err) => q.fail(toStatusError(err)),
      );
      return q;
    };
  }
  // Failures surface as StatusErrors, like the real clients'.
  for (const [method, fn] of Object.entries(client)) {
    if (typeof fn !== 'function' || method === 'watch' || method === 'logs') continue;
    client[method] = (...args: unknown[]) => {
      try {
        return (fn as (...a: unknown[]) => Promise<unknown>)(...args).catch((err: unknown) => Promise.reject(toStatusError(err)));
      } catch (err) {
        return Promise.reject(toStatusError(err));
      }
    };
  }
  return client;
}

function scaleOf(obj: KubeObject): appsv1.Scale {
  const o = obj as KubeObject & { spec?: { replicas?: number; selector?: unknown }; status?: { replicas?: number } };
  return {
    apiVersion: 'autoscaling/v1',
    kind: 'Scale',
    metadata: {
      name: o.metadata?.name,
      namespace: o.metadata?.namespace,
      uid: o.metadata?.uid,
      resourceVersion: o.metadata?.resourceVersion,
      creationTimestamp: o.metadata?.creationTimestamp,
    },
    spec: { replicas: o.spec?.replicas ?? 0 },
    status: { replicas: o.status?.replicas ?? 0, selector: '' },
  };
}

/**
 * A Clientset backed by memory, for unit tests.
 *
 *   const cs = createFakeClientset({ objects: [pod] });
 *   cs.prependReactor((a) => { if (a.verb === 'update') throw new StatusError(grpc.status.UNAVAILABLE, 'down'); });
 */
export function createFakeClientset(opts: FakeClientsetOptions = {}): FakeClientset {
  const tracker = opts.tracker ?? new ObjectTracker(opts.clock);
  let reactors: Reactor[] = [];
  const actions: FakeAction[] = [];
  const fake = {
    async react(action: FakeAction): Promise<void> {
      actions.push(action);
      for (const r of [...reactors]) await r(action);
    },
  };
  const byMember = new Map<string, GenericResourceClient>();
  for (const info of RESOURCES) byMember.set(info.member, fakeResourceClient(info, tracker, fake));
  for (const obj of opts.objects ?? []) {
    const kind = obj.kind;
    if (!kind) throw new Error('createFakeClientset: every object needs its kind');
    const info = resourceFor(kind).kind;
    const created = deepCopy(obj);
    created.metadata = { uid: tracker.nextUid(), ...created.metadata };
    if (info.namespaced && !created.metadata.namespace) created.metadata.namespace = 'default';
    tracker.put(info, created);
  }
  const clientset: Record<string, unknown> = {
    tracker,
    actions,
    prependReactor: (reactor: Reactor) => {
      reactors = [reactor, ...reactors];
      return () => {
        reactors = reactors.filter((r) => r !== reactor);
      };
    },
    forKind: (kind: KindInfo | string) => byMember.get(resourceFor(kind).member),
    close: () => {},
  };
  for (const [member, client] of byMember) clientset[member] = client;
  return clientset as unknown as FakeClientset;
}
