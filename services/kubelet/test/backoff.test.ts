import { Backoff, backoffDelay, DEFAULT_BACKOFF, formatGoDuration } from '../src/pod/backoff';

describe('crash loop back-off', () => {
  it('is 10 s doubling to 300 s by default', () => {
    const delays = [1, 2, 3, 4, 5, 6, 7, 8].map((n) => backoffDelay(DEFAULT_BACKOFF, n));
    expect(delays).toEqual([10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000, 300_000]);
    expect(backoffDelay(DEFAULT_BACKOFF, 0)).toBe(0);
    expect(backoffDelay(DEFAULT_BACKOFF, 10_000)).toBe(300_000);
  });

  it('restarts at once after the first exit, then waits base, 2·base, … up to cap', () => {
    const b = new Backoff({ baseMs: 100, capMs: 450, resetAfterMs: 60_000 });
    const seq = [1, 2, 3, 4, 5, 6].map(() => b.onExit('web', 5));
    expect(seq).toEqual([0, 100, 200, 400, 450, 450]);
    expect(b.count('web')).toBe(6);
  });

  it('starts over after a container ran for resetAfter', () => {
    const b = new Backoff({ baseMs: 100, capMs: 1000, resetAfterMs: 10_000 });
    b.onExit('web', 5);
    b.onExit('web', 5);
    expect(b.onExit('web', 5)).toBe(200);
    expect(b.onExit('web', 10_000)).toBe(0);
    expect(b.onExit('web', 5)).toBe(100);
  });

  it('keeps containers apart, and reset forgets one', () => {
    const b = new Backoff({ baseMs: 100, capMs: 1000, resetAfterMs: 10_000 });
    b.onExit('a', 1);
    b.onExit('a', 1);
    expect(b.onExit('b', 1)).toBe(0);
    b.reset('a');
    expect(b.onExit('a', 1)).toBe(0);
  });

  it('waits from the first failure for image pulls', () => {
    const b = new Backoff({ baseMs: 100, capMs: 300, resetAfterMs: 10_000 });
    expect([1, 2, 3, 4].map(() => b.onFailure('pull'))).toEqual([100, 200, 300, 300]);
  });

  it('formats durations as Kubernetes messages do', () => {
    expect(formatGoDuration(10_000)).toBe('10s');
    expect(formatGoDuration(160_000)).toBe('2m40s');
    expect(formatGoDuration(300_000)).toBe('5m0s');
    expect(formatGoDuration(300)).toBe('300ms');
    expect(formatGoDuration(1200)).toBe('1.2s');
  });
});
