// The generic registry: one implementation of Get, List, Watch, Create, Update,
// UpdateStatus and Delete for every kind, parameterized by the kind's strategy.
//
// Storage (etcd v3 protocol): key /kubernetes.io/<resource>/<namespace>/<name> (cluster-scoped
// kinds without the namespace), value the object's Kubernetes JSON, resourceVersion the
// key's mod_revision.
//   Create = Txn(create_revision(key) == 0 [and == 0 for each allocation key],
//                put key [, put allocation keys])
//   Update = Txn(mod_revision(key) == rv, put key [, allocation changes]), retried on a
//            concurrent change unless the client sent a resourceVersion (then ABORTED)
//   Delete = Txn(mod_revision(key) == rv, delete key [, delete allocation keys]), or, while
//            finalizers or a grace period keep the object, an Update that sets
//            deletionTimestamp
import type { Logger } from 'pino';
import { type KindInfo, metav1 } from '@k8ts/api';
import { SelectorError, objectKey, parseFieldSelector, parseLabelSelector, resourcePrefix } from '@k8ts/machinery';
import type { AdmissionChain } from '../admission';
import { makeAllocators, type PortRange, type ServiceIPRange } from '../allocator/ranges';
import type { CacheHub } from '../cache/hub';
import { type WatchCache, type WatchFilter, type WatchSink, matches, type Entry } from '../cache/watchcache';
import {
  ApiError,
  alreadyExists,
  badRequest,
  conflict,
  gone,
  internal,
  invalid,
  notFound,
  tooLarge,
  unavailable,
  type FieldError,
} from '../errors';
import { type KV, StoreError, type TxnOp, type Compare, prefixEnd } from '../storage/kv';
import { strategyFor } from '../strategies';
import type { Allocation, Allocators, ApiObject, Strategy } from '../strategies/types';
import { ErrorList, validateObjectMeta } from '../strategies/validation';
import { clone, newUID, nowRFC3339, randomSuffix, semanticEqual } from '../util';
import { type TrackOptions, trackUpdate } from '../fieldmanager';
import { decodeFromStore, encodeForStore, encodeProto } from './codec';
import { decodeContinue, encodeContinue } from './continue';
import type { LeaseManager } from './leases';

/** The finalizers that record a propagation policy for the garbage collector, as in Kubernetes. */
export const FOREGROUND_FINALIZER = 'foregroundDeletion';
export const ORPHAN_FINALIZER = 'orphan';
export const PROPAGATION_POLICIES = ['Background', 'Foreground', 'Orphan'] as const;
/** Kubernetes' answer (400 BadRequest) to a create that names a resourceVersion. */
export const RESOURCE_VERSION_ON_CREATE = 'resourceVersion should not be set on objects to be created';

/** The largest stored object, as the store accepts (1.5 MiB requests). */
export const DEFAULT_MAX_OBJECT_BYTES = 1536 * 1024;

export interface RegistryDeps {
  kv: KV;
  hub: CacheHub;
  admission: AdmissionChain;
  serviceIPs: ServiceIPRange;
  nodePorts: PortRange;
  /** Leases of TTL'd objects (events); none: events live forever. */
  eventLeases?: LeaseManager;
  logger: Logger;
  maxObjectBytes?: number;
}

export interface ListOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continueToken?: string;
  resourceVersion?: string;
}

/** One listed object and its protobuf bytes. */
export interface ListItem {
  obj: ApiObject;
  proto: Uint8Array;
}

export interface ListResult {
  items: ListItem[];
  resourceVersion: string;
  continueToken: string;
  remainingItemCount?: number;
}

export interface WatchOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  resourceVersion?: string;
}

/** Options of a create or update: dry run, and who writes (for metadata.managedFields). */
export interface WriteOptions {
  dryRun?: boolean;
  /** ?fieldManager= ('' or absent: the User-Agent's product names the manager). */
  fieldManager?: string;
  /** The client's User-Agent (HTTP header or gRPC metadata). */
  userAgent?: string;
  /** metadata.managedFields exactly as the request's JSON had it ([] resets tracking). */
  requestManagedFields?: unknown;
  /** The object comes from server-side apply with its managedFields set: store them as they are. */
  applied?: boolean;
}

export interface DeleteOptions {
  gracePeriodSeconds?: number;
  propagationPolicy?: string;
  preconditions?: metav1.Preconditions;
  dryRun?: boolean;
}

/** What a write attempt changes besides the object itself. */
interface AllocationDelta {
  add: Allocation[];
  remove: Allocation[];
}

/** What guaranteedUpdate gives each attempt of a mutation. */
export interface UpdateAttempt {
  /** Pickers of free service IPs and node ports for this attempt. */
  allocators: Allocators;
  /** Store keys of values the mutation picked itself (they may be re-picked on a collision). */
  picked: Set<string>;
}

/** Maps a store failure to the API error a client sees. */
export function storeFailure(err: unknown, what: string): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof StoreError) {
    if (err.compacted) return gone(`too old resource version: ${what}`);
    if (err.code === 14 || err.code === 4) return unavailable(`the store is unavailable: ${err.message}`, err);
    if (/request is too large|too large/.test(err.message)) return tooLarge(`Request entity too large: ${err.message}`);
    return internal(`storage error: ${err.message}`, err);
  }
  return internal(`internal error: ${(err as Error)?.message ?? String(err)}`, err);
}

/** What the field manager needs of a write's options. */
function tracking(opts: WriteOptions): TrackOptions {
  return {
    ...(opts.fieldManager ? { fieldManager: opts.fieldManager } : {}),
    ...(opts.userAgent ? { userAgent: opts.userAgent } : {}),
    ...(opts.requestManagedFields !== undefined ? { requestManagedFields: opts.requestManagedFields } : {}),
  };
}

function parseRV(text: string, what: string): number {
  if (!/^\d+$/.test(text)) throw badRequest(`${what}: invalid resource version ${JSON.stringify(text)}: must be a non-negative integer`);
  return Number(text);
}

export class Registry {
  readonly kv: KV;
  readonly hub: CacheHub;
  private readonly deps: RegistryDeps;
  private readonly maxObjectBytes: number;

  constructor(deps: RegistryDeps) {
    this.deps = deps;
    this.kv = deps.kv;
    this.hub = deps.hub;
    this.maxObjectBytes = deps.maxObjectBytes ?? DEFAULT_MAX_OBJECT_BYTES;
  }

  /** The store key of an object. */
  key(kind: KindInfo, namespace: string, name: string): string {
    return objectKey(kind, namespace, name);
  }

  /** The key prefix of a list (one namespace or all). */
  prefix(kind: KindInfo, namespace?: string): string {
    return resourcePrefix(kind, namespace);
  }

  private checkIdentity(kind: KindInfo, namespace: string, name: string): void {
    if (!name) throw badRequest('resource name may not be empty');
    if (kind.namespaced && !namespace) throw badRequest(`namespace is required for ${kind.resource}`);
  }

  // -------------------------------------------------------------------------------------
  // Reads
  // -------------------------------------------------------------------------------------

  /** Reads one object from the store (the latest state), or undefined. */
  async read(kind: KindInfo, namespace: string, name: string): Promise<ApiObject | undefined> {
    const key = this.key(kind, namespace, name);
    let res: Awaited<ReturnType<KV['range']>>;
    try {
      res = await this.kv.range(key);
    } catch (err) {
      throw storeFailure(err, key);
    }
    const kv = res.kvs[0];
    return kv ? decodeFromStore(kind, kv.value, kv.modRevision) : undefined;
  }

  /** Get: the latest state from the store; resourceVersion "0": the cached state. */
  async get(kind: KindInfo, namespace: string, name: string, resourceVersion = ''): Promise<ApiObject> {
    this.checkIdentity(kind, namespace, name);
    if (resourceVersion === '0') {
      const e = this.hub.cache(kind.resource).get(this.key(kind, namespace, name));
      if (!e) throw notFound(kind.resource, kind.group, name);
      return e.obj;
    }
    const obj = await this.read(kind, namespace, name);
    if (!obj) throw notFound(kind.resource, kind.group, name);
    return obj;
  }

  private filter(kind: KindInfo, opts: { namespace?: string; labelSelector?: string; fieldSelector?: string }): WatchFilter {
    try {
      const labels = parseLabelSelector(opts.labelSelector ?? '');
      const fields = parseFieldSelector(opts.fieldSelector ?? '');
      const strategy = strategyFor(kind.resource);
      if (!fields.isEverything()) {
        const known = new Set(['metadata.name', 'metadata.namespace', ...Object.keys(strategy.fields?.({} as ApiObject) ?? {})]);
        for (const f of fields.requirements) if (!known.has(f.field)) throw badRequest(`field label not supported: ${f.field}`);
      }
      return { namespace: kind.namespaced ? opts.namespace || undefined : undefined, labels, fields };
    } catch (err) {
      if (err instanceof SelectorError) throw badRequest(`unable to parse selector: ${err.message}`);
      throw err;
    }
  }

  /**
   * List: served from the watch cache at a revision at least as new as the store's current
   * one (resourceVersion ""), at any cached state ("0"), or from the store at an exact
   * revision ("N", and every page after the first of a paginated list unless the cache is
   * still at that revision).
   */
  async list(kind: KindInfo, opts: ListOptions = {}): Promise<ListResult> {
    const filter = this.filter(kind, opts);
    const limit = Math.max(0, opts.limit ?? 0);
    const prefix = this.prefix(kind, filter.namespace);
    const cache = this.hub.cache(kind.resource);
    if (opts.continueToken) {
      const token = decodeContinue(opts.continueToken, prefix);
      if (token.rv === cache.rv) return this.listFromCache(cache, filter, limit, token.start);
      return this.listFromStore(kind, filter, limit, token.rv, token.start, true);
    }
    const rvText = opts.resourceVersion ?? '';
    if (rvText === '' || rvText === '0') {
      if (rvText === '') {
        try {
          await this.hub.sync();
        } catch (err) {
          throw storeFailure(err, 'list');
        }
      }
      return this.listFromCache(cache, filter, limit, '');
    }
    const rv = parseRV(rvText, 'list');
    if (rv === cache.rv) return this.listFromCache(cache, filter, limit, '');
    if (rv > cache.rv) {
      await this.hub.waitFor(rv);
      if (rv === cache.rv) return this.listFromCache(cache, filter, limit, '');
    }
    return this.listFromStore(kind, filter, limit, rv, '', false);
  }

  private listFromCache(cache: WatchCache, filter: WatchFilter, limit: number, after: string): ListResult {
    const rv = cache.rv;
    const { items, more, lastKey } = cache.list(filter, after, limit);
    return {
      items: items.map((e: Entry) => ({ obj: e.obj, proto: e.proto })),
      resourceVersion: String(rv),
      continueToken: more ? encodeContinue({ rv, start: lastKey }) : '',
    };
  }

  private async listFromStore(kind: KindInfo, filter: WatchFilter, limit: number, rv: number, after: string, continued: boolean): Promise<ListResult> {
    const prefix = this.prefix(kind, filter.namespace);
    const end = prefixEnd(prefix);
    const strategy = strategyFor(kind.resource);
    const items: ListItem[] = [];
    let start = after ? `${after}\0` : prefix;
    let lastKey = '';
    let more = false;
    const pageSize = limit > 0 ? Math.max(limit, 100) : 1000;
    outer: for (;;) {
      let page: Awaited<ReturnType<KV['range']>>;
      try {
        page = await this.kv.range(start, { end, revision: rv, limit: pageSize });
      } catch (err) {
        if (err instanceof StoreError && err.compacted) {
          throw continued
            ? gone('The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.')
            : gone(`too old resource version: ${rv}`);
        }
        if (err instanceof StoreError && err.futureRevision) throw gone(`too large resource version: ${rv}`);
        throw storeFailure(err, String(rv));
      }
      for (let i = 0; i < page.kvs.length; i++) {
        const kv = page.kvs[i];
        const obj = decodeFromStore(kind, kv.value, kv.modRevision);
        const facts = {
          namespace: obj.metadata?.namespace ?? '',
          labels: obj.metadata?.labels ?? {},
          fields: { 'metadata.name': obj.metadata?.name ?? '', 'metadata.namespace': obj.metadata?.namespace ?? '', ...(strategy.fields?.(obj) ?? {}) },
        };
        if (!matches(filter, facts)) continue;
        if (limit > 0 && items.length === limit) {
          more = true;
          break outer;
        }
        items.push({ obj, proto: encodeProto(kind, obj) });
        lastKey = kv.key;
      }
      if (!page.more || page.kvs.length === 0) break;
      start = `${page.kvs[page.kvs.length - 1].key}\0`;
    }
    return { items, resourceVersion: String(rv), continueToken: more ? encodeContinue({ rv, start: lastKey }) : '' };
  }

  /**
   * Watch: every change after resourceVersion (or, without one, the current objects as ADDED
   * and then every change), filtered, from the watch cache. Returns the watcher to stop.
   */
  async watch(kind: KindInfo, opts: WatchOptions, sink: WatchSink): Promise<{ stop(): void }> {
    const filter = this.filter(kind, opts);
    const rvText = opts.resourceVersion ?? '';
    const cache = this.hub.cache(kind.resource);
    let from: number | undefined;
    if (rvText !== '' && rvText !== '0') {
      from = parseRV(rvText, 'watch');
      if (from > cache.rv) await this.hub.waitFor(from);
    }
    return cache.watch(filter, from, sink);
  }

  // -------------------------------------------------------------------------------------
  // Writes
  // -------------------------------------------------------------------------------------

  private validate(strategy: Strategy, obj: ApiObject, extra?: (errs: ErrorList) => void): void {
    const errs = new ErrorList();
    const kind = strategy.kind;
    validateObjectMeta(obj.metadata ?? {}, { namespaced: kind.namespaced, nameCheck: strategy.nameCheck }, errs);
    strategy.validate(obj, errs);
    extra?.(errs);
    if (errs.length > 0) throw invalid(kind.kind, kind.group, obj.metadata?.name || obj.metadata?.generateName || '', errs.errors);
  }

  private encode(kind: KindInfo, obj: ApiObject): Buffer {
    const value = encodeForStore(kind, obj);
    if (value.length > this.maxObjectBytes) {
      throw tooLarge(`Request entity too large: ${kind.resource} "${obj.metadata?.name ?? ''}" is ${value.length} bytes, the limit is ${this.maxObjectBytes}`);
    }
    return value;
  }

  private async leaseFor(kind: KindInfo): Promise<string | undefined> {
    if (kind.resource !== 'events' || !this.deps.eventLeases) return undefined;
    try {
      return await this.deps.eventLeases.lease();
    } catch (err) {
      throw storeFailure(err, 'lease');
    }
  }

  private allocators(exclude: { ips: Set<string>; ports: Set<number> }) {
    return makeAllocators(this.deps.serviceIPs, this.deps.nodePorts, (k) => this.hub.allocated.has(k), exclude);
  }

  /** Runs a Txn, mapping store errors; a lease the store no longer knows is replaced once. */
  private async txn(compares: Compare[], success: TxnOp[], failure: TxnOp[], what: string) {
    try {
      return await this.kv.txn(compares, success, failure);
    } catch (err) {
      if (err instanceof StoreError && /lease not found|requested lease not found/.test(err.message) && this.deps.eventLeases) {
        this.deps.eventLeases.invalidate();
        const lease = await this.deps.eventLeases.lease();
        const redo = success.map((op) => ('put' in op && op.put.lease ? { put: { ...op.put, lease } } : op));
        try {
          return await this.kv.txn(compares, redo, failure);
        } catch (err2) {
          throw storeFailure(err2, what);
        }
      }
      throw storeFailure(err, what);
    }
  }

  /** Checks which allocation keys were taken; throws Invalid for user-chosen ones, returns the auto-picked ones. */
  private collisions(kind: KindInfo, name: string, allocs: Allocation[], picked: Set<string>, results: { kvs?: { key: string }[] }[]): Allocation[] {
    const taken = allocs.filter((_a, i) => (results[i]?.kvs ?? []).length > 0);
    const mine = taken.filter((a) => !picked.has(a.key));
    if (mine.length > 0) {
      const causes: FieldError[] = mine.map((a) => ({
        field: a.field,
        type: 'FieldValueInvalid',
        message: `Invalid value: ${JSON.stringify(a.value)}: ${a.takenMessage}`,
      }));
      throw invalid(kind.kind, kind.group, name, causes);
    }
    return taken;
  }

  /**
   * Create: refuse a resourceVersion, generate the name when asked, set identity and defaults, admit, validate,
   * allocate, and store with create_revision == 0 (ALREADY_EXISTS when the key is taken).
   */
  async create(kind: KindInfo, input: ApiObject | undefined, opts: WriteOptions = {}): Promise<ApiObject> {
    if (!input) throw badRequest(`the request carries no ${kind.kind}`);
    // Kubernetes' storage refuses it (storage.ErrResourceVersionSetOnCreate), through either
    // door. A server-side apply that creates keeps its own rules for the applied configuration.
    if (input.metadata?.resourceVersion && !opts.applied) throw badRequest(RESOURCE_VERSION_ON_CREATE);
    const strategy = strategyFor(kind.resource);
    const exclude = { ips: new Set<string>(), ports: new Set<number>() };
    // A retry starts again from the input: keep it intact when a retry is possible.
    const mayRetry = !!strategy.allocate || (!input.metadata?.name && !!input.metadata?.generateName);
    for (let attempt = 0; ; attempt++) {
      const obj = mayRetry ? clone(input) : input;
      obj.apiVersion = kind.apiVersion;
      obj.kind = kind.kind;
      const meta = (obj.metadata ??= {} as NonNullable<ApiObject['metadata']>);
      if (kind.namespaced && !meta.namespace) meta.namespace = 'default';
      if (!meta.name && meta.generateName) meta.name = meta.generateName + randomSuffix();
      meta.uid = newUID();
      meta.creationTimestamp = nowRFC3339();
      meta.resourceVersion = '';
      meta.generation = 1;
      meta.deletionTimestamp = undefined;
      meta.deletionGracePeriodSeconds = undefined;
      strategy.defaults?.(obj);
      if (!opts.applied) trackUpdate(kind, undefined, obj, tracking(opts));
      strategy.prepareForCreate?.(obj);
      await this.deps.admission.admit({
        operation: 'CREATE',
        kind,
        subresource: '',
        namespace: meta.namespace ?? '',
        name: meta.name ?? '',
        object: obj,
        dryRun: !!opts.dryRun,
      });
      const errs = new ErrorList();
      const picked = strategy.allocate?.(obj, undefined, this.allocators(exclude), errs) ?? new Set<string>();
      this.validate(strategy, obj, (e) => e.errors.push(...errs.errors));
      const name = meta.name ?? '';
      const key = this.key(kind, meta.namespace ?? '', name);
      const value = this.encode(kind, obj);
      if (opts.dryRun) return obj;
      const allocs = strategy.allocations?.(obj) ?? [];
      const lease = await this.leaseFor(kind);
      const res = await this.txn(
        [{ key, target: 'CREATE', result: 'EQUAL', value: 0 }, ...allocs.map((a) => ({ key: a.key, target: 'CREATE' as const, result: 'EQUAL' as const, value: 0 }))],
        [{ put: { key, value, lease } }, ...allocs.map((a) => ({ put: { key: a.key, value: Buffer.from(JSON.stringify({ resource: kind.resource, namespace: meta.namespace ?? '', name, uid: meta.uid })) } }))],
        [{ get: { key } }, ...allocs.map((a) => ({ get: { key: a.key } }))],
        key,
      );
      if (res.succeeded) {
        meta.resourceVersion = String(res.revision);
        this.hub.remember(key, res.revision, obj);
        return obj;
      }
      if ((res.responses[0]?.kvs ?? []).length > 0) {
        // A generated name that collided: generate another, as Kubernetes clients would retry.
        if (input.metadata?.generateName && !input.metadata.name && attempt < 5) continue;
        throw alreadyExists(kind.resource, kind.group, name);
      }
      const taken = this.collisions(kind, name, allocs, picked, res.responses.slice(1));
      if (attempt >= 8) throw unavailable(`could not allocate values for ${kind.resource} "${name}" after ${attempt + 1} attempts: try again`);
      for (const a of taken) {
        if (typeof a.value === 'number') exclude.ports.add(a.value);
        else if (Array.isArray(a.value)) exclude.ips.add(String(a.value[0]));
      }
    }
  }

  /**
   * The read-modify-write loop behind every update: reads the object, lets `mutate` produce
   * the new state (it throws to refuse), and writes it with mod_revision == the read
   * revision. A concurrent change retries with a fresh read, unless `fixedRV` (the client
   * named a resourceVersion): then ABORTED. An object with deletionTimestamp, no finalizers
   * and no grace period left is deleted instead of written.
   */
  async guaranteedUpdate(
    kind: KindInfo,
    namespace: string,
    name: string,
    mutate: (current: ApiObject, attempt: UpdateAttempt) => Promise<ApiObject> | ApiObject,
    opts: { fixedRV?: string; dryRun?: boolean } = {},
  ): Promise<ApiObject> {
    this.checkIdentity(kind, namespace, name);
    const strategy = strategyFor(kind.resource);
    const key = this.key(kind, namespace, name);
    const exclude = { ips: new Set<string>(), ports: new Set<number>() };
    for (let attempt = 0; ; attempt++) {
      const current = await this.read(kind, namespace, name);
      if (!current) throw notFound(kind.resource, kind.group, name);
      if (opts.fixedRV && opts.fixedRV !== current.metadata?.resourceVersion) throw conflict(kind.resource, kind.group, name);
      const picked = new Set<string>();
      const next = await mutate(clone(current), { allocators: this.allocators(exclude), picked });
      // Generation counts changes of the desired state (everything but metadata and status).
      const spec = (o: ApiObject) => ({ ...o, apiVersion: undefined, kind: undefined, metadata: undefined, status: undefined });
      next.metadata!.generation = semanticEqual(spec(next), spec(current)) ? current.metadata?.generation : (current.metadata?.generation ?? 0) + 1;
      const rv = Number(current.metadata?.resourceVersion);
      const oldAllocs = strategy.allocations?.(current) ?? [];
      const newAllocs = strategy.allocations?.(next) ?? [];
      const delta: AllocationDelta = {
        add: newAllocs.filter((a) => !oldAllocs.some((o) => o.key === a.key)),
        remove: oldAllocs.filter((o) => !newAllocs.some((a) => a.key === o.key)),
      };
      const meta = next.metadata!;
      const remove = !!meta.deletionTimestamp && (meta.finalizers ?? []).length === 0 && !(meta.deletionGracePeriodSeconds ?? 0) && strategy.readyToRemove?.(next) !== false;
      if (remove) {
        if (opts.dryRun) return next;
        const res = await this.txn(
          [{ key, target: 'MOD', result: 'EQUAL', value: rv }],
          [{ delete: { key } }, ...oldAllocs.map((a) => ({ delete: { key: a.key } }))],
          [],
          key,
        );
        if (res.succeeded) {
          meta.resourceVersion = String(res.revision);
          return next;
        }
        if (opts.fixedRV) throw conflict(kind.resource, kind.group, name);
        continue;
      }
      next.metadata!.resourceVersion = current.metadata?.resourceVersion;
      if (semanticEqual(next, current)) return current;
      const value = this.encode(kind, next);
      if (opts.dryRun) return next;
      const lease = await this.leaseFor(kind);
      const res = await this.txn(
        [{ key, target: 'MOD', result: 'EQUAL', value: rv }, ...delta.add.map((a) => ({ key: a.key, target: 'CREATE' as const, result: 'EQUAL' as const, value: 0 }))],
        [
          { put: { key, value, lease } },
          ...delta.add.map((a) => ({ put: { key: a.key, value: Buffer.from(JSON.stringify({ resource: kind.resource, namespace, name, uid: meta.uid })) } })),
          ...delta.remove.map((a) => ({ delete: { key: a.key } })),
        ],
        [{ get: { key } }, ...delta.add.map((a) => ({ get: { key: a.key } }))],
        key,
      );
      if (res.succeeded) {
        meta.resourceVersion = String(res.revision);
        this.hub.remember(key, res.revision, next);
        return next;
      }
      const now = res.responses[0]?.kvs?.[0];
      if (!now) throw notFound(kind.resource, kind.group, name);
      if (now.modRevision !== rv) {
        if (opts.fixedRV) throw conflict(kind.resource, kind.group, name);
        if (attempt >= 20) throw conflict(kind.resource, kind.group, name, 'too many concurrent changes; please try again');
        continue;
      }
      const taken = this.collisions(kind, name, delta.add, picked, res.responses.slice(1));
      if (attempt >= 8) throw unavailable(`could not allocate values for ${kind.resource} "${name}": try again`);
      for (const a of taken) {
        if (typeof a.value === 'number') exclude.ports.add(a.value);
        else if (Array.isArray(a.value)) exclude.ips.add(String(a.value[0]));
      }
    }
  }

  /** Update: metadata and spec from the client; status kept (for kinds with a status subresource). */
  async update(kind: KindInfo, input: ApiObject | undefined, opts: WriteOptions = {}): Promise<ApiObject> {
    if (!input) throw badRequest(`the request carries no ${kind.kind}`);
    const strategy = strategyFor(kind.resource);
    const meta = input.metadata ?? {};
    const namespace = kind.namespaced ? meta.namespace || 'default' : '';
    const name = meta.name ?? '';
    return this.guaranteedUpdate(
      kind,
      namespace,
      name,
      async (current, attempt) => {
        const next = clone(input);
        next.apiVersion = kind.apiVersion;
        next.kind = kind.kind;
        const nm = (next.metadata ??= {} as NonNullable<ApiObject['metadata']>);
        const cm = current.metadata!;
        if (nm.uid && nm.uid !== cm.uid) {
          throw conflict(kind.resource, kind.group, name, `Precondition failed: UID in precondition: ${nm.uid}, UID in object meta: ${cm.uid}`);
        }
        nm.namespace = cm.namespace;
        nm.uid = cm.uid;
        nm.creationTimestamp = cm.creationTimestamp;
        nm.deletionTimestamp = cm.deletionTimestamp;
        nm.deletionGracePeriodSeconds = cm.deletionGracePeriodSeconds;
        nm.generation = cm.generation;
        nm.generateName = cm.generateName;
        if (strategy.hasStatus) next.status = clone(current.status);
        strategy.defaults?.(next);
        if (!opts.applied) trackUpdate(kind, current, next, tracking(opts));
        strategy.prepareForUpdate?.(next, current);
        await this.deps.admission.admit({ operation: 'UPDATE', kind, subresource: '', namespace, name, object: next, oldObject: current, dryRun: !!opts.dryRun });
        const allocErrs = new ErrorList();
        for (const k of strategy.allocate?.(next, current, attempt.allocators, allocErrs) ?? []) attempt.picked.add(k);
        this.validate(strategy, next, (errs) => {
          errs.errors.push(...allocErrs.errors);
          if (cm.deletionTimestamp) {
            const before = new Set(cm.finalizers ?? []);
            (nm.finalizers ?? []).forEach((f, i) => {
              if (!before.has(f)) errs.forbidden(`metadata.finalizers[${i}]`, 'no new finalizers can be added if the object is being deleted');
            });
          }
          strategy.validateUpdate?.(next, current, errs);
        });
        return next;
      },
      { fixedRV: meta.resourceVersion || undefined, dryRun: opts.dryRun },
    );
  }

  /** UpdateStatus: only the status from the client; spec and metadata kept. */
  async updateStatus(kind: KindInfo, input: ApiObject | undefined, opts: WriteOptions = {}): Promise<ApiObject> {
    if (!input) throw badRequest(`the request carries no ${kind.kind}`);
    const strategy = strategyFor(kind.resource);
    const meta = input.metadata ?? {};
    const namespace = kind.namespaced ? meta.namespace || 'default' : '';
    const name = meta.name ?? '';
    return this.guaranteedUpdate(
      kind,
      namespace,
      name,
      async (current) => {
        if (meta.uid && meta.uid !== current.metadata?.uid) {
          throw conflict(kind.resource, kind.group, name, `Precondition failed: UID in precondition: ${meta.uid}, UID in object meta: ${current.metadata?.uid}`);
        }
        const next = clone(current);
        next.status = clone(input.status);
        if (!opts.applied) trackUpdate(kind, current, next, { ...tracking(opts), subresource: 'status' });
        else next.metadata!.managedFields = clone(input.metadata?.managedFields ?? []);
        strategy.prepareForStatusUpdate?.(next, current);
        await this.deps.admission.admit({ operation: 'UPDATE', kind, subresource: 'status', namespace, name, object: next, oldObject: current, dryRun: !!opts.dryRun });
        const errs = new ErrorList();
        strategy.validateStatusUpdate?.(next, current, errs);
        if (errs.length > 0) throw invalid(kind.kind, kind.group, name, errs.errors);
        return next;
      },
      { fixedRV: meta.resourceVersion || undefined, dryRun: opts.dryRun },
    );
  }

  /**
   * Delete: checks preconditions, records the propagation policy as Kubernetes does (the
   * foregroundDeletion or orphan finalizer, read by the garbage collector), then either
   * removes the object at once or, when finalizers or a grace period keep it, sets
   * deletionTimestamp (now + grace) and deletionGracePeriodSeconds.
   */
  async delete(kind: KindInfo, namespace: string, name: string, opts: DeleteOptions = {}): Promise<ApiObject> {
    this.checkIdentity(kind, namespace, name);
    const policy = opts.propagationPolicy ?? '';
    if (policy !== '' && !(PROPAGATION_POLICIES as readonly string[]).includes(policy)) {
      throw invalid('DeleteOptions', '', '', [
        { field: 'propagationPolicy', type: 'FieldValueNotSupported', message: `Unsupported value: ${JSON.stringify(policy)}: supported values: "Foreground", "Background", "Orphan"` },
      ]);
    }
    if (opts.gracePeriodSeconds !== undefined && opts.gracePeriodSeconds < 0) {
      throw invalid('DeleteOptions', '', '', [{ field: 'gracePeriodSeconds', type: 'FieldValueInvalid', message: `Invalid value: ${opts.gracePeriodSeconds}: must be greater than or equal to 0` }]);
    }
    const strategy = strategyFor(kind.resource);
    const key = this.key(kind, namespace, name);
    for (let attempt = 0; attempt < 20; attempt++) {
      const current = await this.read(kind, namespace, name);
      if (!current) throw notFound(kind.resource, kind.group, name);
      const cm = current.metadata!;
      const pre = opts.preconditions;
      if (pre?.uid && pre.uid !== cm.uid) {
        throw conflict(kind.resource, kind.group, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${cm.uid}`);
      }
      if (pre?.resourceVersion && pre.resourceVersion !== cm.resourceVersion) {
        throw conflict(kind.resource, kind.group, name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in meta: ${cm.resourceVersion}`);
      }
      await this.deps.admission.admit({ operation: 'DELETE', kind, subresource: '', namespace, name, oldObject: current, dryRun: !!opts.dryRun });
      const next = clone(current);
      const nm = next.metadata!;
      const finalizers = [...(nm.finalizers ?? [])];
      const pending = !!cm.deletionTimestamp;
      if (!pending) {
        if (policy === 'Foreground' && !finalizers.includes(FOREGROUND_FINALIZER)) finalizers.push(FOREGROUND_FINALIZER);
        if (policy === 'Orphan' && !finalizers.includes(ORPHAN_FINALIZER)) finalizers.push(ORPHAN_FINALIZER);
        if (policy === 'Background') {
          const i = finalizers.indexOf(FOREGROUND_FINALIZER);
          if (i >= 0) finalizers.splice(i, 1);
        }
      }
      nm.finalizers = finalizers;
      const grace = strategy.deleteGracePeriod?.(current, opts.gracePeriodSeconds) ?? 0;
      const rv = Number(cm.resourceVersion);
      const removeNow = finalizers.length === 0 && grace === 0 && strategy.readyToRemove?.(next) !== false;
      if (removeNow) {
        if (opts.dryRun) return current;
        const allocs = strategy.allocations?.(current) ?? [];
        const res = await this.txn(
          [{ key, target: 'MOD', result: 'EQUAL', value: rv }],
          [{ delete: { key } }, ...allocs.map((a) => ({ delete: { key: a.key } }))],
          [],
          key,
        );
        if (res.succeeded) return current;
        continue;
      }
      // Graceful: mark (or shorten an existing grace period).
      if (pending) {
        const left = cm.deletionGracePeriodSeconds ?? 0;
        if (grace >= left) return current;
      }
      nm.deletionTimestamp = nowRFC3339(grace);
      nm.deletionGracePeriodSeconds = grace;
      if (!pending) strategy.beginDelete?.(next);
      if (opts.dryRun) return next;
      const value = this.encode(kind, next);
      const lease = await this.leaseFor(kind);
      const res = await this.txn([{ key, target: 'MOD', result: 'EQUAL', value: rv }], [{ put: { key, value, lease } }], [], key);
      if (res.succeeded) {
        nm.resourceVersion = String(res.revision);
        this.hub.remember(key, res.revision, next);
        return next;
      }
    }
    throw conflict(kind.resource, kind.group, name, 'too many concurrent changes; please try again');
  }
}
