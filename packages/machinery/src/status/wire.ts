// The wire form of an API error over gRPC: the call fails with the gRPC code of its reason,
// the Status message as the gRPC details, and the whole k8ts.meta.v1.Status (reason, HTTP
// code, details, causes) binary-encoded in the trailing metadata under "k8ts-status-bin"
// (a "-bin" key, so gRPC carries the bytes base64-encoded). A client reads the Status back
// from there; a call that has none is described by its gRPC code alone.
import { metav1 } from '@k8ts/api';

/** The binary metadata key carrying an encoded k8ts.meta.v1.Status. */
export const STATUS_METADATA_KEY = 'k8ts-status-bin';

/** Where a Status is put: a grpc-js Metadata satisfies this. */
export interface StatusMetadataWriter {
  set(key: string, value: Buffer): void;
}

/** Where a Status is read from: a grpc-js Metadata satisfies this. */
export interface StatusMetadataReader {
  get(key: string): ReadonlyArray<string | Buffer>;
}

export function encodeStatus(status: metav1.Status): Buffer {
  return Buffer.from(metav1.Status.encode(status).finish());
}

/** The Status the bytes encode, or undefined when they are not one. */
export function decodeStatus(bytes: Uint8Array): metav1.Status | undefined {
  try {
    return metav1.Status.decode(bytes);
  } catch {
    return undefined;
  }
}

/** Puts a Status into (trailing) metadata under STATUS_METADATA_KEY. */
export function attachStatus(metadata: StatusMetadataWriter, status: metav1.Status): void {
  metadata.set(STATUS_METADATA_KEY, encodeStatus(status));
}

/**
 * The Status attached to metadata: the first value under STATUS_METADATA_KEY that decodes.
 * Text values and malformed bytes are skipped (the gRPC code and details still say what
 * happened); metadata missing or without `get` (an error not from gRPC) has none.
 */
export function statusFromMetadata(metadata: Partial<StatusMetadataReader> | undefined): metav1.Status | undefined {
  if (typeof metadata?.get !== 'function') return undefined;
  for (const value of metadata.get(STATUS_METADATA_KEY)) {
    if (typeof value === 'string') continue;
    const status = decodeStatus(value);
    if (status) return status;
  }
  return undefined;
}
