// The storage interface of the store: a replicated, totally ordered log of messages on
// subjects, with compare-and-swap appends, plus a small key-value map for metadata (leases,
// the compaction record). The store keeps all etcd semantics (MVCC index, evaluation,
// watches, leases) above this interface; jetstream.ts implements it on NATS JetStream and
// memory.ts in memory for tests.

/** One message of the log. */
export interface LogMessage {
  /** Position in the log, from 1; the store's revision. */
  seq: number;
  subject: string;
  data: Uint8Array;
}

/** The condition of an append. */
export interface AppendExpectation {
  /** The last sequence on the message's subject must be this (0: no message on it). */
  lastSubjectSeq?: number;
  /** The last sequence of the whole log must be this. */
  lastSeq?: number;
}

/** An append lost its compare-and-swap; `actual` is the sequence found instead, when known. */
export class ConflictError extends Error {
  constructor(
    message: string,
    readonly actual?: number,
  ) {
    super(message);
    this.name = 'ConflictError';
  }
}

/**
 * The backend cannot take or serve the operation now (no quorum, unreachable, timed out).
 * For an append, the outcome is unknown: the message may or may not be in the log.
 */
export class UnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UnavailableError';
  }
}

/** A value of the metadata map with its revision (for compare-and-swap). */
export interface MetaEntry {
  key: string;
  value: Uint8Array;
  revision: number;
}

/** A change of the metadata map; value undefined for a deletion. */
export interface MetaChange {
  key: string;
  value?: Uint8Array;
  revision: number;
}

export interface Subscription {
  stop(): void;
}

/** Receives a metadata watch: begin(), every current value, ready(); then live changes. */
export interface MetaWatchHandler {
  /** A (re)start: every current value follows, then ready(). Forget what was not re-sent. */
  begin(): void;
  change(c: MetaChange): void;
  ready(): void;
}

export interface Backend {
  /** Largest message payload the log accepts, in bytes. */
  readonly maxPayload: number;
  /** Appends a message; resolves with its sequence. ConflictError, UnavailableError. */
  append(subject: string, data: Uint8Array, expect: AppendExpectation): Promise<number>;
  /** The sequence of the last message in the log (0 when empty). UnavailableError. */
  head(): Promise<number>;
  /** The last sequence on a subject (0: none). UnavailableError. */
  lastSeqOfSubject(subject: string): Promise<number>;
  /** One message by sequence, undefined if it does not exist. */
  message(seq: number): Promise<LogMessage | undefined>;
  /**
   * Delivers every message from `fromSeq` on, in order, now and as they are appended,
   * surviving reconnects. Messages removed from the log are skipped, and only those: a
   * message that exists is never skipped. `gapsExpectedBelow` (optional) is a sequence below
   * which holes in the log are known to be removals (completed compaction), so need no check.
   */
  follow(fromSeq: number, onMessage: (m: LogMessage) => void, onError: (err: Error) => void, gapsExpectedBelow?: () => number): Subscription;
  /** Removes one message (idempotent). */
  deleteMessage(seq: number): Promise<void>;
  /** Removes the messages of a subject below a sequence (idempotent). */
  purgeSubject(subject: string, belowSeq: number): Promise<void>;

  /** Reads a metadata value. */
  metaGet(key: string): Promise<MetaEntry | undefined>;
  /**
   * Writes a metadata value if its current revision is `expectedRevision` (0: the key must
   * not exist); resolves with the new revision. ConflictError when it is not.
   */
  metaPut(key: string, value: Uint8Array, expectedRevision: number): Promise<number>;
  /** Writes a metadata value unconditionally. */
  metaPutAny(key: string, value: Uint8Array): Promise<number>;
  /** Deletes a metadata value if its revision is `expectedRevision`. ConflictError otherwise. */
  metaDelete(key: string, expectedRevision: number): Promise<void>;
  /**
   * Delivers the current values of the keys matching `pattern` (a key, or a prefix followed
   * by '>' as in 'lease.>'), then every change (see MetaWatchHandler).
   */
  metaWatch(pattern: string, handler: MetaWatchHandler): Subscription;

  /** Approximate bytes stored by the log. */
  storedBytes(): number;
  /** Problems to report in Status (e.g. disconnected). */
  problems(): string[];
  close(): Promise<void>;
}
