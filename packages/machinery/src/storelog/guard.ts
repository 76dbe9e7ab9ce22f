// The apply rule of the store's log (proto/k8ts/store/v1/log.proto, "Applying entries"):
// which messages take effect. Messages are applied in stream order (sequences increase and
// may skip: removed messages). The genesis gives the guard window W. A multi-key entry always
// takes effect. A single-key entry at sequence s with basis revision b takes effect only if
//   - s - b <= W, and
//   - no entry that took effect with a sequence in (b, s), single-key OR multi-key, changed
//     its key.
// Otherwise it is void: it changes nothing. An invalid message (./codec.ts) takes no effect.
//
// The store's index and every consumer of the stream (the apiserver's change feed) apply the
// log through this one GuardLedger, so they reach the same verdict on every message.
//
// What the ledger keeps is bounded by W: the last change of each key (older than W it can
// decide nothing: a basis is never more than W below its entry) and the verdicts of the last
// W messages, which a consumer that restarts a little behind its position recalls instead of
// deciding again (see firstSequenceToRead).
import type { LogMessage } from './codec';

/** Whether a message took effect, and if not, why. */
export type Verdict =
  | { effective: true }
  /** A single-key entry whose guard failed. */
  | { effective: false; cause: 'void'; reason: string }
  /** A message that breaks the log format, or a second genesis. */
  | { effective: false; cause: 'invalid'; reason: string };

const EFFECTIVE: Verdict = { effective: true };

/** The log broke its contract in a way no verdict can express (no genesis, out of order). */
export class LogOrderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LogOrderError';
  }
}

interface KeyChange {
  seq: number;
  multiKey: boolean;
}

export class GuardLedger {
  private window?: number;
  private pos = 0;
  /** The last effective change of each key; changes at or below `forgottenTo` may be gone. */
  private readonly lastChange = new Map<string, KeyChange>();
  /** Sequences applied after `forgottenTo`, ascending (for recall). */
  private applied: number[] = [];
  /** The verdicts of those that did not take effect. */
  private readonly ineffective = new Map<number, Verdict>();
  /** Everything at or below this sequence may have been forgotten. */
  private forgottenTo = 0;

  /** W, once the genesis has been applied. */
  get guardWindow(): number | undefined {
    return this.window;
  }

  /** W; throws when the genesis has not been applied (no verdict is possible without it). */
  requireGuardWindow(): number {
    if (this.window === undefined) throw new LogOrderError('the guard window is unknown: the genesis (sequence 1) has not been applied');
    return this.window;
  }

  /** The sequence of the last message applied (0: none). */
  get position(): number {
    return this.pos;
  }

  /**
   * Decides whether the message at `seq` takes effect and records it. `seq` must be above
   * every sequence applied so far; a guarded entry before the genesis is a LogOrderError.
   */
  apply(seq: number, msg: LogMessage): Verdict {
    if (!Number.isSafeInteger(seq) || seq <= this.pos) throw new LogOrderError(`sequence ${seq} applied after sequence ${this.pos}: the log must be applied in order`);
    const verdict = this.decide(seq, msg);
    if (verdict.effective) this.recordChanges(seq, msg);
    else this.ineffective.set(seq, verdict);
    this.applied.push(seq);
    this.pos = seq;
    this.forgetOld();
    return verdict;
  }

  /** The verdict of a message this ledger decided: what apply() answered for it. */
  recall(seq: number): Verdict {
    if (seq > this.pos || seq <= this.forgottenTo) {
      throw new LogOrderError(`the verdict of sequence ${seq} is not remembered (remembered: ${this.forgottenTo + 1}..${this.pos})`);
    }
    if (!this.wasApplied(seq)) throw new LogOrderError(`sequence ${seq} was never applied: the log delivered it after later messages`);
    return this.ineffective.get(seq) ?? EFFECTIVE;
  }

  /**
   * Where a consumer that needs a verdict for every message after `after` reads from: the
   * next sequence after the ledger's position, or after `after` when the verdicts of
   * (after, position] are remembered (recall them). Undefined when they are forgotten: the
   * consumer must replay the log from sequence 1 into a new ledger. A new ledger reads from 1.
   */
  firstSequenceToRead(after: number): number | undefined {
    if (this.pos === 0) return 1;
    if (after >= this.pos) return this.pos + 1;
    if (after >= this.forgottenTo) return after + 1;
    return undefined;
  }

  private decide(seq: number, msg: LogMessage): Verdict {
    switch (msg.kind) {
      case 'invalid':
        return { effective: false, cause: 'invalid', reason: msg.reason };
      case 'genesis':
        if (this.window !== undefined) return { effective: false, cause: 'invalid', reason: `a second genesis at sequence ${seq}: the first one fixed the guard window` };
        return EFFECTIVE;
      case 'multi-key':
        return EFFECTIVE;
      case 'single-key':
        return this.guardVerdict(seq, msg.basis, msg.change.keyStr);
    }
  }

  /**
   * The guard of a single-key entry. Only the LAST effective change of the key matters: if
   * any change falls in (basis, seq), so does the last one (all applied changes are below
   * seq). Changes more than W old are forgotten, which changes no verdict: a basis within W
   * of seq is above them.
   */
  private guardVerdict(seq: number, basis: number, keyStr: string): Verdict {
    const w = this.requireGuardWindow();
    if (seq - basis > w) return { effective: false, cause: 'void', reason: `basis revision ${basis} is more than ${w} revisions old` };
    const last = this.lastChange.get(keyStr);
    if (last !== undefined && last.seq > basis) {
      const by = last.multiKey ? 'multi-key entry' : 'entry';
      return { effective: false, cause: 'void', reason: `guard: ${by} ${last.seq} changed the key after basis revision ${basis}` };
    }
    return EFFECTIVE;
  }

  private recordChanges(seq: number, msg: LogMessage): void {
    if (msg.kind === 'genesis') this.window = msg.guardWindow;
    else if (msg.kind === 'single-key') this.lastChange.set(msg.change.keyStr, { seq, multiKey: false });
    else if (msg.kind === 'multi-key') for (const c of msg.changes) this.lastChange.set(c.keyStr, { seq, multiKey: true });
  }

  /** Drops what is more than W behind the position, once per W messages (amortised). */
  private forgetOld(): void {
    if (this.window === undefined) return;
    const horizon = this.pos - this.window;
    if (horizon - this.forgottenTo < this.window) return;
    for (const [k, c] of this.lastChange) if (c.seq <= horizon) this.lastChange.delete(k);
    for (const s of this.ineffective.keys()) if (s <= horizon) this.ineffective.delete(s);
    this.applied = this.applied.slice(firstAbove(this.applied, horizon));
    this.forgottenTo = horizon;
  }

  private wasApplied(seq: number): boolean {
    const i = firstAbove(this.applied, seq - 1);
    return i < this.applied.length && this.applied[i] === seq;
  }
}

/** The index of the first element of an ascending array that is greater than `x`. */
function firstAbove(sorted: number[], x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
