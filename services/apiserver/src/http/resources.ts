// The resource verbs of the HTTP API over the one generic registry: the same strategies,
// admission, validation and store writes as the gRPC services, so an object is the same
// whichever door it came through. One function per verb; subresources (status, scale,
// binding, eviction, token, log) beside them.
import * as grpc from '@grpc/grpc-js';
import { type KindInfo, kindFor, fromK8sJson, toK8sJson, type appsv1, type corev1 } from '@k8ts/api';
import { applyJsonPatch, applyMergePatch, applyStrategicMergePatch, PatchError, toTable } from '@k8ts/machinery';
import { ApiError, badRequest, notImplemented } from '../errors';
import { checkPatchOptions, checkWriteOptions } from '../fieldmanager';
import type { DeleteOptions } from '../registry/registry';
import { bindPod, getScale, updateScale } from '../registry/subresources';
import type { ApiObject } from '../strategies/types';
import { openPodLogs } from '../server/logs';
import { createServiceAccountToken } from '../server/tokens';
import { OBJECT_MEDIA_TYPES, type Decoded, decodeObject, fieldValidation, mediaType, parseBody, parseRequestValue, readBody, unsupportedMediaType } from './body';
import type { HttpContext, ResourceContext } from './context';
import { objectBytes, objectJson, objectValue, sendText, sendValue, sharedObjectValue, successStatus } from './respond';
import { serveWatch } from './watch';

const PODS = kindFor('v1', 'Pod')!;
const SCALE_TYPE = 'k8ts.apps.v1.Scale';
const SCALABLE = new Set(['deployments', 'replicasets']);
/** Kubernetes' bound on the operations of one JSON patch. */
const MAX_JSON_PATCH_OPERATIONS = 10000;

const COMMA = Buffer.from(',');
const CLOSE_LIST = Buffer.from(']}');

const PATCH_TYPES = ['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json', 'application/apply-patch+yaml'];

/** Serves one resource request whose kind, user and authorization are settled. */
export async function serveResource(ctx: ResourceContext): Promise<void> {
  const { info } = ctx;
  const sub = info.subresource;
  switch (info.verb) {
    case 'get':
      if (sub === '' || sub === 'status') return get(ctx);
      if (sub === 'scale' && SCALABLE.has(ctx.kind.resource)) return sendScale(ctx, 200, await getScale(ctx.deps.registry, ctx.kind, ctx.namespace, info.name));
      if (sub === 'log' && ctx.kind === PODS) return logs(ctx);
      break;
    case 'list':
      if (sub === '') return list(ctx);
      break;
    case 'watch':
      if (sub === '') return serveWatch(ctx);
      break;
    case 'create':
      if (sub === '' && info.name === '') return create(ctx);
      if (sub === 'binding' && ctx.kind === PODS) return bind(ctx);
      if (sub === 'eviction' && ctx.kind === PODS) return evict(ctx);
      if (sub === 'token' && ctx.kind.resource === 'serviceaccounts') return token(ctx);
      break;
    case 'update':
      if (sub === '' || sub === 'status') return update(ctx);
      if (sub === 'scale' && SCALABLE.has(ctx.kind.resource)) return putScale(ctx);
      break;
    case 'patch':
      if (sub === '' || sub === 'status' || (sub === 'scale' && SCALABLE.has(ctx.kind.resource))) return patch(ctx);
      break;
    case 'delete':
      if (sub === '') return remove(ctx);
      break;
    case 'deletecollection':
      if (sub === '') return removeCollection(ctx);
      break;
  }
  if (NOT_BUILT.has(`${ctx.kind.resource}/${sub}`)) {
    throw notImplemented(`${ctx.kind.resource}/${sub} is not served by k8ts yet (exec, attach, port-forward and proxy are planned)`);
  }
  throw methodNotSupported(ctx);
}

/** Kubernetes subresources k8ts does not serve yet: UNIMPLEMENTED (501), not 405. */
const NOT_BUILT = new Set(['pods/exec', 'pods/attach', 'pods/portforward', 'pods/proxy', 'pods/ephemeralcontainers', 'pods/resize', 'services/proxy', 'nodes/proxy']);

function methodNotSupported(ctx: ResourceContext): ApiError {
  const what = ctx.info.subresource ? `${ctx.kind.resource}/${ctx.info.subresource}` : ctx.kind.resource;
  return new ApiError(grpc.status.UNIMPLEMENTED, 'MethodNotAllowed', 405, `the server does not allow this method on the requested resource (${ctx.info.verb} ${what})`, {
    subject: { group: ctx.kind.group, kind: ctx.kind.resource, name: ctx.info.name },
  });
}

/** Who writes: ?fieldManager= and the User-Agent, for metadata.managedFields. */
export function writer(ctx: HttpContext): { fieldManager?: string; userAgent?: string } {
  const fm = ctx.query.get('fieldManager');
  const ua = ctx.req.headers['user-agent'];
  return { ...(fm ? { fieldManager: fm } : {}), ...(typeof ua === 'string' ? { userAgent: ua } : {}) };
}

/** metadata.managedFields as the request's JSON had it (undefined when absent). */
function requestManagedFields(value: unknown): unknown {
  const meta = (value as { metadata?: { managedFields?: unknown } } | null)?.metadata;
  return meta && typeof meta === 'object' && 'managedFields' in meta ? meta.managedFields : undefined;
}

/** ?force= of a patch: true, false or absent. */
export function forceParam(ctx: HttpContext): boolean | undefined {
  const v = ctx.query.get('force');
  if (v === null) return undefined;
  if (v !== 'true' && v !== 'false') throw badRequest(`invalid value for force: ${JSON.stringify(v.slice(0, 20))}: must be true or false`);
  return v === 'true';
}

/** ?dryRun=All (the only value Kubernetes knows). */
function dryRun(ctx: HttpContext): boolean {
  const values = ctx.query.getAll('dryRun');
  for (const v of values) if (v !== 'All') throw badRequest(`Invalid dryRun value: ${JSON.stringify(v.slice(0, 40))}: supported values: "All"`);
  return values.length > 0;
}

function warningHeaders(warnings: string[]): Record<string, string | string[]> {
  if (warnings.length === 0) return {};
  return { warning: warnings.slice(0, 50).map((w) => `299 - ${JSON.stringify(w)}`) };
}

/** Sends one object: JSON, YAML, or a one-row Table. */
function sendObject(ctx: ResourceContext, code: number, obj: ApiObject, warnings: string[] = []): void {
  const headers = warningHeaders(warnings) as Record<string, string>;
  if (ctx.format === 'table') {
    const table = toTable(ctx.kind, [objectValue(ctx.kind, obj)], { now: Date.now(), includeObject: includeObject(ctx) });
    sendText(ctx.res, code, 'table', JSON.stringify(table), headers);
    return;
  }
  sendText(ctx.res, code, ctx.format, objectBytes(ctx.kind, obj), headers);
}

export function includeObject(ctx: HttpContext): 'None' | 'Metadata' | 'Object' {
  const v = ctx.query.get('includeObject') ?? 'Metadata';
  if (v !== 'None' && v !== 'Metadata' && v !== 'Object') throw badRequest(`includeObject must be one of None, Metadata, Object, got ${JSON.stringify(v.slice(0, 40))}`);
  return v;
}

async function get(ctx: ResourceContext): Promise<void> {
  const obj = await ctx.deps.registry.get(ctx.kind, ctx.namespace, ctx.info.name, ctx.query.get('resourceVersion') ?? '');
  sendObject(ctx, 200, obj);
}

/** Positive integer query parameter, or undefined. */
export function intParam(ctx: HttpContext, name: string, min = 0): number | undefined {
  const v = ctx.query.get(name);
  if (v === null || v === '') return undefined;
  if (!/^-?\d+$/.test(v) || Number(v) < min) throw badRequest(`invalid value for ${name}: ${JSON.stringify(v.slice(0, 40))}: must be an integer >= ${min}`);
  return Number(v);
}

/** The resourceVersion a list or watch should start from, with resourceVersionMatch's rules. */
async function listVersion(ctx: ResourceContext): Promise<string> {
  const rv = ctx.query.get('resourceVersion') ?? '';
  const match = ctx.query.get('resourceVersionMatch') ?? '';
  if (match !== '' && match !== 'Exact' && match !== 'NotOlderThan') {
    throw badRequest(`resourceVersionMatch: Unsupported value: ${JSON.stringify(match.slice(0, 40))}: supported values: "Exact", "NotOlderThan"`);
  }
  if (match !== '' && rv === '') throw invalidListOptions('resourceVersionMatch', 'resourceVersionMatch is forbidden unless resourceVersion is provided');
  if (match === 'Exact' && rv === '0') throw invalidListOptions('resourceVersionMatch', 'resourceVersionMatch "exact" is forbidden for resourceVersion "0"');
  if (match === 'Exact' || rv === '' || rv === '0') return rv;
  // NotOlderThan (and a bare version, as Kubernetes reads it): any state at least that new.
  if (!/^\d+$/.test(rv)) throw badRequest(`invalid resource version ${JSON.stringify(rv.slice(0, 40))}: must be a non-negative integer`);
  const cache = ctx.deps.hub.cache(ctx.kind.resource);
  if (Number(rv) > cache.rv) await ctx.deps.hub.waitFor(Number(rv));
  return '0';
}

function invalidListOptions(field: string, message: string): ApiError {
  return new ApiError(grpc.status.INVALID_ARGUMENT, 'Invalid', 422, `ListOptions.meta.k8s.io "" is invalid: ${field}: Forbidden: ${message}`, {
    subject: { group: 'meta.k8s.io', kind: 'ListOptions' },
    causes: [{ field, type: 'FieldValueForbidden', message: `Forbidden: ${message}` }],
  });
}

async function list(ctx: ResourceContext): Promise<void> {
  const { kind } = ctx;
  const res = await ctx.deps.registry.list(kind, {
    namespace: ctx.namespace || undefined,
    labelSelector: ctx.query.get('labelSelector') ?? '',
    fieldSelector: ctx.query.get('fieldSelector') ?? '',
    limit: intParam(ctx, 'limit'),
    continueToken: ctx.query.get('continue') ?? '',
    resourceVersion: await listVersion(ctx),
  });
  const listMeta: Record<string, unknown> = { resourceVersion: res.resourceVersion };
  if (res.continueToken) listMeta.continue = res.continueToken;
  if (res.remainingItemCount !== undefined) listMeta.remainingItemCount = res.remainingItemCount;
  if (ctx.format === 'table') {
    const table = toTable(
      kind,
      res.items.map((i) => sharedObjectValue(kind, i.obj)),
      { now: Date.now(), includeObject: includeObject(ctx), listMeta },
    );
    sendText(ctx.res, 200, 'table', JSON.stringify(table));
    return;
  }
  // Assembled from each object's cached JSON bytes: a 10,000-item list encodes nothing twice.
  const head = Buffer.from(`{"kind":${JSON.stringify(`${kind.kind}List`)},"apiVersion":${JSON.stringify(kind.apiVersion)},"metadata":${JSON.stringify(listMeta)},"items":[`);
  const parts: Buffer[] = [head];
  res.items.forEach((i, n) => {
    if (n > 0) parts.push(COMMA);
    parts.push(objectBytes(kind, i.obj));
  });
  parts.push(CLOSE_LIST);
  sendText(ctx.res, 200, ctx.format, Buffer.concat(parts));
}

/** Reads and decodes a body holding an object of the request's kind. */
async function readObject(ctx: ResourceContext, kind: KindInfo = ctx.kind): Promise<Decoded & { managedFields: unknown }> {
  const type = mediaType(ctx.req);
  if (!OBJECT_MEDIA_TYPES.includes(type)) throw unsupportedMediaType(type, OBJECT_MEDIA_TYPES);
  const body = await readBody(ctx.req);
  const value = parseRequestValue(body, type, kind.typeName, `${kind.kind} in version "${kind.version}" cannot be handled as a ${kind.kind}`);
  const decoded = decodeObject(kind, value, type === 'application/json' ? body.toString('utf8') : undefined, fieldValidation(ctx.query));
  return { ...decoded, managedFields: requestManagedFields(value) };
}

/** The namespace of a body must be the URL's (or empty, then the URL's is used). */
function settleIdentity(ctx: ResourceContext, obj: ApiObject, requireName: boolean): void {
  const meta = (obj.metadata ??= {} as NonNullable<ApiObject['metadata']>);
  if (ctx.kind.namespaced) {
    if (meta.namespace && meta.namespace !== ctx.namespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    meta.namespace = ctx.namespace;
  } else if (meta.namespace) {
    meta.namespace = '';
  }
  if (requireName && meta.name !== ctx.info.name) {
    throw badRequest(`the name of the object (${(meta.name ?? '').slice(0, 60)}) does not match the name on the URL (${ctx.info.name.slice(0, 60)})`);
  }
}

async function create(ctx: ResourceContext): Promise<void> {
  checkWriteOptions('CreateOptions', ctx.query.get('fieldManager') ?? undefined);
  const { obj, warnings, managedFields } = await readObject(ctx);
  settleIdentity(ctx, obj, false);
  ctx.deps.security.checkEscalation(ctx.user, ctx.kind.resource, obj);
  const created = await ctx.deps.registry.create(ctx.kind, obj, { dryRun: dryRun(ctx), ...writer(ctx), requestManagedFields: managedFields });
  sendObject(ctx, 201, created, warnings);
}

async function update(ctx: ResourceContext): Promise<void> {
  checkWriteOptions('UpdateOptions', ctx.query.get('fieldManager') ?? undefined);
  const { obj, warnings, managedFields } = await readObject(ctx);
  settleIdentity(ctx, obj, true);
  const registry = ctx.deps.registry;
  const opts = { dryRun: dryRun(ctx), ...writer(ctx), requestManagedFields: managedFields };
  let out: ApiObject;
  if (ctx.info.subresource === 'status') out = await registry.updateStatus(ctx.kind, obj, opts);
  else {
    ctx.deps.security.checkEscalation(ctx.user, ctx.kind.resource, obj);
    out = await registry.update(ctx.kind, obj, opts);
  }
  sendObject(ctx, 200, out, warnings);
}

function scaleJson(scale: appsv1.Scale): Record<string, unknown> {
  const json = toK8sJson(SCALE_TYPE, scale);
  return { ...json, kind: 'Scale', apiVersion: 'autoscaling/v1' };
}

function sendScale(ctx: ResourceContext, code: number, scale: appsv1.Scale): void {
  sendValue(ctx.res, code, ctx.format, scaleJson(scale));
}

function decodeScale(ctx: ResourceContext, value: unknown): appsv1.Scale {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw badRequest('Scale in version "v1" cannot be handled as a Scale: the body must be a JSON object');
  const { apiVersion: _a, kind: _k, ...rest } = value as Record<string, unknown>;
  const unknown = fieldValidation(ctx.query) === 'Strict' ? 'error' : 'ignore';
  try {
    const scale = fromK8sJson<appsv1.Scale>(SCALE_TYPE, rest, { unknownFields: unknown });
    const meta = (scale.metadata ??= {} as NonNullable<appsv1.Scale['metadata']>);
    if (meta.name && meta.name !== ctx.info.name) throw badRequest(`the name of the object (${meta.name.slice(0, 60)}) does not match the name on the URL (${ctx.info.name.slice(0, 60)})`);
    meta.name = ctx.info.name;
    meta.namespace = ctx.namespace;
    return scale;
  } catch (err) {
    if (err instanceof ApiError) throw err;
    throw badRequest(`Scale in version "v1" cannot be handled as a Scale: ${(err as Error).message}`);
  }
}

async function putScale(ctx: ResourceContext): Promise<void> {
  const type = mediaType(ctx.req);
  checkWriteOptions('UpdateOptions', ctx.query.get('fieldManager') ?? undefined);
  const scale = decodeScale(ctx, parseRequestValue(await readBody(ctx.req), type, SCALE_TYPE, 'Scale'));
  sendScale(ctx, 200, await updateScale(ctx.deps.registry, ctx.kind, scale, writer(ctx)));
}

/** Applies a patch document of `type` to a JSON object. */
function applyPatch(type: string, typeName: string, current: Record<string, unknown>, patchDoc: unknown): unknown {
  try {
    if (type === 'application/json-patch+json') {
      if (!Array.isArray(patchDoc)) throw badRequest('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
      if (patchDoc.length > MAX_JSON_PATCH_OPERATIONS) {
        throw new ApiError(grpc.status.RESOURCE_EXHAUSTED, 'RequestEntityTooLarge', 413, `The allowed maximum operations in a JSON patch is ${MAX_JSON_PATCH_OPERATIONS}, got ${patchDoc.length}`);
      }
      return applyJsonPatch(current, patchDoc);
    }
    if (type === 'application/merge-patch+json') return applyMergePatch(current, patchDoc);
    return applyStrategicMergePatch(typeName, current, patchDoc);
  } catch (err) {
    if (err instanceof PatchError) {
      // Kubernetes: a patch that does not apply is 422 Invalid, a malformed one 400, a
      // conflicting one 409; a patch that meets a broken schema is 500 (reason left empty).
      const code = err.code === 409 ? grpc.status.ABORTED : err.code === 500 ? grpc.status.INTERNAL : grpc.status.INVALID_ARGUMENT;
      throw new ApiError(code, err.reason === 'Unknown' ? '' : err.reason, err.code, err.message);
    }
    throw err;
  }
}

function patchCarriesVersion(doc: unknown): boolean {
  if (Array.isArray(doc)) return doc.some((op) => typeof op === 'object' && op !== null && (op as { path?: unknown }).path === '/metadata/resourceVersion');
  const meta = (doc as { metadata?: { resourceVersion?: unknown } } | null)?.metadata;
  return typeof meta?.resourceVersion === 'string' && meta.resourceVersion !== '';
}

async function patch(ctx: ResourceContext): Promise<void> {
  const type = mediaType(ctx.req);
  if (!PATCH_TYPES.includes(type)) throw unsupportedMediaType(type, PATCH_TYPES);
  const body = await readBody(ctx.req);
  const doc = parseBody(body, type, 'the patch');
  if (type === 'application/apply-patch+yaml') return ctx.deps.applyPatch(ctx, doc);
  checkPatchOptions(false, ctx.query.get('fieldManager') ?? undefined, forceParam(ctx));
  const validation = fieldValidation(ctx.query);
  const { registry } = ctx.deps;
  const retry = !patchCarriesVersion(doc);
  const isScale = ctx.info.subresource === 'scale';
  for (let attempt = 0; ; attempt++) {
    try {
      if (isScale) {
        const current = await getScale(registry, ctx.kind, ctx.namespace, ctx.info.name);
        const patched = applyPatch(type, SCALE_TYPE, scaleJson(current), doc);
        const scale = decodeScale(ctx, patched);
        if (!retry) scale.metadata!.resourceVersion ||= current.metadata?.resourceVersion ?? '';
        else scale.metadata!.resourceVersion = current.metadata?.resourceVersion ?? '';
        return sendScale(ctx, 200, await updateScale(registry, ctx.kind, scale, writer(ctx)));
      }
      const current = await registry.get(ctx.kind, ctx.namespace, ctx.info.name);
      const patched = applyPatch(type, ctx.kind.typeName, objectValue(ctx.kind, current), doc);
      const { obj, warnings } = decodeObject(ctx.kind, patched, undefined, validation);
      settleIdentity(ctx, obj, true);
      if (retry) obj.metadata!.resourceVersion = current.metadata?.resourceVersion ?? '';
      const opts = { dryRun: dryRun(ctx), ...writer(ctx), requestManagedFields: requestManagedFields(patched) };
      let out: ApiObject;
      if (ctx.info.subresource === 'status') out = await registry.updateStatus(ctx.kind, obj, opts);
      else {
        ctx.deps.security.checkEscalation(ctx.user, ctx.kind.resource, obj);
        out = await registry.update(ctx.kind, obj, opts);
      }
      return sendObject(ctx, 200, out, warnings);
    } catch (err) {
      // A concurrent write between the read and the update: patch the new state, as Kubernetes does.
      if (retry && attempt < 10 && err instanceof ApiError && err.reason === 'Conflict' && err.code === grpc.status.ABORTED) continue;
      throw err;
    }
  }
}

/** DeleteOptions from the body (if any) and the query, as Kubernetes merges them. */
async function deleteOptions(ctx: HttpContext): Promise<DeleteOptions> {
  const body = await readBody(ctx.req);
  const opts: DeleteOptions = {};
  let fromBody: Record<string, unknown> = {};
  if (body.length > 0 && body.toString('utf8').trim() !== '') {
    const type = mediaType(ctx.req);
    const v = parseRequestValue(body, OBJECT_MEDIA_TYPES.includes(type) ? type : 'application/json', 'k8ts.meta.v1.DeleteOptions', 'DeleteOptions');
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw badRequest('DeleteOptions: the body must be a JSON object');
    fromBody = v as Record<string, unknown>;
  }
  const grace = ctx.query.get('gracePeriodSeconds') ?? fromBody.gracePeriodSeconds;
  if (grace !== undefined && grace !== null) {
    const n = Number(grace);
    if (!Number.isInteger(n)) throw badRequest(`invalid gracePeriodSeconds: ${JSON.stringify(String(grace).slice(0, 40))}`);
    opts.gracePeriodSeconds = Math.max(0, n);
  }
  const policy = ctx.query.get('propagationPolicy') ?? fromBody.propagationPolicy;
  const orphan = ctx.query.get('orphanDependents') ?? fromBody.orphanDependents;
  if (policy !== undefined && policy !== null && policy !== '') opts.propagationPolicy = String(policy);
  else if (orphan !== undefined && orphan !== null) opts.propagationPolicy = String(orphan) === 'true' ? 'Orphan' : 'Background';
  const pre = fromBody.preconditions as { uid?: unknown; resourceVersion?: unknown } | undefined;
  if (pre && typeof pre === 'object') {
    opts.preconditions = {};
    if (typeof pre.uid === 'string') opts.preconditions.uid = pre.uid;
    if (typeof pre.resourceVersion === 'string') opts.preconditions.resourceVersion = pre.resourceVersion;
  }
  const dry = [...ctx.query.getAll('dryRun'), ...(Array.isArray(fromBody.dryRun) ? (fromBody.dryRun as unknown[]).map(String) : [])];
  for (const v of dry) if (v !== 'All') throw badRequest(`Invalid dryRun value: ${JSON.stringify(v.slice(0, 40))}: supported values: "All"`);
  if (dry.length > 0) opts.dryRun = true;
  return opts;
}

/** Whether a delete left the object in place (finalizers or a grace period keep it). */
function stillThere(obj: ApiObject): boolean {
  const m = obj.metadata;
  return !!m?.deletionTimestamp && ((m.finalizers ?? []).length > 0 || (m.deletionGracePeriodSeconds ?? 0) > 0);
}

async function remove(ctx: ResourceContext): Promise<void> {
  const opts = await deleteOptions(ctx);
  const out = await ctx.deps.registry.delete(ctx.kind, ctx.namespace, ctx.info.name, opts);
  if (stillThere(out) || ctx.kind === PODS) {
    sendObject(ctx, 200, out);
    return;
  }
  sendValue(ctx.res, 200, ctx.format, {
    ...successStatus({ name: ctx.info.name, group: ctx.kind.group || undefined, kind: ctx.kind.resource, uid: out.metadata?.uid }),
  });
}

async function removeCollection(ctx: ResourceContext): Promise<void> {
  const opts = await deleteOptions(ctx);
  const { registry } = ctx.deps;
  const res = await registry.list(ctx.kind, {
    namespace: ctx.namespace || undefined,
    labelSelector: ctx.query.get('labelSelector') ?? '',
    fieldSelector: ctx.query.get('fieldSelector') ?? '',
  });
  const deleted: string[] = [];
  for (const item of res.items) {
    const m = item.obj.metadata ?? {};
    try {
      const out = await registry.delete(ctx.kind, ctx.kind.namespaced ? m.namespace || '' : '', m.name ?? '', opts);
      deleted.push(objectJson(ctx.kind, out));
    } catch (err) {
      // Gone in the meantime: nothing to delete.
      if (err instanceof ApiError && err.code === grpc.status.NOT_FOUND) continue;
      throw err;
    }
  }
  const body = `{"kind":${JSON.stringify(`${ctx.kind.kind}List`)},"apiVersion":${JSON.stringify(ctx.kind.apiVersion)},"metadata":{"resourceVersion":${JSON.stringify(res.resourceVersion)}},"items":[${deleted.join(',')}]}`;
  sendText(ctx.res, 200, ctx.format === 'table' ? 'json' : ctx.format, body);
}

async function bind(ctx: ResourceContext): Promise<void> {
  const binding = kindFor('v1', 'Binding');
  const value = parseRequestValue(await readBody(ctx.req), mediaType(ctx.req), 'k8ts.core.v1.Binding', 'Binding') as Record<string, unknown>;
  let b: corev1.Binding;
  try {
    const { apiVersion: _a, kind: _k, ...rest } = (value ?? {}) as Record<string, unknown>;
    b = fromK8sJson<corev1.Binding>(binding?.typeName ?? 'k8ts.core.v1.Binding', rest, { unknownFields: 'ignore' });
  } catch (err) {
    throw badRequest(`Binding in version "v1" cannot be handled as a Binding: ${(err as Error).message}`);
  }
  const meta = (b.metadata ??= {} as NonNullable<corev1.Binding['metadata']>);
  meta.name ||= ctx.info.name;
  if (meta.name !== ctx.info.name) throw badRequest(`the name of the object (${meta.name.slice(0, 60)}) does not match the name on the URL (${ctx.info.name.slice(0, 60)})`);
  meta.namespace = ctx.namespace;
  await bindPod(ctx.deps.registry, b);
  sendValue(ctx.res, 201, ctx.format, { ...successStatus({}), code: 201 });
}

/** policy/v1 Eviction: deletes the pod with the eviction's options (no disruption budgets yet). */
async function evict(ctx: ResourceContext): Promise<void> {
  const value = parseRequestValue(await readBody(ctx.req), mediaType(ctx.req), 'k8ts.policy.v1.Eviction', 'Eviction');
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw badRequest('Eviction: the body must be a JSON object');
  const ev = value as { metadata?: { name?: unknown; namespace?: unknown }; deleteOptions?: Record<string, unknown> };
  if (ev.metadata?.name !== undefined && ev.metadata.name !== ctx.info.name) {
    throw badRequest(`name in URL does not match name in Eviction object`);
  }
  const d = ev.deleteOptions ?? {};
  const opts: DeleteOptions = {};
  if (typeof d.gracePeriodSeconds === 'number') opts.gracePeriodSeconds = Math.max(0, Math.trunc(d.gracePeriodSeconds));
  if (typeof d.propagationPolicy === 'string') opts.propagationPolicy = d.propagationPolicy;
  const pre = d.preconditions as { uid?: unknown; resourceVersion?: unknown } | undefined;
  if (pre) opts.preconditions = { ...(typeof pre.uid === 'string' ? { uid: pre.uid } : {}), ...(typeof pre.resourceVersion === 'string' ? { resourceVersion: pre.resourceVersion } : {}) };
  if (Array.isArray(d.dryRun) && d.dryRun.length > 0) opts.dryRun = true;
  await ctx.deps.registry.delete(PODS, ctx.namespace, ctx.info.name, opts);
  sendValue(ctx.res, 201, ctx.format, { ...successStatus({}), code: 201 });
}

/** serviceaccounts/token: an authentication.k8s.io/v1 TokenRequest in, the same with status out. */
async function token(ctx: ResourceContext): Promise<void> {
  const value = parseRequestValue(await readBody(ctx.req), mediaType(ctx.req), 'k8ts.authentication.v1.TokenRequest', 'TokenRequest');
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw badRequest('TokenRequest: the body must be a JSON object');
  const spec = ((value as { spec?: Record<string, unknown> }).spec ?? {}) as { audiences?: unknown; expirationSeconds?: unknown; boundObjectRef?: Record<string, unknown> };
  if (spec.audiences !== undefined && (!Array.isArray(spec.audiences) || spec.audiences.some((a) => typeof a !== 'string'))) {
    throw badRequest('TokenRequest: spec.audiences must be a list of strings');
  }
  if (spec.expirationSeconds !== undefined && !Number.isInteger(spec.expirationSeconds)) throw badRequest('TokenRequest: spec.expirationSeconds must be an integer');
  const ref = spec.boundObjectRef;
  const res = await createServiceAccountToken(ctx.deps.registry, ctx.deps.security, {
    namespace: ctx.namespace,
    name: ctx.info.name,
    audiences: (spec.audiences as string[] | undefined) ?? [],
    ...(spec.expirationSeconds !== undefined ? { expirationSeconds: spec.expirationSeconds as number } : {}),
    ...(ref ? { boundObjectRef: fromK8sJson('k8ts.core.v1.ObjectReference', ref, { unknownFields: 'ignore' }) } : {}),
  } as Parameters<typeof createServiceAccountToken>[2]);
  sendValue(ctx.res, 201, ctx.format, {
    kind: 'TokenRequest',
    apiVersion: 'authentication.k8s.io/v1',
    metadata: { name: ctx.info.name, namespace: ctx.namespace, creationTimestamp: null },
    spec: { audiences: spec.audiences ?? [], expirationSeconds: spec.expirationSeconds ?? null, boundObjectRef: ref ?? null },
    status: { token: res.token, expirationTimestamp: res.expirationTimestamp || null },
  });
}

/** pods/log: the container's log as text, streamed while ?follow=true. */
async function logs(ctx: ResourceContext): Promise<void> {
  const q = ctx.query;
  const bool = (n: string) => {
    const v = q.get(n);
    return v === 'true' || v === '1';
  };
  const tailLines = intParam(ctx, 'tailLines');
  const sinceSeconds = intParam(ctx, 'sinceSeconds', 1);
  const upstream = await openPodLogs(ctx.deps.registry, ctx.deps.kubelet, {
    namespace: ctx.namespace,
    name: ctx.info.name,
    container: q.get('container') ?? '',
    follow: bool('follow'),
    previous: bool('previous'),
    timestamps: bool('timestamps'),
    ...(tailLines !== undefined ? { tailLines } : {}),
    ...(sinceSeconds !== undefined ? { sinceSeconds } : {}),
  } as Parameters<typeof openPodLogs>[2]);
  const limitBytes = intParam(ctx, 'limitBytes', 1);
  let sent = 0;
  const res = ctx.res as import('http').ServerResponse;
  res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'no-cache, private' });
  await new Promise<void>((resolve) => {
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      res.end();
      resolve();
    };
    upstream.on('data', (chunk: { data?: Uint8Array }) => {
      let data = Buffer.from(chunk.data ?? new Uint8Array());
      if (limitBytes !== undefined) {
        data = data.subarray(0, Math.max(0, limitBytes - sent));
        sent += data.length;
      }
      if (data.length > 0 && !res.write(data)) {
        upstream.pause();
        res.once('drain', () => upstream.resume());
      }
      if (limitBytes !== undefined && sent >= limitBytes) {
        upstream.cancel();
        finish();
      }
    });
    upstream.on('end', finish);
    upstream.on('error', finish);
    res.on('close', () => {
      upstream.cancel();
      finish();
    });
  });
}

