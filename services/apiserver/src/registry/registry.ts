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
// All of them go through one read-modify-write loop (readModifyWrite), as Kubernetes' generic
// store does; nothing here names a kind: what differs by kind is a strategy hook
// (../strategies/types.ts).
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
import { type KV, StoreError, type TxnOp, type TxnResult, type Compare, prefixEnd } from '../storage/kv';
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
  // Writes. Every write is planned, one attempt at a time, by a read-modify step (planCreate,
  // planChange behind guaranteedUpdate, planDelete) and committed by readModifyWrite: one
  // Txn comparing the object's revision and the allocation keys it takes, retried on a
  // concurrent change. What differs by kind lives in the strategy's hooks (types.ts).
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

  /** The store lease a put of this kind is written under, for kinds the strategy stores with a TTL. */
  private async leaseFor(kind: KindInfo): Promise<string | undefined> {
    if (!strategyFor(kind.resource).storedWithTTL || !this.deps.eventLeases) return undefined;
    try {
      return await this.deps.eventLeases.lease();
    } catch (err) {
      throw storeFailure(err, 'lease');
    }
  }

  /** Pickers of free values: neither held (per the caches) nor found taken by an earlier attempt. */
  private allocators(excluded: ReadonlySet<string>): Allocators {
    return makeAllocators(this.deps.serviceIPs, this.deps.nodePorts, (k) => this.hub.allocated.has(k) || excluded.has(k));
  }

  /** Runs a Txn, mapping store errors; a lease the store no longer knows is replaced once. */
  private async txn(compares: Compare[], success: TxnOp[], failure: TxnOp[], what: string): Promise<TxnResult> {
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
   * The one write loop: plans an attempt from the current state, encodes it (size check),
   * commits it in one Txn and, when the Txn's compares fail, decides from the failure whether
   * to plan again (a concurrent change, a collided generated name, a collided server-picked
   * value) or to fail.
   */
  private async readModifyWrite(kind: KindInfo, plan: (attempt: UpdateAttempt) => Promise<WritePlan | NoWrite>, rules: RetryRules): Promise<ApiObject> {
    const excluded = new Set<string>();
    for (let n = 0; ; n++) {
      const attempt: UpdateAttempt = { allocators: this.allocators(excluded), picked: new Set<string>() };
      const step = await plan(attempt);
      if ('unchanged' in step) return step.unchanged;
      const value = step.action === 'put' ? this.encode(kind, step.obj) : undefined;
      if (rules.dryRun) return step.reply;
      const res = await this.commit(kind, step, value);
      if (res.succeeded) return this.committed(step, res.revision);
      if (this.objectKeyConflict(kind, step, res, n, rules)) continue;
      for (const a of this.takenPickedValues(kind, step, res, n, attempt.picked)) excluded.add(a.key);
    }
  }

  /** The Txn of a plan: the object's compare and write, plus the allocation keys it takes and frees. */
  private async commit(kind: KindInfo, plan: WritePlan, value: Buffer | undefined): Promise<TxnResult> {
    const { key, allocations } = plan;
    const objectCompare: Compare =
      plan.expectedRV === 0 ? { key, target: 'CREATE', result: 'EQUAL', value: 0 } : { key, target: 'MOD', result: 'EQUAL', value: plan.expectedRV };
    const objectOp: TxnOp = value ? { put: { key, value, lease: await this.leaseFor(kind) } } : { delete: { key } };
    const owner = Buffer.from(JSON.stringify({ resource: kind.resource, namespace: plan.obj.metadata?.namespace ?? '', name: plan.name, uid: plan.obj.metadata?.uid }));
    return this.txn(
      [objectCompare, ...allocations.add.map((a): Compare => ({ key: a.key, target: 'CREATE', result: 'EQUAL', value: 0 }))],
      [objectOp, ...allocations.add.map((a): TxnOp => ({ put: { key: a.key, value: owner } })), ...allocations.remove.map((a): TxnOp => ({ delete: { key: a.key } }))],
      [{ get: { key } }, ...allocations.add.map((a): TxnOp => ({ get: { key: a.key } }))],
      key,
    );
  }

  /** After a successful Txn: the watch cache learns a put at once, and the reply gets its revision. */
  private committed(plan: WritePlan, revision: number): ApiObject {
    if (plan.stampRevision) plan.reply.metadata!.resourceVersion = String(revision);
    if (plan.action === 'put') this.hub.remember(plan.key, revision, plan.obj);
    return plan.reply;
  }

  /**
   * Whether a failed Txn failed on the object's own key and may be planned again (it throws
   * when not). On create (expected revision 0) a taken key is ALREADY_EXISTS, unless the name
   * was generated (then generated again, as Kubernetes clients would retry). On update or
   * delete a gone key is NOT_FOUND and a changed one is retried, unless the client named the
   * resourceVersion (ABORTED).
   */
  private objectKeyConflict(kind: KindInfo, plan: WritePlan, res: TxnResult, n: number, rules: RetryRules): boolean {
    const stored = res.responses[0]?.kvs?.[0];
    if (plan.expectedRV === 0) {
      if (!stored) return false;
      if (rules.renameOnTaken && n < MAX_RENAMES) return true;
      throw alreadyExists(kind.resource, kind.group, plan.name);
    }
    if (!stored) throw notFound(kind.resource, kind.group, plan.name);
    if (stored.modRevision === plan.expectedRV) return false;
    if (rules.fixedRV) throw conflict(kind.resource, kind.group, plan.name);
    if (n >= MAX_CONFLICT_RETRIES) throw conflict(kind.resource, kind.group, plan.name, 'too many concurrent changes; please try again');
    return true;
  }

  /**
   * A failed Txn, as far as the allocation keys go (the object's key was as expected): a
   * user-chosen value held by another object is Invalid; server-picked ones are returned, to
   * be avoided by the next attempt.
   */
  private takenPickedValues(kind: KindInfo, plan: WritePlan, res: TxnResult, n: number, picked: Set<string>): Allocation[] {
    const taken = this.collisions(kind, plan.name, plan.allocations.add, picked, res.responses.slice(1));
    if (n >= MAX_ALLOCATION_RETRIES) throw unavailable(`could not allocate values for ${kind.resource} "${plan.name}" after ${n + 1} attempts: try again`);
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
    const generatedName = !input.metadata?.name && !!input.metadata?.generateName;
    // A retry starts again from the input: keep it intact when a retry is possible.
    const mayRetry = !!strategyFor(kind.resource).allocate || generatedName;
    return this.readModifyWrite(kind, (attempt) => this.planCreate(kind, mayRetry ? clone(input) : input, opts, attempt), {
      fixedRV: false,
      renameOnTaken: generatedName,
      dryRun: !!opts.dryRun,
    });
  }

  /** One attempt of a create: the new object, against no current state (the Txn checks the key is free). */
  private async planCreate(kind: KindInfo, obj: ApiObject, opts: WriteOptions, attempt: UpdateAttempt): Promise<WritePlan> {
    const strategy = strategyFor(kind.resource);
    const meta = setNewIdentity(kind, obj);
    strategy.defaults?.(obj);
    if (!opts.applied) trackUpdate(kind, undefined, obj, tracking(opts));
    strategy.prepareForCreate?.(obj);
    const namespace = meta.namespace ?? '';
    const name = meta.name ?? '';
    await this.deps.admission.admit({ operation: 'CREATE', kind, subresource: '', namespace, name, object: obj, dryRun: !!opts.dryRun });
    const allocErrs = this.allocate(strategy, obj, undefined, attempt);
    this.validate(strategy, obj, (errs) => errs.errors.push(...allocErrs.errors));
    return putPlan(this.key(kind, namespace, name), name, 0, obj, { add: strategy.allocations?.(obj) ?? [], remove: [] });
  }

  /** Lets the strategy pick server-chosen values; returns its complaints about user-chosen ones. */
  private allocate(strategy: Strategy, obj: ApiObject, old: ApiObject | undefined, attempt: UpdateAttempt): ErrorList {
    const errs = new ErrorList();
    for (const k of strategy.allocate?.(obj, old, attempt.allocators, errs) ?? []) attempt.picked.add(k);
    return errs;
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
    const key = this.key(kind, namespace, name);
    return this.readModifyWrite(
      kind,
      async (attempt) => {
        const current = await this.readForWrite(kind, namespace, name, opts.fixedRV);
        const next = await mutate(clone(current), attempt);
        return this.planChange(kind, key, current, next);
      },
      { fixedRV: !!opts.fixedRV, renameOnTaken: false, dryRun: !!opts.dryRun },
    );
  }

  /** The current state a write starts from: NOT_FOUND when absent, ABORTED when not the client's resourceVersion. */
  private async readForWrite(kind: KindInfo, namespace: string, name: string, fixedRV?: string): Promise<ApiObject> {
    const current = await this.read(kind, namespace, name);
    if (!current) throw notFound(kind.resource, kind.group, name);
    if (fixedRV && fixedRV !== current.metadata?.resourceVersion) throw conflict(kind.resource, kind.group, name);
    return current;
  }

  /**
   * The write that takes the stored object from current to next: its removal when next
   * completes a deletion, nothing when next is the same, else a put with the allocation keys
   * next takes and gives up.
   */
  private planChange(kind: KindInfo, key: string, current: ApiObject, next: ApiObject): WritePlan | NoWrite {
    const strategy = strategyFor(kind.resource);
    const name = current.metadata?.name ?? '';
    const rv = Number(current.metadata?.resourceVersion);
    const held = strategy.allocations?.(current) ?? [];
    next.metadata!.generation = nextGeneration(current, next);
    if (deletionComplete(strategy, next)) return removePlan(key, name, rv, held, next, true);
    next.metadata!.resourceVersion = current.metadata?.resourceVersion;
    if (semanticEqual(next, current)) return { unchanged: current };
    return putPlan(key, name, rv, next, allocationDelta(held, strategy.allocations?.(next) ?? []));
  }

  /** Update: metadata and spec from the client; status kept (for kinds with a status subresource). */
  async update(kind: KindInfo, input: ApiObject | undefined, opts: WriteOptions = {}): Promise<ApiObject> {
    if (!input) throw badRequest(`the request carries no ${kind.kind}`);
    const meta = input.metadata ?? {};
    const target = { namespace: kind.namespaced ? meta.namespace || 'default' : '', name: meta.name ?? '' };
    return this.guaranteedUpdate(kind, target.namespace, target.name, (current, attempt) => this.updatedObject(kind, target, input, current, attempt, opts), {
      fixedRV: meta.resourceVersion || undefined,
      dryRun: opts.dryRun,
    });
  }

  /** The mutation of an Update: the client's object over the stored identity, defaulted, admitted, allocated, validated. */
  private async updatedObject(kind: KindInfo, target: WriteTarget, input: ApiObject, current: ApiObject, attempt: UpdateAttempt, opts: WriteOptions): Promise<ApiObject> {
    const strategy = strategyFor(kind.resource);
    checkUIDPrecondition(kind, target.name, input.metadata?.uid, current);
    const next = withStoredIdentity(kind, input, current);
    if (strategy.hasStatus) next.status = clone(current.status);
    strategy.defaults?.(next);
    if (!opts.applied) trackUpdate(kind, current, next, tracking(opts));
    strategy.prepareForUpdate?.(next, current);
    await this.deps.admission.admit({ operation: 'UPDATE', kind, subresource: '', ...target, object: next, oldObject: current, dryRun: !!opts.dryRun });
    const allocErrs = this.allocate(strategy, next, current, attempt);
    this.validate(strategy, next, (errs) => {
      errs.errors.push(...allocErrs.errors);
      validateNoNewFinalizersWhileDeleting(next, current, errs);
      strategy.validateUpdate?.(next, current, errs);
    });
    return next;
  }

  /** UpdateStatus: only the status from the client; spec and metadata kept. */
  async updateStatus(kind: KindInfo, input: ApiObject | undefined, opts: WriteOptions = {}): Promise<ApiObject> {
    if (!input) throw badRequest(`the request carries no ${kind.kind}`);
    const meta = input.metadata ?? {};
    const target = { namespace: kind.namespaced ? meta.namespace || 'default' : '', name: meta.name ?? '' };
    return this.guaranteedUpdate(kind, target.namespace, target.name, (current) => this.statusUpdatedObject(kind, target, input, current, opts), {
      fixedRV: meta.resourceVersion || undefined,
      dryRun: opts.dryRun,
    });
  }

  /** The mutation of an UpdateStatus: the stored object with the client's status, admitted and validated. */
  private async statusUpdatedObject(kind: KindInfo, target: WriteTarget, input: ApiObject, current: ApiObject, opts: WriteOptions): Promise<ApiObject> {
    const strategy = strategyFor(kind.resource);
    checkUIDPrecondition(kind, target.name, input.metadata?.uid, current);
    const next = clone(current);
    next.status = clone(input.status);
    if (!opts.applied) trackUpdate(kind, current, next, { ...tracking(opts), subresource: 'status' });
    else next.metadata!.managedFields = clone(input.metadata?.managedFields ?? []);
    strategy.prepareForStatusUpdate?.(next, current);
    await this.deps.admission.admit({ operation: 'UPDATE', kind, subresource: 'status', ...target, object: next, oldObject: current, dryRun: !!opts.dryRun });
    const errs = new ErrorList();
    strategy.validateStatusUpdate?.(next, current, errs);
    if (errs.length > 0) throw invalid(kind.kind, kind.group, target.name, errs.errors);
    return next;
  }

  /**
   * Delete: checks preconditions, records the propagation policy as Kubernetes does (the
   * foregroundDeletion or orphan finalizer, read by the garbage collector), then either
   * removes the object at once or, when finalizers or a grace period keep it, sets
   * deletionTimestamp (now + grace) and deletionGracePeriodSeconds.
   */
  async delete(kind: KindInfo, namespace: string, name: string, opts: DeleteOptions = {}): Promise<ApiObject> {
    this.checkIdentity(kind, namespace, name);
    checkDeleteOptions(opts);
    return this.readModifyWrite(kind, () => this.planDelete(kind, { namespace, name }, opts), { fixedRV: false, renameOnTaken: false, dryRun: !!opts.dryRun });
  }

  /**
   * One attempt of a delete: the removal (replying with the last state), nothing (a pending
   * deletion the request would not shorten), or the delete-as-update that marks the object.
   */
  private async planDelete(kind: KindInfo, target: WriteTarget, opts: DeleteOptions): Promise<WritePlan | NoWrite> {
    const strategy = strategyFor(kind.resource);
    const { namespace, name } = target;
    const current = await this.readForWrite(kind, namespace, name);
    checkDeletePreconditions(kind, name, current, opts.preconditions);
    await this.deps.admission.admit({ operation: 'DELETE', kind, subresource: '', namespace, name, oldObject: current, dryRun: !!opts.dryRun });
    const key = this.key(kind, namespace, name);
    const next = clone(current);
    const pending = !!current.metadata?.deletionTimestamp;
    next.metadata!.finalizers = withPropagationFinalizers(next.metadata?.finalizers ?? [], pending ? '' : (opts.propagationPolicy ?? ''));
    const grace = strategy.deleteGracePeriod?.(current, opts.gracePeriodSeconds) ?? 0;
    if (next.metadata!.finalizers.length === 0 && grace === 0 && strategy.readyToRemove?.(next) !== false) {
      return removePlan(key, name, Number(current.metadata?.resourceVersion), strategy.allocations?.(current) ?? [], current, false);
    }
    // Graceful: mark, or shorten an existing grace period (never lengthen it).
    if (pending && grace >= (current.metadata?.deletionGracePeriodSeconds ?? 0)) return { unchanged: current };
    next.metadata!.deletionTimestamp = nowRFC3339(grace);
    next.metadata!.deletionGracePeriodSeconds = grace;
    if (!pending) strategy.beginDelete?.(next);
    return this.planChange(kind, key, current, next);
  }
}

// ---------------------------------------------------------------------------------------
// The pieces of a write, free of the store.
// ---------------------------------------------------------------------------------------

/** A concurrent change is retried this many times before ABORTED ("too many concurrent changes"). */
const MAX_CONFLICT_RETRIES = 20;
/** A generated name found taken is generated again this many times before ALREADY_EXISTS. */
const MAX_RENAMES = 5;
/** A server-picked value found taken is picked again this many times before UNAVAILABLE. */
const MAX_ALLOCATION_RETRIES = 8;

/** The object a write addresses. */
interface WriteTarget {
  namespace: string;
  name: string;
}

/** How readModifyWrite treats a failed Txn and a dry run. */
interface RetryRules {
  /** The client named a resourceVersion: a concurrent change is ABORTED, not retried. */
  fixedRV: boolean;
  /** A create with generateName: a generated name that is taken is generated again. */
  renameOnTaken: boolean;
  /** Plan, encode and reply, but write nothing. */
  dryRun: boolean;
}

/** One attempt of a write, planned from the current state. */
interface WritePlan {
  key: string;
  /** The object's name, for errors. */
  name: string;
  /** The mod_revision the key must still have when the Txn runs; 0: the key must not exist. */
  expectedRV: number;
  /** put: store obj; remove: delete the key. */
  action: 'put' | 'remove';
  /** The object stored, or (remove) the state that completes the deletion. */
  obj: ApiObject;
  /** What the write replies. */
  reply: ApiObject;
  /** Whether the reply gets the Txn's revision as its resourceVersion. */
  stampRevision: boolean;
  allocations: AllocationDelta;
}

/** An attempt that found nothing to write, and its reply. */
interface NoWrite {
  unchanged: ApiObject;
}

function putPlan(key: string, name: string, expectedRV: number, obj: ApiObject, allocations: AllocationDelta): WritePlan {
  return { key, name, expectedRV, action: 'put', obj, reply: obj, stampRevision: true, allocations };
}

/** The removal of the key and of every allocation key the stored state holds. */
function removePlan(key: string, name: string, expectedRV: number, held: Allocation[], reply: ApiObject, stampRevision: boolean): WritePlan {
  return { key, name, expectedRV, action: 'remove', obj: reply, reply, stampRevision, allocations: { add: [], remove: held } };
}

/** The allocation keys taken and given up between two states. */
function allocationDelta(held: Allocation[], wanted: Allocation[]): AllocationDelta {
  return {
    add: wanted.filter((a) => !held.some((o) => o.key === a.key)),
    remove: held.filter((o) => !wanted.some((a) => a.key === o.key)),
  };
}

/** Generation counts changes of the desired state (everything but metadata and status). */
function nextGeneration(current: ApiObject, next: ApiObject): number | undefined {
  const desired = (o: ApiObject) => ({ ...o, apiVersion: undefined, kind: undefined, metadata: undefined, status: undefined });
  return semanticEqual(desired(next), desired(current)) ? current.metadata?.generation : (current.metadata?.generation ?? 0) + 1;
}

/** Kubernetes' ShouldDeleteDuringUpdate: a deleted object with no finalizer and no grace period left goes. */
function deletionComplete(strategy: Strategy, obj: ApiObject): boolean {
  const meta = obj.metadata ?? {};
  return !!meta.deletionTimestamp && (meta.finalizers ?? []).length === 0 && !(meta.deletionGracePeriodSeconds ?? 0) && strategy.readyToRemove?.(obj) !== false;
}

/** The identity a create sets: namespace default, generated name, uid, timestamps, generation 1. */
function setNewIdentity(kind: KindInfo, obj: ApiObject): NonNullable<ApiObject['metadata']> {
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
  return meta;
}

/** The client's object with the stored identity, which an Update may not change. */
function withStoredIdentity(kind: KindInfo, input: ApiObject, current: ApiObject): ApiObject {
  const next = clone(input);
  next.apiVersion = kind.apiVersion;
  next.kind = kind.kind;
  const nm = (next.metadata ??= {} as NonNullable<ApiObject['metadata']>);
  const cm = current.metadata!;
  nm.namespace = cm.namespace;
  nm.uid = cm.uid;
  nm.creationTimestamp = cm.creationTimestamp;
  nm.deletionTimestamp = cm.deletionTimestamp;
  nm.deletionGracePeriodSeconds = cm.deletionGracePeriodSeconds;
  nm.generation = cm.generation;
  nm.generateName = cm.generateName;
  return next;
}

function checkUIDPrecondition(kind: KindInfo, name: string, uid: string | undefined, current: ApiObject): void {
  if (uid && uid !== current.metadata?.uid) {
    throw conflict(kind.resource, kind.group, name, `Precondition failed: UID in precondition: ${uid}, UID in object meta: ${current.metadata?.uid}`);
  }
}

/** As Kubernetes' ValidateObjectMetaUpdate: once deleting, metadata.finalizers may only shrink. */
function validateNoNewFinalizersWhileDeleting(next: ApiObject, current: ApiObject, errs: ErrorList): void {
  if (!current.metadata?.deletionTimestamp) return;
  const before = new Set(current.metadata.finalizers ?? []);
  (next.metadata?.finalizers ?? []).forEach((f, i) => {
    if (!before.has(f)) errs.forbidden(`metadata.finalizers[${i}]`, 'no new finalizers can be added if the object is being deleted');
  });
}

function checkDeleteOptions(opts: DeleteOptions): void {
  const policy = opts.propagationPolicy ?? '';
  if (policy !== '' && !(PROPAGATION_POLICIES as readonly string[]).includes(policy)) {
    throw invalid('DeleteOptions', '', '', [
      { field: 'propagationPolicy', type: 'FieldValueNotSupported', message: `Unsupported value: ${JSON.stringify(policy)}: supported values: "Foreground", "Background", "Orphan"` },
    ]);
  }
  if (opts.gracePeriodSeconds !== undefined && opts.gracePeriodSeconds < 0) {
    throw invalid('DeleteOptions', '', '', [{ field: 'gracePeriodSeconds', type: 'FieldValueInvalid', message: `Invalid value: ${opts.gracePeriodSeconds}: must be greater than or equal to 0` }]);
  }
}

function checkDeletePreconditions(kind: KindInfo, name: string, current: ApiObject, pre: metav1.Preconditions | undefined): void {
  checkUIDPrecondition(kind, name, pre?.uid, current);
  const rv = current.metadata?.resourceVersion;
  if (pre?.resourceVersion && pre.resourceVersion !== rv) {
    throw conflict(kind.resource, kind.group, name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in meta: ${rv}`);
  }
}

/** The finalizers after a delete's propagation policy ('' when the deletion had already started: unchanged). */
function withPropagationFinalizers(finalizers: string[], policy: string): string[] {
  const out = [...finalizers];
  if (policy === 'Foreground' && !out.includes(FOREGROUND_FINALIZER)) out.push(FOREGROUND_FINALIZER);
  if (policy === 'Orphan' && !out.includes(ORPHAN_FINALIZER)) out.push(ORPHAN_FINALIZER);
  const foreground = out.indexOf(FOREGROUND_FINALIZER);
  if (policy === 'Background' && foreground >= 0) out.splice(foreground, 1);
  return out;
}
