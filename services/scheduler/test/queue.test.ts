import { SchedulingQueue } from '../src/queue/queue';
import { PodInfo } from '../src/podinfo';
import { ManualClock, info, pod } from './helpers';

function popAll(q: SchedulingQueue): string[] {
  const out: string[] = [];
  for (let qpi = q.pop(); qpi; qpi = q.pop()) out.push(qpi.podInfo.name);
  return out;
}

describe('scheduling queue', () => {
  let clock: ManualClock;
  let q: SchedulingQueue;
  beforeEach(() => {
    clock = new ManualClock();
    q = new SchedulingQueue({ clock });
  });
  afterEach(() => q.close());

  it('pops by priority, then first in first out', () => {
    q.add(info('low-1', { priority: 0 }));
    clock.advance(1);
    q.add(info('high', { priority: 100 }));
    clock.advance(1);
    q.add(info('low-2', { priority: 0 }));
    q.add(info('mid', { priority: 10 }));
    q.add(info('low-3', { priority: 0 }));
    expect(popAll(q)).toEqual(['high', 'mid', 'low-1', 'low-2', 'low-3']);
    expect(q.counts()).toMatchObject({ active: 0, inflight: 5 });
  });

  it('backs off 1 s doubling to 10 s', () => {
    expect([1, 2, 3, 4, 5, 6].map((a) => q.backoffDuration(a))).toEqual([1000, 2000, 4000, 8000, 10_000, 10_000]);
    const custom = new SchedulingQueue({ clock, initialBackoffMs: 100, maxBackoffMs: 250 });
    expect([1, 2, 3].map((a) => custom.backoffDuration(a))).toEqual([100, 200, 250]);
    custom.close();
  });

  it('retries a pod that failed with an error after its backoff', () => {
    q.add(info('p'));
    const qpi = q.pop()!;
    q.requeueFailed(qpi, q.schedulingCycle, []);
    expect(q.location('default/p')).toBe('backoff');
    clock.advance(999);
    expect(q.pop()).toBeUndefined();
    clock.advance(1);
    expect(q.location('default/p')).toBe('active');
    const again = q.pop()!;
    expect(again.attempts).toBe(2);
    q.requeueFailed(again, q.schedulingCycle, []);
    clock.advance(1999);
    expect(q.location('default/p')).toBe('backoff');
    clock.advance(1);
    expect(q.location('default/p')).toBe('active');
  });

  it('parks unschedulable pods until a relevant cluster event', () => {
    const relevant = new SchedulingQueue({
      clock,
      isRelevant: (qpi, event) => qpi.unschedulablePlugins.has('NodeResourcesFit') && event === 'NodeAdd',
    });
    relevant.add(info('p'));
    const qpi = relevant.pop()!;
    relevant.requeueFailed(qpi, relevant.schedulingCycle, ['NodeResourcesFit']);
    expect(relevant.location('default/p')).toBe('unschedulable');
    clock.advance(20_000);
    expect(relevant.location('default/p')).toBe('unschedulable');
    expect(relevant.moveAllToActiveOrBackoff('NodeLabelChange')).toBe(0);
    expect(relevant.moveAllToActiveOrBackoff('NodeAdd')).toBe(1);
    // its backoff (1 s after the failure) is long over: straight to active
    expect(relevant.location('default/p')).toBe('active');
    relevant.close();
  });

  it('moves a pod still backing off to the backoff queue, not active', () => {
    q.add(info('p'));
    const qpi = q.pop()!;
    q.requeueFailed(qpi, q.schedulingCycle, ['NodeResourcesFit']);
    clock.advance(500);
    q.moveAllToActiveOrBackoff('NodeAdd');
    expect(q.location('default/p')).toBe('backoff');
    clock.advance(500);
    expect(q.location('default/p')).toBe('active');
  });

  it('does not lose an event that arrives while the pod is being scheduled', () => {
    q.add(info('p'));
    const qpi = q.pop()!;
    const cycle = q.schedulingCycle;
    q.moveAllToActiveOrBackoff('NodeAdd'); // e.g. a node arrived during the cycle
    q.requeueFailed(qpi, cycle, ['NodeResourcesFit']);
    expect(q.location('default/p')).toBe('backoff');
  });

  it('retries long-unschedulable pods without an event', () => {
    const short = new SchedulingQueue({ clock, maxUnschedulableMs: 60_000, unschedulableFlushIntervalMs: 30_000 });
    short.add(info('p'));
    short.requeueFailed(short.pop()!, short.schedulingCycle, ['X']);
    clock.advance(30_000);
    expect(short.location('default/p')).toBe('unschedulable');
    clock.advance(30_000);
    expect(short.location('default/p')).toBe('active');
    short.close();
  });

  it('deletes, updates and gates pods', () => {
    q.add(info('a'));
    q.add(info('b'));
    q.delete('default/a');
    q.add(info('gated', { gates: ['wait'] }));
    expect(q.counts()).toMatchObject({ active: 1, gated: 1 });
    q.update(info('gated'));
    expect(q.location('default/gated')).toBe('active');
    expect(popAll(q)).toEqual(['b', 'gated']);
  });

  it('moves an unschedulable pod when its spec changes, not when only its status does', () => {
    q.add(info('p'));
    q.requeueFailed(q.pop()!, q.schedulingCycle, ['X']);
    clock.advance(5000);
    const statusOnly = pod('p');
    statusOnly.status = { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False' }] };
    q.update(new PodInfo(statusOnly));
    expect(q.location('default/p')).toBe('unschedulable');
    q.update(info('p', { cpu: '1' }));
    expect(q.location('default/p')).toBe('active');
  });

  it('forgets a pod when done, and wakes waiters when a pod becomes active', async () => {
    let woke = false;
    const waiting = q.whenActive().then(() => (woke = true));
    await Promise.resolve();
    expect(woke).toBe(false);
    q.add(info('p'));
    await waiting;
    expect(woke).toBe(true);
    const qpi = q.pop()!;
    q.done(qpi.key);
    expect(q.location('default/p')).toBeUndefined();
    // a late failure report of a forgotten pod is ignored
    q.requeueFailed(qpi, 1, []);
    expect(q.location('default/p')).toBeUndefined();
  });
});
