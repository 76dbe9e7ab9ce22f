// The store's replicated log (proto/k8ts/store/v1/log.proto) kept once: its subjects, the
// codec of its messages and the rule that decides which of them take effect. The store's
// index and every program that follows the stream (the apiserver's change feed) use this.
export {
  MAX_SUBJECT_BYTES,
  decodeSegment,
  encodeSegment,
  genesisSubject,
  hashedSubject,
  keySubject,
  subjectKey,
  subjectKind,
  txnSubject,
} from './subjects';
export type { SubjectKind } from './subjects';
export {
  DEFAULT_GUARD_WINDOW,
  LOG_FORMAT_VERSION,
  LogFormatError,
  decodeLogMessage,
  encodeGenesis,
  encodeMultiKeyEntry,
  encodeSingleKeyEntry,
} from './codec';
export type { ChangeInput, EntryOrigin, GenesisInput, LogChange, LogMessage } from './codec';
export { GuardLedger, LogOrderError } from './guard';
export type { Verdict } from './guard';
