// @k8ts/machinery: the Kubernetes API rules that more than one component needs, kept once
// (the role of k8s.io/apimachinery and k8s.io/component-helpers). Each rule lives in its own
// folder and is re-exported here; components import '@k8ts/machinery', never a file inside.
export {};
export { messageSchema, fieldOf, effectiveListType } from './schema';
export type { FieldSchema, MessageSchema, ValueKind, ListType } from './schema';
export {
  DEFAULT_GUARD_WINDOW,
  GuardLedger,
  LOG_FORMAT_VERSION,
  LogFormatError,
  LogOrderError,
  MAX_SUBJECT_BYTES,
  decodeLogMessage,
  decodeSegment,
  encodeGenesis,
  encodeMultiKeyEntry,
  encodeSegment,
  encodeSingleKeyEntry,
  genesisSubject,
  hashedSubject,
  keySubject,
  subjectKey,
  subjectKind,
  txnSubject,
} from './storelog';
export type { ChangeInput, EntryOrigin, GenesisInput, LogChange, LogMessage, SubjectKind, Verdict } from './storelog';
export {
  INCLUDE_OBJECT_VALUES,
  bindingSubjects,
  defaultColumns,
  eventObject,
  eventSource,
  eventTimes,
  formatEndpoints,
  formatLabelSelector,
  formatLabels,
  formatTimestampUTC,
  humanDuration,
  jobCompletions,
  jobDuration,
  jobStatus,
  labelSelectorString,
  nodeRoles,
  nodeStatus,
  parseIncludeObject,
  parseTimestamp,
  partialObjectMetadata,
  podSummary,
  printerColumnsFor,
  serviceExternalIP,
  servicePorts,
  shortHumanDuration,
  timestampAge,
  toTable,
} from './printers';
export type { ColumnDefinition, ColumnType, IncludeObject, PodSummary, PrinterColumns, Table, TableListMeta, TableRow, TableRowCondition, ToTableOptions } from './printers';
export {
  PatchError,
  applyJsonPatch,
  applyMergePatch,
  applyStrategicMergePatch,
  createStrategicMergePatch,
  createThreeWayMergePatch,
  requireKeyUnchanged,
  requireMetadataKeyUnchanged,
} from './patch';
export type { JsonObject, JsonValue, PatchErrorReason, PatchPrecondition, ThreeWayOptions } from './patch';
