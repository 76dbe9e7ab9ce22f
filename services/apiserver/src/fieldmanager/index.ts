// The apiserver's field manager: metadata.managedFields on every write, and server-side apply
// (PATCH Content-Type: application/apply-patch+yaml), over @k8ts/machinery's pure rules and the
// registry's object form (the generated ts-proto shape; the rules work on Kubernetes JSON).
//
// Who calls what (Kubernetes runs its field manager at the same points):
//   - trackUpdate(kind, old, next, ...) for every write that is not an apply and goes
//     through the field manager: create (old undefined), update and patch of the object, the
//     status subresource, the scale subresource (on the parent object, subresource "scale").
//     Call it on the request's object after the strategy's defaults and before
//     prepareForCreate/prepareForUpdate and admission: what those change afterwards is nobody's,
//     as in Kubernetes. The old object must be the one the write is checked against (the fresh
//     read inside guaranteedUpdate). Deletions and pods/binding are not tracked, as in
//     Kubernetes.
//   - applyPatch(kind, live, config, ...) for an apply: returns the object to create (live
//     absent: apply to a missing object creates it) or to update, already carrying its
//     managedFields; the registry must store it without calling trackUpdate again.
import * as grpc from '@grpc/grpc-js';
import { DecodeError, type KindInfo, fromK8sJson, toK8sJson } from '@k8ts/api';
import {
  ApplyConfigError,
  ApplyConflictError,
  ApplyRequestError,
  type ManagedFieldsEntry,
  ManagedFieldsError,
  apply,
  fieldManagerFor,
  keepTimestampsOfNoop,
  messageSchema,
  updateManagedFields,
  validateFieldManager,
} from '@k8ts/machinery';
import { ApiError, type FieldError, badRequest, conflict, internal, invalid } from '../errors';
import { strategyFor } from '../strategies';
import type { ApiObject } from '../strategies/types';
import { semanticEqual } from '../util';

type Json = Record<string, any>;

/** Who writes, and where. */
export interface WriteContext {
  /** The request's ?fieldManager= ('' or absent: the User-Agent's product names the manager). */
  fieldManager?: string;
  /** The request's User-Agent ("kubectl/v1.32.0 (linux/amd64) kubernetes/..."). */
  userAgent?: string;
  /** The subresource written: '' (the object), 'status' or 'scale'. */
  subresource?: '' | 'status' | 'scale';
  /** When the write happens (default: now). */
  now?: Date;
}

export interface TrackOptions extends WriteContext {
  /**
   * metadata.managedFields exactly as the request's JSON had it, when the HTTP API has the
   * JSON: [] resets tracking, absent keeps the stored list. Without it, what `next` carries is
   * used, and an empty list counts as absent (a gRPC request cannot tell them apart).
   */
  requestManagedFields?: unknown;
}

export interface ApplyPatchOptions extends WriteContext {
  /** ?force=true: take conflicting fields instead of failing. */
  force?: boolean;
  /** The object's name and namespace on the URL. */
  name: string;
  namespace: string;
}

export interface ApplyPatchResult {
  /** The object to store, managedFields set: create it when `created`, else update it. */
  object: ApiObject;
  created: boolean;
  /** False when the stored object already is the result: nothing needs writing. */
  changed: boolean;
}

/** An object in its Kubernetes JSON form, apiVersion and kind set. */
function toJson(kind: KindInfo, obj: ApiObject): Json {
  const json = toK8sJson(kind.typeName, obj) as Json;
  json.apiVersion = kind.apiVersion;
  json.kind = kind.kind;
  return json;
}

function toEntries(entries: readonly ManagedFieldsEntry[]): NonNullable<ApiObject['metadata']>['managedFields'] {
  return entries.map((e) => fromK8sJson('k8ts.meta.v1.ManagedFieldsEntry', e));
}

/** The fields a write never owns (Kubernetes' reset fields): status on the main resource, the rest on status. */
export function resetFieldsFor(kind: KindInfo, subresource: WriteContext['subresource']): string[] {
  const strategy = strategyFor(kind.resource);
  if (!subresource) return strategy.hasStatus ? ['status'] : [];
  if (subresource === 'status') {
    return messageSchema(kind.typeName)
      .fields.map((f) => f.name)
      .filter((f) => f !== 'status' && f !== 'apiVersion' && f !== 'kind');
  }
  return [];
}

function managerOf(ctx: WriteContext): string {
  return fieldManagerFor(ctx.fieldManager, ctx.userAgent);
}

/**
 * Sets next.metadata.managedFields after a write that is not an apply (create: old undefined).
 * Never fails: when they cannot be computed the stored ones are kept, as in Kubernetes.
 */
export function trackUpdate(kind: KindInfo, old: ApiObject | undefined, next: ApiObject, opts: TrackOptions = {}): void {
  const oldJson = old ? toJson(kind, old) : undefined;
  const nextJson = toJson(kind, next);
  nextJson.metadata ??= {};
  if (opts.requestManagedFields !== undefined) nextJson.metadata.managedFields = opts.requestManagedFields;
  nextJson.metadata.managedFields = updateManagedFields(kind.typeName, oldJson, nextJson, {
    manager: managerOf(opts),
    subresource: opts.subresource ?? '',
    apiVersion: kind.apiVersion,
    now: opts.now ?? new Date(),
    resetFields: resetFieldsFor(kind, opts.subresource),
  });
  const meta = (next.metadata ??= {} as NonNullable<ApiObject['metadata']>);
  meta.managedFields = toEntries(keepTimestampsOfNoop(oldJson, nextJson));
}

/** The checks Kubernetes makes of the object's identity against the URL (checkName). */
function checkIdentity(kind: KindInfo, config: unknown, opts: ApplyPatchOptions, live: ApiObject | undefined): void {
  const meta = (config as Json | null)?.metadata;
  const name = typeof meta?.name === 'string' ? meta.name : '';
  const namespace = typeof meta?.namespace === 'string' ? meta.namespace : '';
  if (name !== opts.name) throw badRequest(`the name of the object (${name}) does not match the name on the URL (${opts.name})`);
  if (opts.namespace && namespace && namespace !== opts.namespace) {
    throw badRequest(`the namespace of the object (${namespace}) does not match the namespace on the URL (${opts.namespace})`);
  }
  if (!live && typeof meta?.uid === 'string' && meta.uid) {
    throw conflict(kind.resource, kind.group, opts.name, `uid mismatch: the provided object specified uid ${meta.uid}, and no existing object was found`);
  }
}

/** Maps the apply rules' errors to the API errors Kubernetes answers with. */
function applyFailure(kind: KindInfo, err: unknown): unknown {
  if (err instanceof ApplyConflictError) {
    const causes: FieldError[] = err.conflicts.map((c) => ({ field: c.field, type: 'FieldManagerConflict', message: c.message }));
    return new ApiError(grpc.status.ABORTED, 'Conflict', 409, err.message, { causes });
  }
  if (err instanceof ApplyRequestError) return badRequest(err.message);
  // Kubernetes answers these with a plain 500 (reason Unknown) and the message as is.
  if (err instanceof ApplyConfigError) return new ApiError(grpc.status.INTERNAL, '', 500, err.message);
  if (err instanceof ManagedFieldsError) return internal(err.message, err);
  if (err instanceof DecodeError) return badRequest(`${kind.kind} in version "${kind.version}" cannot be handled as a ${kind.kind}: ${err.message}`);
  return err;
}

/** The merged object in the registry's form, placed at the URL's name and namespace and defaulted. */
function toObject(kind: KindInfo, json: Json, opts: ApplyPatchOptions): ApiObject {
  const obj = fromK8sJson<ApiObject>(kind.typeName, json);
  obj.apiVersion = kind.apiVersion;
  obj.kind = kind.kind;
  const meta = (obj.metadata ??= {} as NonNullable<ApiObject['metadata']>);
  meta.name = opts.name;
  if (kind.namespaced) meta.namespace ||= opts.namespace;
  strategyFor(kind.resource).defaults?.(obj);
  return obj;
}

/**
 * Server-side apply of a configuration (the parsed YAML or JSON body) to the stored object,
 * or to nothing: then the result is a create. Throws the API error Kubernetes would answer
 * with: 409 Conflict listing the conflicts, 400 for the wrong kind or version or a
 * configuration with managedFields, 500 for fields the schema does not know.
 */
export function applyPatch(kind: KindInfo, live: ApiObject | undefined, config: unknown, opts: ApplyPatchOptions): ApplyPatchResult {
  if (opts.subresource === 'scale') throw badRequest('server-side apply is not supported on the scale subresource');
  checkIdentity(kind, config, opts, live);
  const liveJson = live ? toJson(kind, live) : undefined;
  let object: ApiObject;
  try {
    const result = apply(kind.typeName, liveJson, config, {
      manager: opts.fieldManager ?? '',
      force: opts.force,
      apiVersion: kind.apiVersion,
      now: opts.now ?? new Date(),
      subresource: opts.subresource ?? '',
      resetFields: resetFieldsFor(kind, opts.subresource),
    });
    object = toObject(kind, result.object, opts);
  } catch (err) {
    throw applyFailure(kind, err);
  }
  if (!liveJson) return { object, created: true, changed: true };
  const objectJson = toJson(kind, object);
  object.metadata!.managedFields = toEntries(keepTimestampsOfNoop(liveJson, objectJson));
  return { object, created: false, changed: !semanticEqual(object, live) };
}

/**
 * Kubernetes' checks of PatchOptions: an apply needs a fieldManager, force is only for
 * applies, and the manager must be printable and at most 128 bytes. Throws 422 Invalid
 * ("PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: ...").
 */
export function checkPatchOptions(isApply: boolean, fieldManager: string | undefined, force: boolean | undefined): void {
  const causes: FieldError[] = [];
  if (!isApply && force !== undefined) causes.push({ field: 'force', type: 'FieldValueForbidden', message: 'Forbidden: may not be specified for non-apply patch' });
  if (isApply && !fieldManager) causes.push({ field: 'fieldManager', type: 'FieldValueRequired', message: 'Required value: is required for apply patch' });
  causes.push(...managerCauses(fieldManager));
  if (causes.length > 0) throw invalid('PatchOptions.meta.k8s.io', '', '', causes);
}

/** Kubernetes' check of ?fieldManager= on a create or an update (CreateOptions / UpdateOptions). */
export function checkWriteOptions(options: 'CreateOptions' | 'UpdateOptions', fieldManager: string | undefined): void {
  const causes = managerCauses(fieldManager);
  if (causes.length > 0) throw invalid(`${options}.meta.k8s.io`, '', '', causes);
}

function managerCauses(fieldManager: string | undefined): FieldError[] {
  if (!fieldManager) return [];
  return validateFieldManager(fieldManager).map((problem) => ({
    field: 'fieldManager',
    type: problem.startsWith('may not') ? 'FieldValueTooLong' : 'FieldValueInvalid',
    message: problem.startsWith('may not') ? `Too long: ${problem}` : `Invalid value: ${JSON.stringify(fieldManager)}: ${problem}`,
  }));
}
