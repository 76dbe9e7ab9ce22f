// Exponential backoff with jitter, shared by call retries, informer relists and the
// event recorder.

export interface BackoffOptions {
  /** The first delay. Default 100 ms. */
  initialMs?: number;
  /** The largest delay. Default 30 s. */
  maxMs?: number;
  /** How much each delay grows. Default 2. */
  factor?: number;
  /**
   * How much randomness: each delay is drawn uniformly from [d * (1 - jitter), d].
   * Default 0.5. 0 gives exact delays.
   */
  jitter?: number;
  /** Random numbers in [0, 1); Math.random by default. */
  random?: () => number;
}

/** A sequence of growing, jittered delays. */
export class Backoff {
  private attempt = 0;
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly factor: number;
  private readonly jitter: number;
  private readonly random: () => number;

  constructor(opts: BackoffOptions = {}) {
    this.initialMs = opts.initialMs ?? 100;
    this.maxMs = opts.maxMs ?? 30_000;
    this.factor = opts.factor ?? 2;
    this.jitter = Math.min(1, Math.max(0, opts.jitter ?? 0.5));
    this.random = opts.random ?? Math.random;
  }

  /** The next delay in milliseconds; each call grows the following one. */
  next(): number {
    const base = Math.min(this.maxMs, this.initialMs * this.factor ** this.attempt);
    if (base < this.maxMs) this.attempt++;
    return base * (1 - this.jitter * this.random());
  }

  /** How many delays have been handed out since the last reset (capped once at the maximum). */
  get attempts(): number {
    return this.attempt;
  }

  /** Starts again from the first delay. */
  reset(): void {
    this.attempt = 0;
  }
}
