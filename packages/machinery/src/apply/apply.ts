// Server-side apply of a configuration to an object (what
// `PATCH Content-Type: application/apply-patch+yaml ?fieldManager=...&force=...` does in
// Kubernetes), as a pure function over Kubernetes JSON objects.
//
// The configuration must be an object of the kind at the kind's apiVersion, without
// metadata.managedFields, whose every field the schema declares. Applying to no object (live
// undefined) is a create: the configuration is applied to the kind's empty object. The result
// is the merged object — which the caller defaults, validates and stores like any update — and
// its new managedFields; when the object did not change, it is the live object with the new
// managedFields (ownership may still have moved). A conflict with fields other managers own
// fails the apply unless it is forced, in Kubernetes' words: `Apply failed with 1 conflict:
// conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas`.
import { forgivenByLastApplied, lastAppliedOf, lastAppliedText, setLastApplied } from './lastapplied';
import { type JsonObject, cloneJson, isJsonObject, jsonEqual } from './json';
import {
  type Managed,
  type ManagedFieldsEntry,
  ManagedFieldsError,
  decodeManagedFields,
  encodeManagedFields,
  entriesToJson,
  formatTime,
  parseManagerIdentifier,
  withoutManagedFields,
} from './managed';
import { LAST_APPLIED_MANAGER } from './managers';
import { Pipeline } from './fieldmanager';
import { pathToString } from './path';
import type { SchemaSource } from './types';
import { ConflictsError, type SetConflict } from './updater';
import { type ValueProblem, formatProblems, validateValue } from './validate';

export interface ApplyOptions {
  /** The field manager (?fieldManager=); required for an apply. */
  manager: string;
  /** Take ownership of conflicting fields instead of failing (?force=true). */
  force?: boolean;
  /** The apiVersion objects of the kind are served at ("apps/v1"). */
  apiVersion: string;
  /** When the apply happens: stamps the applier's entry when the object changes. */
  now: Date | string;
  /** The subresource applied to ("status"); '' or absent for the object itself. */
  subresource?: string;
  /** Dotted paths this apply never owns (Kubernetes' reset fields: "status" on the main resource). */
  resetFields?: readonly string[];
  /** The schema to read types from (tests); the API's by default. */
  schema?: SchemaSource;
}

export interface ApplyResult {
  /** The object to store, with metadata.managedFields set. */
  object: JsonObject;
  managedFields: ManagedFieldsEntry[];
  /** Whether anything besides managedFields changed. */
  changed: boolean;
}

/** One field a non-forced apply would take from another manager. */
export interface ApplyConflict {
  /** The manager owning the field ("kubectl-client-side-apply"). */
  manager: string;
  operation: 'Apply' | 'Update';
  /** For an Update manager, the version it wrote with. */
  apiVersion: string;
  subresource: string;
  /** The field, as Kubernetes prints it: ".spec.replicas". */
  field: string;
  /** The StatusCause message: `conflict with "kubectl-client-side-apply" using apps/v1`. */
  message: string;
}

/** The apply would change fields other managers own (HTTP 409, reason Conflict). */
export class ApplyConflictError extends Error {
  readonly conflicts: ApplyConflict[];
  constructor(conflicts: ApplyConflict[]) {
    super(conflictMessage(conflicts));
    this.name = 'ApplyConflictError';
    this.conflicts = conflicts;
  }
}

/** A request Kubernetes refuses with 400 BadRequest (wrong kind or version, managedFields sent). */
export class ApplyRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ApplyRequestError';
  }
}

/** The configuration does not fit the schema: every problem with its path. */
export class ApplyConfigError extends Error {
  constructor(
    readonly problems: ValueProblem[],
    context: string,
  ) {
    super(`failed to create typed patch object (${context}): ${formatProblems(problems)}`);
    this.name = 'ApplyConfigError';
  }
}

/** How Kubernetes names a manager in conflicts: "kubectl", "x" with subresource "status", "y" using apps/v1. */
function printManager(c: Pick<ApplyConflict, 'manager' | 'operation' | 'apiVersion' | 'subresource'>): string {
  let out = JSON.stringify(c.manager);
  if (c.subresource) out += ` with subresource ${JSON.stringify(c.subresource)}`;
  if (c.operation === 'Update') out += ` using ${c.apiVersion}`;
  return out;
}

function conflictMessage(conflicts: ApplyConflict[]): string {
  if (conflicts.length === 1) return `Apply failed with 1 conflict: conflict with ${printManager(conflicts[0])}: ${conflicts[0].field}`;
  const byManager = new Map<string, ApplyConflict[]>();
  for (const c of conflicts) {
    const key = printManager(c);
    byManager.set(key, [...(byManager.get(key) ?? []), c]);
  }
  const lines: string[] = [];
  for (const [manager, list] of byManager) lines.push(`conflicts with ${manager}:`, ...list.map((c) => `- ${c.field}`));
  return `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`;
}

function toApplyConflict(c: SetConflict): ApplyConflict {
  const info = parseManagerIdentifier(c.manager);
  const conflict = { manager: info.manager, operation: info.operation, apiVersion: info.apiVersion, subresource: info.subresource, field: pathToString(c.path) };
  return { ...conflict, message: `conflict with ${printManager(conflict)}` };
}

/** The short name of a kind from its type ("k8ts.apps.v1.Deployment" -> "Deployment"). */
function kindOf(typeName: string): string {
  return typeName.slice(typeName.lastIndexOf('.') + 1);
}

/** Go's GroupVersionKind.String(): "apps/v1, Kind=Deployment", "/v1, Kind=Pod". */
function gvkString(apiVersion: unknown, kind: unknown): string {
  const av = typeof apiVersion === 'string' ? apiVersion : '';
  return `${av.includes('/') ? av : `/${av}`}, Kind=${typeof kind === 'string' ? kind : ''}`;
}

function objectName(obj: JsonObject): string {
  const meta = isJsonObject(obj.metadata) ? obj.metadata : {};
  return `${typeof meta.namespace === 'string' ? meta.namespace : ''}/${typeof meta.name === 'string' ? meta.name : ''}`;
}

/** The checks Kubernetes makes of an apply request before merging anything. */
function checkConfig(p: Pipeline, typeName: string, config: unknown): JsonObject {
  if (!isJsonObject(config)) throw new ApplyRequestError('the apply configuration must be an object');
  if (config.apiVersion !== p.opts.apiVersion || config.kind !== kindOf(typeName)) {
    throw new ApplyRequestError(`invalid object type: ${gvkString(config.apiVersion, config.kind)}`);
  }
  const meta = config.metadata;
  if (isJsonObject(meta) && meta.managedFields !== undefined && meta.managedFields !== null) {
    throw new ApplyRequestError('metadata.managedFields must be nil');
  }
  const problems = validateValue(p.types, p.root, config, { allowDuplicates: false });
  if (problems.length > 0) throw new ApplyConfigError(problems, `${objectName(config)}; ${gvkString(config.apiVersion, config.kind)}`);
  return config;
}

/** Apply with the client-side-apply upgrade: conflicts the annotation forgives force the apply. */
function applyForgiving(p: Pipeline, live: JsonObject, config: JsonObject, managed: Managed, opts: ApplyOptions) {
  try {
    return p.apply(live, config, managed, opts.manager, !!opts.force);
  } catch (err) {
    if (!(err instanceof ConflictsError) || opts.manager !== LAST_APPLIED_MANAGER) throw err;
    const forgiven = forgivenByLastApplied(p.types, p.root, live, opts.apiVersion);
    const remaining = err.conflicts.filter((c) => !forgiven.has(c.path));
    if (remaining.length > 0) throw new ConflictsError(remaining);
    return p.apply(live, config, managed, opts.manager, true);
  }
}

/**
 * Applies a configuration (parsed YAML or JSON) to the live object, or to nothing for a
 * create. Throws ApplyConflictError, ApplyRequestError, ApplyConfigError, or
 * ManagedFieldsError when the live object's managedFields cannot be read.
 */
export function apply(typeName: string, live: JsonObject | undefined, config: unknown, opts: ApplyOptions): ApplyResult {
  const now = formatTime(opts.now);
  const p = new Pipeline(typeName, { apiVersion: opts.apiVersion, subresource: opts.subresource, resetFields: opts.resetFields, now, schema: opts.schema });
  const checked = checkConfig(p, typeName, config);
  const managed = decodeLiveManagedFields(live);
  const base = live ? withoutManagedFields(live) : p.zeroObject();
  let result: ReturnType<Pipeline['apply']>;
  try {
    result = applyForgiving(p, base, checked, managed, opts);
  } catch (err) {
    if (err instanceof ConflictsError) throw new ApplyConflictError(err.conflicts.map(toApplyConflict));
    throw err;
  }
  const object = result.object ?? cloneJson(base);
  if (opts.manager === LAST_APPLIED_MANAGER && lastAppliedOf(object)) setLastApplied(object, lastAppliedText(checked));
  const managedFields = encodeManagedFields(result.managed);
  const changed = !jsonEqual(object, base);
  const meta = (isJsonObject(object.metadata) ? object.metadata : (object.metadata = {})) as JsonObject;
  if (managedFields.length > 0) meta.managedFields = entriesToJson(managedFields);
  else delete meta.managedFields;
  return { object, managedFields, changed };
}

function decodeLiveManagedFields(live: JsonObject | undefined): Managed {
  const meta = live && isJsonObject(live.metadata) ? live.metadata : undefined;
  try {
    return decodeManagedFields(meta?.managedFields);
  } catch (err) {
    if (err instanceof ManagedFieldsError) throw new ManagedFieldsError(err.field, `failed to decode managed fields: ${err.reason}`);
    throw err;
  }
}
