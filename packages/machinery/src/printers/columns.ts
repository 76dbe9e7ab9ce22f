// The shape of a kind's printer columns (what Kubernetes registers with TableHandler in
// pkg/printers/internalversion/printers.go) and the columns many kinds share: NAME first with
// format "name" (kubectl prefixes it with the kind), AGE, and the wide CONTAINERS, IMAGES,
// SELECTOR of the workload kinds. Column names are written as Kubernetes writes them
// ("Up-to-date", "Port(s)"); kubectl upper-cases them for the header.
import type { JsonObject } from './json';
import { objectsAt, stringAt } from './json';

/** The value type of a column, as OpenAPI names them. */
export type ColumnType = 'string' | 'integer' | 'number' | 'boolean' | 'date';

/** A meta.k8s.io/v1 TableColumnDefinition. */
export interface ColumnDefinition {
  name: string;
  type: ColumnType;
  /** "name" for the column holding the object's name; otherwise "". */
  format: string;
  description: string;
  /** 0: always shown; 1 and more: shown by kubectl with -o wide only. */
  priority: number;
}

/** A meta.k8s.io/v1 TableRowCondition (Kubernetes marks pods that finished as Completed). */
export interface TableRowCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

/** A kind's columns and how one object's cells are computed. */
export interface PrinterColumns {
  columns: ColumnDefinition[];
  /**
   * One cell per column, wide ones included (the API server always prints wide and kubectl
   * hides the columns of priority above 0). Strings, numbers or booleans, as in Kubernetes.
   */
  cells(obj: JsonObject, now: number): unknown[];
  /** The row's conditions, for kinds that set them. */
  conditions?(obj: JsonObject): TableRowCondition[];
}

/** A column definition; priority 0 and no format unless given. */
export function column(name: string, type: ColumnType, description: string, extra: { priority?: number; format?: string } = {}): ColumnDefinition {
  return { name, type, format: extra.format ?? '', description, priority: extra.priority ?? 0 };
}

/** A column shown with -o wide only. */
export function wide(name: string, type: ColumnType, description: string): ColumnDefinition {
  return column(name, type, description, { priority: 1 });
}

export const NAME_DESCRIPTION =
  "The object's name: unique among objects of its kind in its namespace (or in the cluster, for cluster-scoped kinds), set when it is created and never changed.";
export const CREATION_DESCRIPTION =
  'When the object was created, by the API server\'s clock (RFC 3339, UTC); set by the system, read-only.';

export const NAME_COLUMN: ColumnDefinition = column('Name', 'string', NAME_DESCRIPTION, { format: 'name' });
/** AGE: the server computes the time since creation as a string (translateTimestampSince). */
export const AGE_COLUMN: ColumnDefinition = column('Age', 'string', CREATION_DESCRIPTION);

/** The wide CONTAINERS and IMAGES columns of the kinds that carry a pod template. */
export const TEMPLATE_COLUMNS: ColumnDefinition[] = [
  wide('Containers', 'string', 'Names of each container in the template.'),
  wide('Images', 'string', 'Images referenced by each container in the template.'),
];

/** The object's metadata.name. */
export function nameOf(obj: JsonObject): string {
  return stringAt(obj, 'metadata', 'name');
}

/**
 * layoutContainerCells: the names and the images of a template's containers, each list joined
 * by commas (empty when there are none; Kubernetes prints no placeholder here).
 */
export function containerCells(template: unknown): [string, string] {
  const containers = objectsAt(template, 'spec', 'containers');
  return [containers.map((c) => stringAt(c, 'name')).join(','), containers.map((c) => stringAt(c, 'image')).join(',')];
}
