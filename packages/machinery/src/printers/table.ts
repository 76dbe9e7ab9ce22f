// A meta.k8s.io/v1 Table of objects, as the API server answers a request with
// `Accept: application/json;as=Table;v=v1;g=meta.k8s.io`. The server prints wide: every column
// definition (with its priority) and every cell, and the client hides the columns of priority
// above 0 unless asked for -o wide. Each row carries the object as ?includeObject= asks:
// None (no object), Metadata (the default: a PartialObjectMetadata holding the object's
// metadata) or Object (the whole object, with apiVersion and kind).
import type { KindInfo } from '@k8ts/api';
import type { ColumnDefinition, TableRowCondition } from './columns';
import type { JsonObject } from './json';
import { objectAt } from './json';
import { printerColumnsFor } from './registry';

/** The values of ?includeObject=. */
export type IncludeObject = 'None' | 'Metadata' | 'Object';

export const INCLUDE_OBJECT_VALUES: readonly IncludeObject[] = ['None', 'Metadata', 'Object'];

/** The list metadata a Table carries (that of the list it was printed from). */
export interface TableListMeta {
  resourceVersion?: string;
  continue?: string;
  remainingItemCount?: number;
}

export interface ToTableOptions {
  /** The time ages are computed against (epoch ms). */
  now: number;
  /** What each row carries of its object; Metadata by default. */
  includeObject?: IncludeObject;
  listMeta?: TableListMeta;
}

/**
 * Reads ?includeObject= as the API server validates it: absent or empty is Metadata, other
 * values than None, Metadata and Object are an error naming the parameter.
 */
export function parseIncludeObject(value: string | undefined): IncludeObject {
  if (value === undefined || value === '') return 'Metadata';
  const found = INCLUDE_OBJECT_VALUES.find((v) => v === value);
  if (found) return found;
  throw new Error(`includeObject: Invalid value: ${JSON.stringify(value)}: must be 'Metadata', 'Object', 'None', or empty`);
}

/** A PartialObjectMetadata (meta.k8s.io/v1) holding the object's metadata. */
export function partialObjectMetadata(obj: JsonObject): JsonObject {
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: objectAt(obj, 'metadata') };
}

/** The whole object, with the kind's apiVersion and kind first. */
function fullObject(kind: KindInfo, obj: JsonObject): JsonObject {
  const { apiVersion: _apiVersion, kind: _kind, ...rest } = obj;
  return { apiVersion: kind.apiVersion, kind: kind.kind, ...rest };
}

function rowObject(kind: KindInfo, obj: JsonObject, include: IncludeObject): JsonObject | undefined {
  if (include === 'None') return undefined;
  return include === 'Object' ? fullObject(kind, obj) : partialObjectMetadata(obj);
}

/** ListMeta in its JSON form: the fields that are set. */
function listMetaJson(meta: TableListMeta | undefined): TableListMeta {
  const out: TableListMeta = {};
  if (meta?.resourceVersion) out.resourceVersion = meta.resourceVersion;
  if (meta?.continue) out.continue = meta.continue;
  if (meta?.remainingItemCount !== undefined) out.remainingItemCount = meta.remainingItemCount;
  return out;
}

/** A meta.k8s.io/v1 TableRow. */
export type TableRow = {
  cells: unknown[];
  conditions?: TableRowCondition[];
  /** A PartialObjectMetadata or the whole object, unless includeObject is None. */
  object?: JsonObject;
};

/** A meta.k8s.io/v1 Table in its Kubernetes JSON form. */
export type Table = {
  kind: 'Table';
  apiVersion: 'meta.k8s.io/v1';
  metadata: TableListMeta;
  columnDefinitions: ColumnDefinition[];
  rows: TableRow[];
};

/** One TableRow: the cells, the row's conditions when it has any, and the object as asked. */
function tableRow(kind: KindInfo, obj: JsonObject, opts: ToTableOptions): TableRow {
  const printer = printerColumnsFor(kind);
  const row: TableRow = { cells: printer.cells(obj, opts.now) };
  const conditions = printer.conditions?.(obj) ?? [];
  if (conditions.length > 0) row.conditions = conditions;
  const object = rowObject(kind, obj, opts.includeObject ?? 'Metadata');
  if (object !== undefined) row.object = object;
  return row;
}

/**
 * A meta.k8s.io/v1 Table (Kubernetes JSON) of objects of one kind, given in their Kubernetes
 * JSON form. For a single object (a get), pass its resourceVersion as listMeta.resourceVersion.
 */
export function toTable(kind: KindInfo, objects: Record<string, unknown>[], opts: ToTableOptions): Table {
  const columnDefinitions: ColumnDefinition[] = printerColumnsFor(kind).columns.map((c) => ({ ...c }));
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: listMetaJson(opts.listMeta),
    columnDefinitions,
    rows: objects.map((o) => tableRow(kind, o, opts)),
  };
}
