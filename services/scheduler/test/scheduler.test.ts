import type { corev1 } from '@k8ts/api';
import { SchedulerCache } from '../src/cache/cache';
import { buildFramework, parseSchedulerConfig } from '../src/config';
import { SchedulingQueue } from '../src/queue/queue';
import { Scheduler } from '../src/scheduler';
import type { PodConditionWriter, SchedulerEventRecorder } from '../src/scheduler';
import { FakeBinder, ManualClock, node, pod } from './helpers';

class Events implements SchedulerEventRecorder, PodConditionWriter {
  readonly events: string[] = [];
  readonly conditions: string[] = [];
  event(p: corev1.Pod, type: string, reason: string, message: string): void {
    this.events.push(`${p.metadata?.name} ${type} ${reason}: ${message}`);
  }
  setUnschedulable(p: corev1.Pod, reason: string, message: string): void {
    this.conditions.push(`${p.metadata?.name} ${reason}: ${message}`);
  }
}

function setup(yaml?: string) {
  const clock = new ManualClock();
  const cache = new SchedulerCache({ now: () => clock.now() });
  const binder = new FakeBinder();
  const config = parseSchedulerConfig(yaml);
  const frameworks = new Map(config.profiles.map((p) => [p.schedulerName, buildFramework(p, config, { cache, binder, now: () => clock.now() }, { random: () => 0 })]));
  const queue = new SchedulingQueue({ clock, isRelevant: Scheduler.relevance(Scheduler.pluginEvents(frameworks.values())) });
  const events = new Events();
  const scheduler = new Scheduler({ cache, queue, frameworks, recorder: events, conditions: events, clock });
  return { clock, cache, binder, queue, events, scheduler };
}

/** Runs scheduling cycles until none is left, letting binds finish. */
async function drain(s: Scheduler): Promise<void> {
  for (;;) {
    let worked = false;
    while (s.scheduleOne()) worked = true;
    await s.waitForBinds();
    if (!worked) return;
  }
}

describe('scheduler', () => {
  it('schedules pending pods, assuming each at once so the next sees the node as used', async () => {
    const { scheduler, binder, cache, events } = setup();
    scheduler.onNodeAdd(node('a', { cpu: '1' }));
    scheduler.onNodeAdd(node('b', { cpu: '1' }));
    for (const n of ['p1', 'p2']) scheduler.onPendingPodAdd(pod(n, { cpu: '600m' }));
    // both cycles run before either bind returns
    expect(scheduler.scheduleOne()).toBe(true);
    expect(scheduler.scheduleOne()).toBe(true);
    expect(scheduler.inflightBinds).toBe(2);
    await scheduler.waitForBinds();
    const nodes = binder.bound.map(([, n]) => n).sort();
    expect(nodes).toEqual(['a', 'b']);
    expect(cache.assumedPodCount).toBe(2);
    expect(events.events.sort()).toEqual([
      `p1 Normal Scheduled: Successfully assigned default/p1 to ${binder.bound.find(([k]) => k === 'default/p1')![1]}`,
      `p2 Normal Scheduled: Successfully assigned default/p2 to ${binder.bound.find(([k]) => k === 'default/p2')![1]}`,
    ]);
    // the watch confirms the assumptions
    for (const [key, n] of binder.bound) scheduler.onAssignedPodAdd(pod(key.split('/')[1], { cpu: '600m', nodeName: n }));
    expect(cache.assumedPodCount).toBe(0);
    expect(scheduler.stats.scheduled).toBe(2);
  });

  it('reports pods that fit nowhere, and schedules them when a fitting node arrives', async () => {
    const { scheduler, binder, queue, events, clock } = setup();
    scheduler.onNodeAdd(node('small', { cpu: '1' }));
    scheduler.onPendingPodAdd(pod('big', { cpu: '2' }));
    await drain(scheduler);
    expect(binder.bound).toEqual([]);
    expect(events.events).toEqual(['big Warning FailedScheduling: 0/1 nodes are available: 1 Insufficient cpu.']);
    expect(events.conditions).toEqual(['big Unschedulable: 0/1 nodes are available: 1 Insufficient cpu.']);
    expect(queue.location('default/big')).toBe('unschedulable');
    // a label change cannot help NodeResourcesFit: the pod stays put
    scheduler.onNodeUpdate(node('small', { cpu: '1' }), node('small', { cpu: '1', labels: { x: 'y' } }));
    expect(queue.location('default/big')).toBe('unschedulable');
    scheduler.onNodeAdd(node('large', { cpu: '4' }));
    // still within its 1 s backoff: it waits in backoff, then goes
    expect(queue.location('default/big')).toBe('backoff');
    clock.advance(1000);
    await drain(scheduler);
    expect(binder.bound).toEqual([['default/big', 'large']]);
  });

  it('gives resources back and retries with backoff when a bind fails', async () => {
    const { scheduler, binder, cache, queue, clock, events } = setup();
    scheduler.onNodeAdd(node('a', { cpu: '1' }));
    binder.fail = () => Object.assign(new Error('apiserver unavailable'), { code: 14 });
    scheduler.onPendingPodAdd(pod('p', { cpu: '1' }));
    await drain(scheduler);
    expect(cache.pod('default/p')).toBeUndefined();
    expect(cache.node('a')!.requested.milliCpu).toBe(0);
    expect(queue.location('default/p')).toBe('backoff');
    expect(events.events).toEqual(['p Warning FailedScheduling: Binding rejected: apiserver unavailable']);
    binder.fail = undefined;
    clock.advance(1000);
    await drain(scheduler);
    expect(binder.bound).toEqual([['default/p', 'a']]);
  });

  it('drops a pod whose bind fails because it is gone', async () => {
    const { scheduler, binder, queue } = setup();
    scheduler.onNodeAdd(node('a'));
    binder.fail = () => Object.assign(new Error('pods "p" not found'), { code: 5 });
    scheduler.onPendingPodAdd(pod('p'));
    await drain(scheduler);
    expect(queue.location('default/p')).toBeUndefined();
  });

  it('frees room when bound pods are deleted, retrying unschedulable pods', async () => {
    const { scheduler, binder, clock } = setup();
    scheduler.onNodeAdd(node('a', { cpu: '1' }));
    const hog = pod('hog', { cpu: '1', nodeName: 'a' });
    scheduler.onAssignedPodAdd(hog);
    scheduler.onPendingPodAdd(pod('p', { cpu: '1' }));
    await drain(scheduler);
    expect(binder.bound).toEqual([]);
    clock.advance(5000);
    scheduler.onAssignedPodDelete(hog);
    await drain(scheduler);
    expect(binder.bound).toEqual([['default/p', 'a']]);
  });

  it('spreads replicas with required anti-affinity and reports when no node is left', async () => {
    const { scheduler, binder, events } = setup();
    for (const n of ['a', 'b', 'c']) scheduler.onNodeAdd(node(n));
    const anti: corev1.Affinity = {
      podAntiAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'web' } }, topologyKey: 'kubernetes.io/hostname' }],
      },
    };
    for (let i = 0; i < 4; i++) scheduler.onPendingPodAdd(pod(`web-${i}`, { labels: { app: 'web' }, affinity: anti }));
    await drain(scheduler);
    expect(binder.bound.map(([, n]) => n).sort()).toEqual(['a', 'b', 'c']);
    expect(events.events.filter((e) => e.includes('FailedScheduling'))).toEqual([
      "web-3 Warning FailedScheduling: 0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules.",
    ]);
  });

  it('ignores pods of other schedulers, bound pods, and pods deleted while queued', async () => {
    const { scheduler, binder, queue } = setup();
    scheduler.onNodeAdd(node('a'));
    scheduler.onPendingPodAdd(pod('theirs', { schedulerName: 'other-scheduler' }));
    const mine = pod('mine');
    scheduler.onPendingPodAdd(mine);
    scheduler.onPendingPodDelete(mine);
    expect(queue.counts().active).toBe(0);
    scheduler.onPendingPodAdd(pod('later'));
    scheduler.onPendingPodUpdate(pod('later'), pod('later', { nodeName: 'a' }));
    await drain(scheduler);
    expect(binder.bound).toEqual([]);
    expect(scheduler.cache.pod('default/later')?.nodeName).toBe('a');
  });

  it('schedules by priority', async () => {
    const { scheduler, binder } = setup();
    scheduler.onNodeAdd(node('a', { cpu: '1' }));
    scheduler.onPendingPodAdd(pod('low', { cpu: '1', priority: 1 }));
    scheduler.onPendingPodAdd(pod('high', { cpu: '1', priority: 1000 }));
    await drain(scheduler);
    expect(binder.bound).toEqual([['default/high', 'a']]);
  });

  it('runs as a loop until stopped', async () => {
    const { scheduler, binder } = setup();
    scheduler.onNodeAdd(node('a'));
    const stop = new AbortController();
    const running = scheduler.run(stop.signal);
    for (let i = 0; i < 50; i++) scheduler.onPendingPodAdd(pod(`p${i}`));
    while (binder.bound.length < 50) await new Promise((r) => setTimeout(r, 5));
    stop.abort();
    await running;
    expect(binder.bound.length).toBe(50);
  });
});
