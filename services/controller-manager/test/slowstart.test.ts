// slowStartBatch (src/util/slowstart.ts): batch sizes and where a burst stops.
import { SLOW_START_INITIAL_BATCH, slowStartBatch } from '../src/util/slowstart';

/** Runs slowStartBatch and records how many calls were in flight together, batch by batch. */
async function batchesOf(count: number, initial: number, failAt?: number): Promise<{ batches: number[]; result: Awaited<ReturnType<typeof slowStartBatch>> }> {
  const batches: number[] = [];
  let inFlight = 0;
  let calls = 0;
  const result = await slowStartBatch(count, initial, async () => {
    const call = ++calls;
    if (inFlight === 0) batches.push(0);
    inFlight++;
    batches[batches.length - 1]++;
    await Promise.resolve();
    inFlight--;
    if (call === failAt) throw new Error(`call ${call} failed`);
  });
  return { batches, result };
}

describe('slowStartBatch', () => {
  test('doubles the batch from the initial size, the last batch taking what is left', async () => {
    const { batches, result } = await batchesOf(10, SLOW_START_INITIAL_BATCH);
    expect(batches).toEqual([1, 2, 4, 3]);
    expect(result).toEqual({ successes: 10, errors: [], attempted: 10 });
  });

  test('starts from a larger initial batch', async () => {
    const { batches } = await batchesOf(20, 3);
    expect(batches).toEqual([3, 6, 11]);
  });

  test('the batch with a failure finishes, and no further batch starts', async () => {
    const { batches, result } = await batchesOf(100, 1, 5);
    expect(batches).toEqual([1, 2, 4]);
    expect(result.attempted).toBe(7);
    expect(result.successes).toBe(6);
    expect(result.errors.map((e) => (e as Error).message)).toEqual(['call 5 failed']);
  });

  test('nothing to do: no call', async () => {
    const { batches, result } = await batchesOf(0, 1);
    expect(batches).toEqual([]);
    expect(result).toEqual({ successes: 0, errors: [], attempted: 0 });
  });
});
