// The write path. A write is evaluated at this replica's applied revision b and published
// as one log entry whose sequence becomes its revision:
//  - a write whose outcome depends on and touches one key only (Put, single-key DeleteRange,
//    Kubernetes' compare-mod_revision-then-put txns) goes on the key's subject with
//    Nats-Expected-Last-Subject-Sequence = the last sequence this replica saw on it, and a
//    guard (basis b) that every replica re-checks when applying it;
//  - any other write goes on <prefix>.txn with Nats-Expected-Last-Sequence = b.
// JetStream rejects the publish if another write got in first; the writer then catches up
// and evaluates again (bounded). The answer is sent only once this replica has applied its
// own entry (that exact revision, not only a later one), so a client reads its own writes
// on this replica. Writes to different keys
// are pipelined: many are in flight at once.
import type { Logger } from 'pino';
import { type ChangeInput, type EntryOrigin, encodeMultiKeyEntry, encodeSingleKeyEntry, txnSubject } from '@k8ts/machinery';
import { ConflictError, UnavailableError, Backend } from './backend';
import { aborted, etcdErrors, StoreError, unavailable } from './errors';
import { EvaluationError, Outcome, toEntryChanges } from './evaluate';
import { KeyedMutex, SharedExclusiveGate } from './locks';
import { MvccIndex } from './mvcc';
import type { StoreMetrics } from './metrics';

/** A write to evaluate and publish. */
export interface WriteOp<T> {
  /** The one key (latin1) the outcome depends on and touches, when there is one. */
  singleKey?: string;
  /** Evaluates at the index's applied revision; may throw EvaluationError. */
  evaluate(): Outcome;
  /** The answer: `rev` is the write's revision, or undefined when nothing changed. */
  answer(outcome: Outcome, rev: number | undefined): T;
}

export interface WriterDeps {
  index: MvccIndex;
  backend: Backend;
  name: string;
  logger: Logger;
  metrics: StoreMetrics;
  /** Resolves once the replica has applied up to seq. */
  waitApplied(seq: number): Promise<void>;
  /** Whether the replica applied the message at exactly seq (not only a later one). */
  appliedExactly(seq: number): boolean;
  /** Resolves once the replica has applied everything committed before the call. */
  barrier(): Promise<void>;
  maxAttempts: number;
}

export class Writer {
  private readonly keys = new KeyedMutex();
  private readonly gate = new SharedExclusiveGate();
  private requestId = 0;
  inFlight = 0;

  constructor(private readonly d: WriterDeps) {}

  async write<T>(op: WriteOp<T>): Promise<T> {
    const { index, backend, metrics } = this.d;
    const kind = op.singleKey !== undefined ? 'single' : 'multi';
    let synced = false;
    let expectOverride: number | undefined;
    for (let attempt = 1; attempt <= this.d.maxAttempts; attempt++) {
      if (attempt > 3) await new Promise((r) => setTimeout(r, Math.random() * Math.min(100, 5 * attempt)));
      const releaseKey = op.singleKey !== undefined ? await this.keys.lock(op.singleKey) : undefined;
      const releaseGate = await this.gate.acquire(op.singleKey === undefined);
      let waitFor: number | undefined;
      let needBarrier = false;
      try {
        let outcome: Outcome;
        try {
          outcome = op.evaluate();
        } catch (err) {
          if (err instanceof EvaluationError) throw err.error;
          throw err;
        }
        if (outcome.changes.length === 0) {
          // Nothing to write: the answer is a read, and must not be stale.
          if (!synced) {
            needBarrier = true;
            continue;
          }
          metrics.writes.inc({ kind, result: 'noop' });
          return op.answer(outcome, undefined);
        }
        const b = outcome.basis;
        const id = ++this.requestId;
        const data = encodeEntry(op.singleKey !== undefined, b, toEntryChanges(outcome.changes), { writer: this.d.name, requestId: id });
        // Headers (expectations) take up to ~200 bytes of the payload limit.
        if (data.length + 256 > backend.maxPayload) throw tooLarge(data.length, backend.maxPayload);
        let subject: string;
        let expect: { lastSubjectSeq?: number; lastSeq?: number };
        if (op.singleKey !== undefined) {
          const c = outcome.changes[0];
          subject = index.subjectOf(c.keyStr, c.key);
          expect = { lastSubjectSeq: expectOverride ?? index.lastSubjectSeq(subject) };
        } else {
          subject = txnSubject(index.prefix);
          expect = { lastSeq: b };
        }
        expectOverride = undefined;
        let seq: number;
        this.inFlight++;
        try {
          seq = await backend.append(subject, data, expect);
        } catch (err) {
          if (err instanceof ConflictError) {
            metrics.conflicts.inc({ kind: op.singleKey !== undefined ? 'subject' : 'global' });
            if (op.singleKey !== undefined && err.actual !== undefined) expectOverride = err.actual;
            if (err.actual !== undefined) waitFor = err.actual;
            else needBarrier = true;
            continue;
          }
          if (err instanceof UnavailableError) throw unavailable(`write not acknowledged: ${err.message}`);
          throw err;
        } finally {
          this.inFlight--;
        }
        try {
          await this.d.waitApplied(seq);
        } catch (err) {
          throw unavailable(`write committed at revision ${seq} but not yet applied by this replica: ${(err as Error).message}`);
        }
        if (!this.d.appliedExactly(seq)) {
          // The replica moved past the entry without applying it: never answer OK for it.
          throw unavailable(`write committed at revision ${seq} but this replica applied revision ${index.rev} without it; the outcome is unknown`);
        }
        if (index.isVoid(seq)) {
          metrics.conflicts.inc({ kind: 'guard' });
          this.d.logger.debug({ seq, key: op.singleKey }, 'entry was void (its key changed after its basis revision); retrying');
          continue;
        }
        metrics.writes.inc({ kind, result: 'committed' });
        return op.answer(outcome, seq);
      } finally {
        releaseGate();
        releaseKey?.();
        // Catch up outside the locks.
        if (needBarrier) {
          await this.d.barrier();
          synced = true;
        } else if (waitFor !== undefined) {
          await this.d.waitApplied(waitFor);
        }
      }
    }
    metrics.writes.inc({ kind, result: 'aborted' });
    throw aborted(`write gave up after ${this.d.maxAttempts} attempts lost a compare-and-swap race with other writers of the same keys`);
  }
}

/** The log entry of a write: single-key (guarded by basis b) or multi-key. */
function encodeEntry(singleKey: boolean, b: number, changes: ChangeInput[], origin: EntryOrigin): Uint8Array {
  if (!singleKey) return encodeMultiKeyEntry(changes, origin);
  if (changes.length !== 1) throw new Error(`a single-key write produced ${changes.length} changes`);
  return encodeSingleKeyEntry(b, changes[0], origin);
}

function tooLarge(size: number, max: number): StoreError {
  const e = etcdErrors.requestTooLarge();
  e.details = `${e.details} (the log entry would be ${size} bytes; the NATS max payload is ${max} bytes)`;
  e.message = `${e.code} INVALID_ARGUMENT: ${e.details}`;
  return e;
}
