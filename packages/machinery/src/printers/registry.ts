// Which printer columns serve each kind: the ones Kubernetes registers in
// pkg/printers/internalversion/printers.go, and for the kinds it has none for (Role,
// ClusterRole) the API server's default table convertor: NAME and CREATED AT, a "date" column
// holding the creation timestamp in RFC 3339 (UTC), which kubectl prints as it is.
import type { KindInfo } from '@k8ts/api';
import type { PrinterColumns } from './columns';
import { CREATION_DESCRIPTION, NAME_COLUMN, column, nameOf } from './columns';
import { formatTimestampUTC } from './duration';
import { field } from './json';
import { eventColumns } from './event';
import { nodeColumns } from './node';
import { podColumns } from './pod';
import { clusterRoleBindingColumns, roleBindingColumns } from './rbac';
import { endpointsColumns, serviceColumns } from './service';
import { configMapColumns, leaseColumns, namespaceColumns, secretColumns, serviceAccountColumns } from './simple';
import { deploymentColumns, jobColumns, replicaSetColumns } from './workloads';

/** rest.DefaultTableConvertor: NAME and CREATED AT. */
export const defaultColumns: PrinterColumns = {
  columns: [NAME_COLUMN, column('Created At', 'date', CREATION_DESCRIPTION)],
  cells: (obj) => [nameOf(obj), formatTimestampUTC(field(obj, 'metadata', 'creationTimestamp'))],
};

/** Printers by "Kind.group" ("Kind" for the core group). */
const PRINTERS: Record<string, PrinterColumns> = {
  Namespace: namespaceColumns,
  Node: nodeColumns,
  Pod: podColumns,
  Service: serviceColumns,
  Endpoints: endpointsColumns,
  ServiceAccount: serviceAccountColumns,
  Secret: secretColumns,
  ConfigMap: configMapColumns,
  Event: eventColumns,
  'ReplicaSet.apps': replicaSetColumns,
  'Deployment.apps': deploymentColumns,
  'Job.batch': jobColumns,
  'Lease.coordination.k8s.io': leaseColumns,
  'RoleBinding.rbac.authorization.k8s.io': roleBindingColumns,
  'ClusterRoleBinding.rbac.authorization.k8s.io': clusterRoleBindingColumns,
};

/** The printer columns of a kind, NAME first (the default table convertor's for kinds without their own). */
export function printerColumnsFor(kind: Pick<KindInfo, 'group' | 'kind'>): PrinterColumns {
  const key = kind.group === '' ? kind.kind : `${kind.kind}.${kind.group}`;
  return PRINTERS[key] ?? defaultColumns;
}
