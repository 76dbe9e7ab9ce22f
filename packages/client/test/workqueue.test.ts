// Workqueue semantics: dedup of pending keys, one worker per key at a time, requeue after
// processing, per-key exponential backoff, forget, delays, shutdown and drain, run(), metrics.
import { Registry } from 'prom-client';
import { BucketRateLimiter, ExponentialRateLimiter, FakeClock, MaxOfRateLimiter, WorkQueue, settle } from '../src';

/** Whether a promise has settled yet (after letting pending callbacks run). */
async function isSettled(p: Promise<unknown>): Promise<boolean> {
  let settled = false;
  p.then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  await settle();
  return settled;
}

describe('WorkQueue', () => {
  test('a key added twice while pending is handed out once, in FIFO order', async () => {
    const q = new WorkQueue();
    q.add('a');
    q.add('b');
    q.add('a');
    expect(q.len()).toBe(2);
    expect(await q.get()).toBe('a');
    expect(await q.get()).toBe('b');
    expect(q.len()).toBe(0);
  });

  test('a key being processed is not handed to a second worker; re-added, it is queued after done', async () => {
    const q = new WorkQueue();
    q.add('a');
    const key = await q.get();
    expect(key).toBe('a');
    q.add('a');
    q.add('a');
    expect(q.len()).toBe(0); // held back while a worker has it
    const second = q.get();
    expect(await isSettled(second)).toBe(false);
    q.done('a');
    expect(await second).toBe('a'); // exactly once more
    q.done('a');
    expect(q.len()).toBe(0);
    expect(q.inProgress()).toBe(0);
  });

  test('a key not re-added is not requeued by done', async () => {
    const q = new WorkQueue();
    q.add('a');
    await q.get();
    q.done('a');
    expect(q.len()).toBe(0);
    q.done('unknown'); // harmless
  });

  test('waiting getters are served in order as keys arrive', async () => {
    const q = new WorkQueue();
    const g1 = q.get();
    const g2 = q.get();
    q.add('x');
    q.add('y');
    expect(await g1).toBe('x');
    expect(await g2).toBe('y');
  });

  test('run(): many workers never process one key concurrently, and every add during processing is honoured', async () => {
    const q = new WorkQueue();
    const active = new Set<string>();
    const processed: string[] = [];
    let overlap = false;
    let reAdded = false;
    const running = q.run(4, async (key) => {
      if (active.has(key)) overlap = true;
      active.add(key);
      await settle();
      if (key === 'a' && !reAdded) {
        reAdded = true;
        q.add('a'); // while 'a' is processing
        q.add('a');
      }
      await settle();
      active.delete(key);
      processed.push(key);
    });
    for (const k of ['a', 'b', 'c', 'a', 'b']) q.add(k);
    await settle();
    for (let i = 0; i < 10 && processed.length < 4; i++) await settle();
    await q.shutDownWithDrain();
    await running;
    expect(overlap).toBe(false);
    // The workers took a, b and c at once; the second a and b arrived while those were being
    // processed, and so did the handler's own re-adds of a (coalesced with the pending one):
    // each of a and b is processed exactly once more, after its first run.
    expect(processed.sort()).toEqual(['a', 'a', 'b', 'b', 'c']);
  });

  test('ExponentialRateLimiter doubles per key from 5 ms to 1000 s; forget resets', () => {
    const rl = new ExponentialRateLimiter();
    expect([rl.when('a'), rl.when('a'), rl.when('a'), rl.when('a')]).toEqual([5, 10, 20, 40]);
    expect(rl.when('b')).toBe(5); // per key
    expect(rl.numRequeues('a')).toBe(4);
    for (let i = 0; i < 40; i++) rl.when('a');
    expect(rl.when('a')).toBe(1_000_000);
    rl.forget('a');
    expect(rl.numRequeues('a')).toBe(0);
    expect(rl.when('a')).toBe(5);
  });

  test('BucketRateLimiter and MaxOfRateLimiter', async () => {
    const clock = new FakeClock();
    const bucket = new BucketRateLimiter(10, 2, clock);
    expect(bucket.when()).toBe(0);
    expect(bucket.when()).toBe(0);
    expect(bucket.when()).toBeCloseTo(100); // bucket empty: one token per 100 ms
    await clock.advance(1000);
    expect(bucket.when()).toBe(0);
    const max = new MaxOfRateLimiter(new ExponentialRateLimiter(50, 1000), new BucketRateLimiter(10, 100, clock));
    expect(max.when('k')).toBe(50);
    expect(max.when('k')).toBe(100);
    expect(max.numRequeues('k')).toBe(2);
    max.forget('k');
    expect(max.numRequeues('k')).toBe(0);
  });

  test('addRateLimited waits the growing per-key delay; forget starts over', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock });
    q.addRateLimited('a');
    expect(q.len()).toBe(0);
    await clock.advance(4);
    expect(q.len()).toBe(0);
    await clock.advance(1);
    expect(q.len()).toBe(1); // after 5 ms
    expect(await q.get()).toBe('a');
    q.done('a');
    q.addRateLimited('a');
    await clock.advance(9);
    expect(q.len()).toBe(0);
    await clock.advance(1);
    expect(q.len()).toBe(1); // after 10 ms
    expect(q.numRequeues('a')).toBe(2);
    q.forget('a');
    expect(q.numRequeues('a')).toBe(0);
  });

  test('addAfter: a key waiting twice keeps the earlier time; 0 adds at once', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock });
    q.addAfter('a', 100);
    q.addAfter('a', 50);
    q.addAfter('a', 200);
    await clock.advance(50);
    expect(q.len()).toBe(1);
    await clock.advance(200);
    expect(q.len()).toBe(1); // not added a second time
    q.addAfter('b', 0);
    expect(q.len()).toBe(2);
  });

  test('shutDown: no new keys, delayed keys dropped, queued keys still handed out, then undefined', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock });
    q.add('a');
    q.add('b');
    q.addAfter('late', 10);
    q.shutDown();
    expect(q.shuttingDown).toBe(true);
    q.add('c');
    q.addRateLimited('d');
    expect(await q.get()).toBe('a');
    expect(await q.get()).toBe('b');
    expect(await q.get()).toBeUndefined();
    await clock.advance(100);
    expect(q.len()).toBe(0);
    expect(clock.pendingTimers()).toBe(0);
  });

  test('shutDown releases blocked getters', async () => {
    const q = new WorkQueue();
    const g = q.get();
    q.shutDown();
    expect(await g).toBeUndefined();
  });

  test('shutDownWithDrain waits for keys in progress', async () => {
    const q = new WorkQueue();
    q.add('a');
    await q.get();
    const drained = q.shutDownWithDrain();
    expect(await isSettled(drained)).toBe(false);
    q.done('a');
    await expect(drained).resolves.toBeUndefined();
  });

  test('run(): a failing handler is retried with backoff, success forgets, maxRetries drops', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock });
    const attempts: Record<string, number> = {};
    const errors: [string, number][] = [];
    const running = q.run(
      2,
      (key) => {
        attempts[key] = (attempts[key] ?? 0) + 1;
        if (key === 'flaky' && attempts[key] < 3) throw new Error('not yet');
        if (key === 'broken') throw new Error('never');
      },
      { maxRetries: 3, onError: (key, _err, retries) => errors.push([key, retries]) },
    );
    q.add('flaky');
    q.add('broken');
    q.add('fine');
    await settle();
    expect(attempts).toEqual({ flaky: 1, broken: 1, fine: 1 });
    await clock.advance(5);
    expect(attempts).toEqual({ flaky: 2, broken: 2, fine: 1 });
    await clock.advance(10);
    expect(attempts).toEqual({ flaky: 3, broken: 3, fine: 1 });
    expect(q.numRequeues('flaky')).toBe(0); // succeeded: forgotten
    await clock.advance(20);
    expect(attempts.broken).toBe(4);
    await clock.advance(10_000);
    expect(attempts.broken).toBe(4); // dropped after 3 retries
    expect(q.numRequeues('broken')).toBe(0);
    expect(errors).toEqual([
      ['flaky', 0],
      ['broken', 0],
      ['flaky', 1],
      ['broken', 1],
      ['broken', 2],
      ['broken', 3],
    ]);
    q.shutDown();
    await running;
  });

  test('metrics: depth, adds and retries in the given registry, shared by several queues', async () => {
    const registry = new Registry();
    const clock = new FakeClock();
    const q1 = new WorkQueue({ name: 'one', metrics: { registry }, clock });
    const q2 = new WorkQueue({ name: 'two', metrics: { registry }, clock });
    q1.add('a');
    q1.add('b');
    q1.add('a');
    q2.addRateLimited('x');
    const text = await registry.metrics();
    expect(text).toContain('workqueue_depth{name="one"} 2');
    expect(text).toContain('workqueue_adds_total{name="one"} 2');
    expect(text).toContain('workqueue_retries_total{name="two"} 1');
  });
});
