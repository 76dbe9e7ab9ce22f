// metadata.managedFields in and out (k8s.io/apimachinery's managedfields): entries decoded
// into one field set per manager, and encoded back in Kubernetes' order.
//
// A manager is identified by its name, operation and subresource, plus the API version for
// Update entries: an applier keeps one entry however it changes versions, an updater gets one
// per version it wrote with. The identifier is that entry's JSON with the fields Kubernetes
// leaves out of it (time, fieldsType, fieldsV1; apiVersion for Apply) removed.
//
// Entries come out sorted: Apply before Update, then by time (whole seconds, none first), by
// manager, apiVersion and subresource. At most ten Update managers are kept: the oldest are
// merged, per API version, into one "ancient-changes" entry.
import { FieldSet, FieldsV1Error } from './fieldset';
import { type JsonObject, compareStrings, isJsonObject } from './json';
import type { ManagerSets } from './updater';

/** A managedFields entry in its JSON form. */
export interface ManagedFieldsEntry {
  manager?: string;
  operation?: string;
  apiVersion?: string;
  time?: string;
  fieldsType?: string;
  fieldsV1?: JsonObject;
  subresource?: string;
}

/** The identity of a manager (an entry without its fields and time). */
export interface ManagerInfo {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  subresource: string;
}

/** Each manager's set and the time of its last change. */
export interface Managed {
  sets: ManagerSets;
  times: Map<string, string | undefined>;
}

/** A managedFields list that cannot be read: the entry's field path and the reason. */
export class ManagedFieldsError extends Error {
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${field}: ${reason}`);
    this.name = 'ManagedFieldsError';
  }
}

/** Kubernetes' bucket for the oldest Update managers beyond the cap. */
export const ANCIENT_CHANGES_MANAGER = 'ancient-changes';
/** Kubernetes keeps at most this many Update managers. */
export const MAX_UPDATE_MANAGERS = 10;

/** The object without metadata.managedFields (a shallow copy; the object is not changed). */
export function withoutManagedFields(obj: JsonObject): JsonObject {
  if (!isJsonObject(obj.metadata) || !('managedFields' in obj.metadata)) return obj;
  const { managedFields: _, ...metadata } = obj.metadata;
  return { ...obj, metadata };
}

export function emptyManaged(): Managed {
  return { sets: new Map(), times: new Map() };
}

export function copyManaged(m: Managed): Managed {
  return { sets: new Map(m.sets), times: new Map(m.times) };
}

/** The identifier of a manager: the JSON Kubernetes builds (BuildManagerIdentifier). */
export function managerIdentifier(info: ManagerInfo): string {
  const out: Record<string, string> = {};
  if (info.manager) out.manager = info.manager;
  out.operation = info.operation;
  if (info.operation === 'Update' && info.apiVersion) out.apiVersion = info.apiVersion;
  if (info.subresource) out.subresource = info.subresource;
  return JSON.stringify(out);
}

/** The manager an identifier names (apiVersion '' for appliers). */
export function parseManagerIdentifier(id: string): ManagerInfo {
  const v = JSON.parse(id) as Partial<ManagerInfo>;
  return { manager: v.manager ?? '', operation: v.operation === 'Apply' ? 'Apply' : 'Update', apiVersion: v.apiVersion ?? '', subresource: v.subresource ?? '' };
}

/** Kubernetes' way to clear managedFields: an empty list, or a list of one empty entry. */
export function isResetManagedFields(entries: unknown): boolean {
  if (!Array.isArray(entries)) return false;
  if (entries.length === 0) return true;
  if (entries.length !== 1 || !isJsonObject(entries[0])) return false;
  return Object.values(entries[0]).every((v) => v === undefined || v === null || v === '');
}

function text(entry: Record<string, unknown>, key: string, where: string): string {
  const v = entry[key];
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw new ManagedFieldsError(`${where}.${key}`, `expected string, got ${typeof v}`);
  return v;
}

function decodeEntry(raw: unknown, where: string): { info: ManagerInfo; set: FieldSet; time?: string } {
  if (!isJsonObject(raw)) throw new ManagedFieldsError(where, 'expected an object');
  const operation = text(raw, 'operation', where);
  if (operation !== 'Apply' && operation !== 'Update') throw new ManagedFieldsError(`${where}.operation`, 'operation must be `Apply` or `Update`');
  const apiVersion = text(raw, 'apiVersion', where);
  if (!apiVersion) throw new ManagedFieldsError(`${where}.apiVersion`, 'apiVersion must not be empty');
  const fieldsType = text(raw, 'fieldsType', where);
  if (fieldsType !== 'FieldsV1') {
    throw new ManagedFieldsError(`${where}.fieldsType`, fieldsType ? `invalid fieldsType ${JSON.stringify(fieldsType)}` : 'missing fieldsType');
  }
  let set: FieldSet;
  try {
    set = raw.fieldsV1 === undefined || raw.fieldsV1 === null ? new FieldSet() : FieldSet.fromFieldsV1(raw.fieldsV1, `${where}.fieldsV1`);
  } catch (err) {
    if (err instanceof FieldsV1Error) throw new ManagedFieldsError(err.path, err.reason);
    throw err;
  }
  const time = text(raw, 'time', where) || undefined;
  if (time !== undefined && Number.isNaN(Date.parse(time))) throw new ManagedFieldsError(`${where}.time`, `invalid time ${JSON.stringify(time)}`);
  const info: ManagerInfo = { manager: text(raw, 'manager', where), operation, apiVersion, subresource: text(raw, 'subresource', where) };
  return { info, set, time };
}

/** Reads a managedFields list; throws ManagedFieldsError naming the bad entry's field. */
export function decodeManagedFields(entries: unknown, where = 'metadata.managedFields'): Managed {
  const out = emptyManaged();
  if (entries === undefined || entries === null) return out;
  if (!Array.isArray(entries)) throw new ManagedFieldsError(where, 'expected a list');
  entries.forEach((raw, i) => {
    const { info, set, time } = decodeEntry(raw, `${where}[${i}]`);
    const id = managerIdentifier(info);
    out.sets.set(id, { set, apiVersion: info.apiVersion, applied: info.operation === 'Apply' });
    out.times.set(id, time);
  });
  return out;
}

function seconds(time: string | undefined): number {
  return time ? Math.floor(Date.parse(time) / 1000) : 0;
}

function compareEntries(a: ManagedFieldsEntry, b: ManagedFieldsEntry): number {
  if (a.operation !== b.operation) return compareStrings(a.operation ?? '', b.operation ?? '');
  const byTime = seconds(a.time) - seconds(b.time);
  if (byTime !== 0) return byTime;
  for (const key of ['manager', 'apiVersion', 'subresource'] as const) {
    const c = compareStrings(a[key] ?? '', b[key] ?? '');
    if (c !== 0) return c;
  }
  return 0;
}

/** The managedFields list of the managers' sets, in Kubernetes' order. */
export function encodeManagedFields(m: Managed): ManagedFieldsEntry[] {
  const out: ManagedFieldsEntry[] = [];
  for (const [id, vs] of m.sets) {
    const info = parseManagerIdentifier(id);
    const entry: ManagedFieldsEntry = { manager: info.manager, operation: vs.applied ? 'Apply' : 'Update', apiVersion: vs.apiVersion };
    const time = m.times.get(id);
    if (time) entry.time = time;
    entry.fieldsType = 'FieldsV1';
    entry.fieldsV1 = vs.set.toFieldsV1();
    if (info.subresource) entry.subresource = info.subresource;
    out.push(entry);
  }
  return out.sort(compareEntries);
}

/** Entries as JSON values (the fields they leave out are absent, not undefined). */
export function entriesToJson(entries: readonly ManagedFieldsEntry[]): JsonObject[] {
  return entries.map((e) => {
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(e)) if (v !== undefined) out[k] = v as string | JsonObject;
    return out;
  });
}

const ENTRY_TEXT_FIELDS = ['manager', 'operation', 'apiVersion', 'time', 'fieldsType', 'subresource'] as const;

/** The entries of a managedFields JSON value (what is not an entry's field is left out). */
export function entriesFromJson(list: unknown): ManagedFieldsEntry[] {
  if (!Array.isArray(list)) return [];
  return list.filter(isJsonObject).map((e) => {
    const out: ManagedFieldsEntry = {};
    for (const k of ENTRY_TEXT_FIELDS) if (typeof e[k] === 'string') out[k] = e[k];
    if (isJsonObject(e.fieldsV1)) out.fieldsV1 = e.fieldsV1;
    return out;
  });
}

/** Kubernetes' time format for managedFields: RFC 3339, whole seconds, UTC. */
export function formatTime(now: Date | string): string {
  const d = typeof now === 'string' ? new Date(now) : now;
  if (Number.isNaN(d.getTime())) throw new Error(`invalid time ${String(now)}`);
  return d.toISOString().replace(/\.\d+Z$/, 'Z');
}

/**
 * Caps the Update managers at `max`: the oldest (by time, then identifier) are merged, per
 * API version, into an "ancient-changes" entry that takes the time of the newest merged.
 */
export function capUpdateManagers(m: Managed, max = MAX_UPDATE_MANAGERS): Managed {
  const updaters = [...m.sets.entries()].filter(([, vs]) => !vs.applied).map(([id]) => id);
  if (updaters.length <= max) return m;
  updaters.sort((a, b) => seconds(m.times.get(a)) - seconds(m.times.get(b)) || compareStrings(a, b));
  const out = copyManaged(m);
  const firstOfVersion = new Map<string, string>();
  let count = updaters.length;
  for (let i = 0; i < updaters.length && count > max; i++) {
    const id = updaters[i];
    const vs = out.sets.get(id)!;
    const bucket = managerIdentifier({ manager: ANCIENT_CHANGES_MANAGER, operation: 'Update', apiVersion: vs.apiVersion, subresource: '' });
    const first = firstOfVersion.get(vs.apiVersion);
    if (first === undefined) {
      firstOfVersion.set(vs.apiVersion, id);
      continue;
    }
    if (id === bucket) continue; // never merge the bucket into itself (it would be deleted)
    if (!out.sets.has(bucket)) {
      out.sets.set(bucket, out.sets.get(first)!);
      out.sets.delete(first);
      out.times.delete(first);
    }
    const merged = vs.set.union(out.sets.get(bucket)!.set);
    out.sets.set(bucket, { set: merged, apiVersion: vs.apiVersion, applied: false });
    out.sets.delete(id);
    out.times.set(bucket, out.times.get(id));
    out.times.delete(id);
    count--;
  }
  return out;
}
