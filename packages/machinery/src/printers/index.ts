// Printer columns, kept once: what `kubectl get` shows for each kind, as Kubernetes defines it in
// pkg/printers/internalversion/printers.go. The API server serves them as meta.k8s.io/v1 Tables
// (toTable); the CLI renders the same Tables. Objects are read in their Kubernetes JSON form.
export type { ColumnDefinition, ColumnType, PrinterColumns, TableRowCondition } from './columns';
export { printerColumnsFor, defaultColumns } from './registry';
export { toTable, parseIncludeObject, partialObjectMetadata, INCLUDE_OBJECT_VALUES } from './table';
export type { IncludeObject, Table, TableListMeta, TableRow, ToTableOptions } from './table';
export { humanDuration, shortHumanDuration, parseTimestamp, timestampAge, formatTimestampUTC } from './duration';
export { podSummary } from './pod';
export type { PodSummary } from './pod';
export { nodeStatus, nodeRoles } from './node';
export { formatEndpoints, servicePorts, serviceExternalIP } from './service';
export { jobStatus, jobCompletions, jobDuration } from './workloads';
export { eventObject, eventSource, eventTimes } from './event';
export { bindingSubjects } from './rbac';
