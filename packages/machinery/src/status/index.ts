// The Status error kept once: Kubernetes' failure reasons with their HTTP and gRPC codes and
// Kubernetes' rules for reading a Status (reasons.ts), and how a Status travels with a failed
// gRPC call (wire.ts). The apiserver builds its errors with these; clients read them back.
export { GrpcCode } from './codes';
export {
  grpcCodeForReason,
  grpcCodeForStatus,
  httpCodeForReason,
  isAlreadyExistsStatus,
  isBadRequestStatus,
  isConflictStatus,
  isForbiddenStatus,
  isGoneStatus,
  isInvalidStatus,
  isNotFoundStatus,
  isServiceUnavailableStatus,
  isStatusReason,
  isTimeoutStatus,
  isUnauthorizedStatus,
  reasonForGrpcCode,
  reasonForHttpCode,
  statusHasReason,
} from './reasons';
export type { StatusReason } from './reasons';
export { STATUS_METADATA_KEY, attachStatus, decodeStatus, encodeStatus, statusFromMetadata } from './wire';
export type { StatusMetadataReader, StatusMetadataWriter } from './wire';
