// The storage interface between the registry and the store: the few etcd v3 operations the
// apiserver needs (Range, Txn, LeaseGrant), with revisions as numbers and keys as strings.
// Implemented over the etcd v3 gRPC protocol (./etcd.ts), which both the k8ts store and a
// real etcd speak.

export interface KeyValue {
  key: string;
  value: Buffer;
  /** The revision of the key's creation (0 when it does not exist). */
  createRevision: number;
  /** The revision of the key's last write: the object's resourceVersion. */
  modRevision: number;
  version: number;
  /** The key's lease ID, as a decimal string (etcd's IDs use all 64 bits); '0' for none. */
  lease: string;
}

export type CompareTarget = 'CREATE' | 'MOD' | 'VERSION';
export type CompareResult = 'EQUAL' | 'NOT_EQUAL' | 'GREATER' | 'LESS';

export interface Compare {
  key: string;
  target: CompareTarget;
  result: CompareResult;
  value: number;
}

export type TxnOp =
  | { put: { key: string; value: Buffer; lease?: string } }
  | { delete: { key: string } }
  | { get: { key: string } };

export interface TxnOpResult {
  /** For a get: the key, when it exists. */
  kvs?: KeyValue[];
  /** For a delete: how many keys went. */
  deleted?: number;
}

export interface TxnResult {
  succeeded: boolean;
  /** The store revision after the transaction (the new revision when it wrote). */
  revision: number;
  responses: TxnOpResult[];
}

export interface RangeOptions {
  /** Exclusive end of the range; omitted: the single key. */
  end?: string;
  /** Read at this past revision (0: the latest). */
  revision?: number;
  limit?: number;
  keysOnly?: boolean;
  countOnly?: boolean;
}

export interface RangeResult {
  kvs: KeyValue[];
  more: boolean;
  count: number;
  /** The store revision the range was read at. */
  revision: number;
}

export interface KV {
  range(key: string, opts?: RangeOptions): Promise<RangeResult>;
  txn(compares: Compare[], success: TxnOp[], failure?: TxnOp[]): Promise<TxnResult>;
  /** Grants a lease of ttlSeconds; returns its ID as a decimal string (64-bit). */
  leaseGrant(ttlSeconds: number): Promise<string>;
  close(): void;
}

/** An error from the store, classified for the registry's error mapping. */
export class StoreError extends Error {
  /** The gRPC code the store answered with. */
  readonly code: number;
  /** The requested revision has been compacted (Kubernetes: 410 Gone). */
  readonly compacted: boolean;
  /** The requested revision is ahead of the store. */
  readonly futureRevision: boolean;
  constructor(message: string, code: number, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'StoreError';
    this.code = code;
    this.compacted = /compacted/.test(message);
    this.futureRevision = /future revision/.test(message);
  }
}

/** The end of the prefix range of `prefix` (etcd's "range_end = prefix + 1"). */
export function prefixEnd(prefix: string): string {
  const b = Buffer.from(prefix);
  for (let i = b.length - 1; i >= 0; i--) {
    if (b[i] < 0xff) {
      const out = Buffer.from(b.subarray(0, i + 1));
      out[i]++;
      return out.toString('latin1');
    }
  }
  return '\0';
}
