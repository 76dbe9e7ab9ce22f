// The payloads of the store's log (proto/k8ts/store/v1/log.proto, "Payload"): the Genesis at
// sequence 1 and one Entry per later message. decodeLogMessage turns a message of the stream
// into what the apply rule (./guard.ts) and the consumers need, checking the format's
// invariants on the way: a single-key entry carries a guard and exactly one change; a
// multi-key entry carries no guard; every change has a key and a known type. A message that
// breaks them is `invalid`: every consumer treats it alike (it takes no effect), so the
// verdict stays a function of the log. The encoders refuse to write such messages.
import { storev1 } from '@k8ts/api';
import { type SubjectKind, subjectKind } from './subjects';

/** Version of the log format written into the genesis. */
export const LOG_FORMAT_VERSION = 1;

/**
 * The guard window W of a new stream when its creator does not choose one. It is also what a
 * genesis without guard_window means (the field is optional on the wire; the store has
 * always written it, so this only decides streams written by hand).
 */
export const DEFAULT_GUARD_WINDOW = 10_000;

/** One key's new state, as an entry carries it. */
export interface LogChange {
  type: 'put' | 'delete';
  /** The key's raw bytes. */
  key: Buffer;
  /**
   * The key as a latin1 string: one char per byte, so equal keys give equal strings and
   * string order is byte order. The apply rule identifies keys by it.
   */
  keyStr: string;
  /** The new value (puts; empty for deletes). */
  value: Buffer;
  /** The lease (puts; 0 for none). */
  lease: number;
  /** create_revision after the put; 0: this put creates the key. 0 for deletes. */
  createRevision: number;
  /** version after the put; 0 for deletes (and for puts written without it). */
  version: number;
}

/** Who wrote an entry (diagnostics, and a writer matching its own acknowledged entry). */
export interface EntryOrigin {
  writer: string;
  requestId: number;
}

/** A decoded message of the stream. */
export type LogMessage =
  | { kind: 'genesis'; genesis: storev1.Genesis; guardWindow: number }
  | ({ kind: 'single-key'; basis: number; change: LogChange } & EntryOrigin)
  | ({ kind: 'multi-key'; changes: LogChange[] } & EntryOrigin)
  | { kind: 'invalid'; subject: SubjectKind; reason: string };

/** A change to write: a put with its full new state, or a delete. */
export type ChangeInput =
  | { type: 'put'; key: Uint8Array; value: Uint8Array; lease: number; createRevision: number; version: number }
  | { type: 'delete'; key: Uint8Array };

/** Thrown by the encoders for a message the format does not allow; names the field. */
export class LogFormatError extends Error {
  constructor(
    readonly field: string,
    reason: string,
  ) {
    super(`${field}: ${reason}`);
    this.name = 'LogFormatError';
  }
}

/** Decodes the message published on `subject` (under `prefix`). Never throws. */
export function decodeLogMessage(prefix: string, subject: string, data: Uint8Array): LogMessage {
  const kind = subjectKind(prefix, subject);
  try {
    switch (kind) {
      case 'genesis':
        return decodeGenesis(data);
      case 'key':
        return decodeSingleKeyEntry(data);
      case 'txn':
        return decodeMultiKeyEntry(data);
      default:
        return { kind: 'invalid', subject: kind, reason: `subject ${subject} is not a subject of the log ${prefix}.>` };
    }
  } catch (err) {
    if (err instanceof LogFormatError) return { kind: 'invalid', subject: kind, reason: err.message };
    return { kind: 'invalid', subject: kind, reason: `undecodable payload: ${(err as Error).message}` };
  }
}

function decodeGenesis(data: Uint8Array): LogMessage {
  const genesis = storev1.Genesis.decode(data);
  const w = genesis.guardWindow ?? 0;
  if (w < 0) throw new LogFormatError('genesis.guard_window', `must not be negative, got ${w}`);
  return { kind: 'genesis', genesis, guardWindow: w > 0 ? w : DEFAULT_GUARD_WINDOW };
}

function decodeSingleKeyEntry(data: Uint8Array): LogMessage {
  const entry = storev1.Entry.decode(data);
  if (!entry.guard) throw new LogFormatError('entry.guard', 'a single-key entry must carry a guard');
  const changes = entry.changes ?? [];
  if (changes.length !== 1) throw new LogFormatError('entry.changes', `a single-key entry must have exactly one change, got ${changes.length}`);
  return { kind: 'single-key', basis: entry.guard.basisRevision ?? 0, change: toLogChange(changes[0], 'entry.changes[0]'), ...originOf(entry) };
}

function decodeMultiKeyEntry(data: Uint8Array): LogMessage {
  const entry = storev1.Entry.decode(data);
  if (entry.guard) throw new LogFormatError('entry.guard', 'a multi-key entry (subject P.txn) carries no guard');
  const changes = (entry.changes ?? []).map((c, i) => toLogChange(c, `entry.changes[${i}]`));
  return { kind: 'multi-key', changes, ...originOf(entry) };
}

function originOf(entry: storev1.Entry): EntryOrigin {
  return { writer: entry.writer ?? '', requestId: entry.requestId ?? 0 };
}

const EMPTY = Buffer.alloc(0);

function toLogChange(c: storev1.Change, field: string): LogChange {
  // Both are views of the message's payload (no copy); nothing here mutates them.
  const key = c.key;
  if (!key || key.length === 0) throw new LogFormatError(`${field}.key`, 'must not be empty');
  const keyStr = key.toString('latin1');
  if (c.type === storev1.ChangeType.CHANGE_TYPE_DELETE) {
    return { type: 'delete', key, keyStr, value: EMPTY, lease: 0, createRevision: 0, version: 0 };
  }
  if (c.type !== storev1.ChangeType.CHANGE_TYPE_PUT) throw new LogFormatError(`${field}.type`, `must be CHANGE_TYPE_PUT or CHANGE_TYPE_DELETE, got ${c.type}`);
  return {
    type: 'put',
    key,
    keyStr,
    value: c.value ?? EMPTY,
    lease: c.lease ?? 0,
    createRevision: c.createRevision ?? 0,
    version: c.version ?? 0,
  };
}

/** Encodes a single-key entry: the change of one key, valid only if nothing changed the key after `basis`. */
export function encodeSingleKeyEntry(basis: number, change: ChangeInput, origin: EntryOrigin): Uint8Array {
  if (!Number.isSafeInteger(basis) || basis < 1) throw new LogFormatError('entry.guard.basis_revision', `must be a revision (>= 1), got ${basis}`);
  return storev1.Entry.encode({ guard: { basisRevision: basis }, changes: [toProtoChange(change, 'entry.changes[0]')], ...origin }).finish();
}

/** Encodes a multi-key entry (subject P.txn): it always takes effect. */
export function encodeMultiKeyEntry(changes: ChangeInput[], origin: EntryOrigin): Uint8Array {
  if (changes.length === 0) throw new LogFormatError('entry.changes', 'an entry must change something');
  return storev1.Entry.encode({ changes: changes.map((c, i) => toProtoChange(c, `entry.changes[${i}]`)), ...origin }).finish();
}

function toProtoChange(c: ChangeInput, field: string): storev1.Change {
  if (c.key.length === 0) throw new LogFormatError(`${field}.key`, 'must not be empty');
  if (c.type === 'delete') return { type: storev1.ChangeType.CHANGE_TYPE_DELETE, key: Buffer.from(c.key) };
  return {
    type: storev1.ChangeType.CHANGE_TYPE_PUT,
    key: Buffer.from(c.key),
    value: Buffer.from(c.value),
    lease: c.lease,
    createRevision: c.createRevision,
    version: c.version,
  };
}

/** What a new stream's genesis says. */
export interface GenesisInput {
  clusterId: number;
  createdBy: string;
  createdUnixMs: number;
  guardWindow: number;
}

/** Encodes the genesis (sequence 1) of a new stream. */
export function encodeGenesis(g: GenesisInput): Uint8Array {
  if (!Number.isSafeInteger(g.guardWindow) || g.guardWindow < 1) throw new LogFormatError('genesis.guard_window', `must be a positive integer, got ${g.guardWindow}`);
  return storev1.Genesis.encode({ ...g, formatVersion: LOG_FORMAT_VERSION }).finish();
}
