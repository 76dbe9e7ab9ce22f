// managedFields after a write that is not an apply (create, update, patch, a subresource
// write), as Kubernetes' field manager computes them: the writer's Update entry (one per
// manager, API version and subresource) gains the fields the write modified or added, every
// other manager loses them, removed fields leave every set, and empty entries are dropped.
//
// What the client sent in metadata.managedFields decides where ownership starts from:
//   - nothing: the stored object's managedFields (clients that do not know the field cannot
//     erase it);
//   - an empty list, or a list of one empty entry: a reset — the object stops being tracked
//     (the result is empty, and later updates leave it so until the next apply);
//   - a valid list: that list (this is how kubectl moves client-side-applied fields to its
//     apply entry); an invalid one is ignored like nothing;
//   - on a subresource, always the stored object's.
// An object that exists and has no managedFields is not tracked by updates. Nothing here
// throws: when the managedFields cannot be computed the stored ones are kept, as Kubernetes
// does.
import { Pipeline } from './fieldmanager';
import { type JsonObject, type JsonValue, cloneJson, isJsonObject, jsonEqual } from './json';
import {
  type Managed,
  type ManagedFieldsEntry,
  decodeManagedFields,
  emptyManaged,
  encodeManagedFields,
  entriesFromJson,
  entriesToJson,
  formatTime,
  isResetManagedFields,
  withoutManagedFields,
} from './managed';
import type { SchemaSource } from './types';

export interface UpdateOptions {
  /** The field manager: ?fieldManager=, else the User-Agent's product (see fieldManagerFor). */
  manager: string;
  operation?: 'Update';
  /** The subresource written ("status", "scale"); '' or absent for the object itself. */
  subresource?: string;
  /** The apiVersion objects of the kind are served at ("apps/v1"). */
  apiVersion: string;
  /** When the write happens: stamps the writer's entry when it takes fields. */
  now: Date | string;
  /** Dotted paths this write never owns (Kubernetes' reset fields: "status" on the main resource). */
  resetFields?: readonly string[];
  schema?: SchemaSource;
}

function managedFieldsOf(obj: JsonObject | undefined): JsonValue | undefined {
  const meta = obj && isJsonObject(obj.metadata) ? obj.metadata : undefined;
  return meta?.managedFields;
}

function decodeOrEmpty(entries: unknown): Managed {
  try {
    return decodeManagedFields(entries);
  } catch {
    return emptyManaged();
  }
}

/** Where ownership starts from (Kubernetes' decodeLiveOrNew). */
function startingPoint(oldObj: JsonObject | undefined, newObj: JsonObject, subresource: string): Managed {
  const live = managedFieldsOf(oldObj);
  if (subresource) return decodeOrEmpty(live);
  const sent = managedFieldsOf(newObj);
  if (isResetManagedFields(sent)) return emptyManaged();
  try {
    const managed = decodeManagedFields(sent);
    if (managed.sets.size > 0) return managed;
  } catch {
    // an invalid list counts as none
  }
  return decodeOrEmpty(live);
}

/**
 * The managedFields of newObj after a write from oldObj (undefined for a create) by
 * opts.manager. Both objects are Kubernetes JSON; newObj's own managedFields are what the
 * client sent.
 */
export function updateManagedFields(typeName: string, oldObj: JsonObject | undefined, newObj: JsonObject, opts: UpdateOptions): ManagedFieldsEntry[] {
  const stored = managedFieldsOf(oldObj);
  try {
    const subresource = opts.subresource ?? '';
    const p = new Pipeline(typeName, { apiVersion: opts.apiVersion, subresource, resetFields: opts.resetFields, now: formatTime(opts.now), schema: opts.schema });
    const start = startingPoint(oldObj, newObj, subresource);
    const live = oldObj ? withoutManagedFields(oldObj) : p.zeroObject();
    const managed = p.update(live, withoutManagedFields(newObj), start, opts.manager, oldObj !== undefined);
    return encodeManagedFields(managed);
  } catch {
    return entriesFromJson(cloneJson(stored));
  }
}

function withoutTimes(entries: readonly ManagedFieldsEntry[]): JsonObject[] {
  return entriesToJson(entries.map(({ time: _, ...rest }) => rest));
}

/**
 * Kubernetes' guard against writes that change nothing but managedFields timestamps: when
 * newObj equals oldObj apart from managedFields, and its managedFields differ only in their
 * times, the old managedFields are kept, so the write is a no-op. Returns the managedFields to
 * store.
 */
export function keepTimestampsOfNoop(oldObj: JsonObject | undefined, newObj: JsonObject): ManagedFieldsEntry[] {
  const next = entriesFromJson(managedFieldsOf(newObj));
  if (!oldObj) return next;
  const before = entriesFromJson(managedFieldsOf(oldObj));
  if (!jsonEqual(withoutTimes(before), withoutTimes(next))) return next;
  if (!jsonEqual(withoutManagedFields(oldObj), withoutManagedFields(newObj))) return next;
  return before;
}
