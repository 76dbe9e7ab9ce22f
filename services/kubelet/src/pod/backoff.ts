// Restart and image pull back-off, as the kubelet does it.
//
// Crash loop: the first exit restarts at once; each following exit waits base, 2·base, 4·base,
// … up to cap (Kubernetes: 10 s doubling to 300 s). A container that ran for resetAfter (10
// minutes) before exiting starts over with an immediate restart.
// Image pulls: every failed pull waits base, 2·base, … up to cap before the next attempt.

export interface BackoffPolicy {
  baseMs: number;
  capMs: number;
  /** A container that ran at least this long before exiting resets its back-off. */
  resetAfterMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 10_000, capMs: 300_000, resetAfterMs: 600_000 };

/** The n-th back-off delay (n >= 1): base·2^(n-1), capped. */
export function backoffDelay(policy: BackoffPolicy, n: number): number {
  if (n <= 0) return 0;
  // Doubling past the cap is pointless and overflows for large n.
  const exp = Math.min(n - 1, 40);
  return Math.min(policy.capMs, policy.baseMs * 2 ** exp);
}

export class Backoff {
  private readonly counts = new Map<string, number>();

  constructor(readonly policy: BackoffPolicy = DEFAULT_BACKOFF) {}

  /**
   * A container exited after running ranMs: the delay before its restart. 0 for the first
   * exit (and after a long run), then base, 2·base, … up to cap.
   */
  onExit(key: string, ranMs: number): number {
    const prev = ranMs >= this.policy.resetAfterMs ? 0 : (this.counts.get(key) ?? 0);
    this.counts.set(key, prev + 1);
    return backoffDelay(this.policy, prev);
  }

  /** A pull (or another start step) failed: the delay before the next try (base, 2·base, …). */
  onFailure(key: string): number {
    const n = (this.counts.get(key) ?? 0) + 1;
    this.counts.set(key, n);
    return backoffDelay(this.policy, n);
  }

  reset(key: string): void {
    this.counts.delete(key);
  }

  /** How many exits or failures are counted for key. */
  count(key: string): number {
    return this.counts.get(key) ?? 0;
  }
}

/** Renders milliseconds as Go does in Kubernetes' messages: 10s, 2m40s, 5m0s, 200ms. */
export function formatGoDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const totalS = ms / 1000;
  const h = Math.floor(totalS / 3600);
  const m = Math.floor((totalS % 3600) / 60);
  const s = Math.round((totalS % 60) * 1000) / 1000;
  if (h > 0) return `${h}h${m}m${s}s`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}
