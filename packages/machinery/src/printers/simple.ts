// The columns of the kinds with a count or one field besides NAME and AGE, as Kubernetes'
// printers compute them: Namespace (STATUS), ServiceAccount (SECRETS), Secret (TYPE, DATA),
// ConfigMap (DATA), Lease (HOLDER). Counts are integers in string-typed columns, as there.
import type { ColumnDefinition, PrinterColumns } from './columns';
import { AGE_COLUMN, NAME_COLUMN, column, nameOf } from './columns';
import { timestampAge } from './duration';
import type { JsonObject } from './json';
import { field, objectAt, objectsAt, stringAt } from './json';

function age(obj: JsonObject, now: number): string {
  return timestampAge(field(obj, 'metadata', 'creationTimestamp'), now);
}

function keyCount(...maps: JsonObject[]): number {
  return new Set(maps.flatMap((m) => Object.keys(m))).size;
}

const NAMESPACE_COLUMNS: ColumnDefinition[] = [NAME_COLUMN, column('Status', 'string', 'The status of the namespace'), AGE_COLUMN];

export const namespaceColumns: PrinterColumns = {
  columns: NAMESPACE_COLUMNS,
  // The API server sets the phase (Active) on create; an object without one shows the same.
  cells: (ns, now) => [nameOf(ns), stringAt(ns, 'status', 'phase') || 'Active', age(ns, now)],
};

const SERVICE_ACCOUNT_COLUMNS: ColumnDefinition[] = [
  NAME_COLUMN,
  column('Secrets', 'string', 'The number of secrets listed for the service account (secrets).'),
  AGE_COLUMN,
];

export const serviceAccountColumns: PrinterColumns = {
  columns: SERVICE_ACCOUNT_COLUMNS,
  cells: (sa, now) => [nameOf(sa), objectsAt(sa, 'secrets').length, age(sa, now)],
};

const SECRET_COLUMNS: ColumnDefinition[] = [
  NAME_COLUMN,
  column('Type', 'string', "The secret's type, which says what its data holds (Opaque by default)."),
  column('Data', 'string', 'The number of keys in the secret (data).'),
  AGE_COLUMN,
];

export const secretColumns: PrinterColumns = {
  columns: SECRET_COLUMNS,
  // stringData is merged into data when a secret is written (and by the v1 conversion).
  cells: (s, now) => [nameOf(s), stringAt(s, 'type') || 'Opaque', keyCount(objectAt(s, 'data'), objectAt(s, 'stringData')), age(s, now)],
};

const CONFIG_MAP_COLUMNS: ColumnDefinition[] = [
  NAME_COLUMN,
  column('Data', 'string', 'The number of keys in the config map (data and binaryData).'),
  AGE_COLUMN,
];

export const configMapColumns: PrinterColumns = {
  columns: CONFIG_MAP_COLUMNS,
  cells: (cm, now) => [nameOf(cm), Object.keys(objectAt(cm, 'data')).length + Object.keys(objectAt(cm, 'binaryData')).length, age(cm, now)],
};

const LEASE_COLUMNS: ColumnDefinition[] = [
  NAME_COLUMN,
  column('Holder', 'string', 'The identity of the current holder of the lease (spec.holderIdentity).'),
  AGE_COLUMN,
];

export const leaseColumns: PrinterColumns = {
  columns: LEASE_COLUMNS,
  cells: (lease, now) => [nameOf(lease), stringAt(lease, 'spec', 'holderIdentity'), age(lease, now)],
};
