// Slow start: how the ReplicaSet and Job controllers make many similar calls (pod creations)
// without flooding the apiserver with calls that will all fail the same way (a quota, a
// webhook refusing the template). The calls go in batches of 1, 2, 4, ... and the first
// batch with a failure ends the burst: calls never made are left to the next pass.
// Kubernetes' slowStartBatch and SlowStartInitialBatchSize.

/** The first batch of a slow-start burst (Kubernetes' SlowStartInitialBatchSize). */
export const SLOW_START_INITIAL_BATCH = 1;

export interface SlowStartResult {
  /** Calls that succeeded. */
  successes: number;
  /** The failures of the calls made, in the order the calls were made. */
  errors: unknown[];
  /** Calls made (successes + errors.length); count − attempted were never made. */
  attempted: number;
}

/**
 * Runs `fn` `count` times in batches of `initial`, then twice the previous batch, the calls
 * of a batch concurrently; stops after the first batch with a failure.
 */
export async function slowStartBatch(count: number, initial: number, fn: () => Promise<void>): Promise<SlowStartResult> {
  let remaining = count;
  let batch = Math.min(remaining, initial);
  let successes = 0;
  let attempted = 0;
  const errors: unknown[] = [];
  while (batch > 0) {
    const results = await Promise.allSettled(Array.from({ length: batch }, () => fn()));
    attempted += batch;
    for (const r of results) {
      if (r.status === 'fulfilled') successes++;
      else errors.push(r.reason);
    }
    if (errors.length > 0) break;
    remaining -= batch;
    batch = Math.min(2 * batch, remaining);
  }
  return { successes, errors, attempted };
}
