// The event recorder: Event contents, aggregation of repeats (count, lastTimestamp) within
// the window, coalescing of bursts, a bounded queue, and never throwing into the caller.
import * as grpc from '@grpc/grpc-js';
import type { corev1 } from '@k8ts/api';
import { ApiError, FakeClock, createEventRecorder, settle } from '../src';
import { createFakeClientset } from '../src/fake';
import type { Logger } from '../src';

const pod: corev1.Pod = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { namespace: 'web', name: 'web-1', uid: 'uid-1', resourceVersion: '7' },
};
const node: corev1.Node = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-1', uid: 'uid-n' } };

function setup(opts: { windowMs?: number; maxQueue?: number } = {}) {
  const clock = new FakeClock();
  const cs = createFakeClientset({ clock });
  const warnings: string[] = [];
  const logger: Logger = { debug() {}, info() {}, warn: (_f, m) => warnings.push(m ?? ''), error: (_f, m) => warnings.push(m ?? '') };
  const recorder = createEventRecorder({
    events: cs.events,
    component: 'default-scheduler',
    host: 'cp-1',
    clock,
    logger,
    aggregateWindowMs: opts.windowMs,
    maxQueue: opts.maxQueue,
  });
  const events = () => cs.tracker.list('events') as corev1.Event[];
  return { clock, cs, recorder, events, warnings };
}

describe('event recorder', () => {
  test('creates a core/v1 Event about the object', async () => {
    const { clock, recorder, events } = setup();
    recorder.event(pod, 'Normal', 'Scheduled', 'Successfully assigned web/web-1 to node-1');
    await recorder.flush();
    const [e] = events();
    expect(e).toMatchObject({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { namespace: 'web' },
      involvedObject: { kind: 'Pod', apiVersion: 'v1', namespace: 'web', name: 'web-1', uid: 'uid-1', resourceVersion: '7' },
      reason: 'Scheduled',
      message: 'Successfully assigned web/web-1 to node-1',
      type: 'Normal',
      source: { component: 'default-scheduler', host: 'cp-1' },
      reportingComponent: 'default-scheduler',
      reportingInstance: 'cp-1',
      count: 1,
      firstTimestamp: new Date(clock.now()).toISOString(),
      lastTimestamp: new Date(clock.now()).toISOString(),
    });
    expect(e.metadata?.name).toMatch(/^web-1\.[0-9a-f]+$/);
  });

  test('repeats within the window update count and lastTimestamp of the same Event', async () => {
    const { clock, recorder, events } = setup();
    const first = clock.now();
    recorder.event(pod, 'Warning', 'BackOff', 'Back-off restarting failed container');
    await recorder.flush();
    await clock.advance(30_000);
    recorder.event(pod, 'Warning', 'BackOff', 'Back-off restarting failed container');
    await recorder.flush();
    await clock.advance(60_000);
    recorder.event({ ...pod, metadata: { ...pod.metadata, resourceVersion: '9' } }, 'Warning', 'BackOff', 'Back-off restarting failed container');
    await recorder.flush();
    const all = events();
    expect(all).toHaveLength(1);
    expect(all[0]).toMatchObject({
      count: 3,
      firstTimestamp: new Date(first).toISOString(),
      lastTimestamp: new Date(clock.now()).toISOString(),
    });
  });

  test('a burst is coalesced into one write', async () => {
    const { cs, recorder, events } = setup();
    for (let i = 0; i < 5; i++) recorder.event(pod, 'Warning', 'FailedScheduling', '0/3 nodes are available');
    await recorder.flush();
    expect(events()).toHaveLength(1);
    expect(events()[0].count).toBe(5);
    expect(cs.actions.filter((a) => a.resource === 'events')).toHaveLength(1);
  });

  test('a different reason, message, type or object is a different Event', async () => {
    const { recorder, events } = setup();
    recorder.event(pod, 'Normal', 'Pulled', 'image a');
    recorder.event(pod, 'Normal', 'Pulled', 'image b');
    recorder.event(pod, 'Normal', 'Created', 'image a');
    recorder.event(pod, 'Warning', 'Pulled', 'image a');
    recorder.event({ ...pod, metadata: { ...pod.metadata, name: 'web-2', uid: 'uid-2' } }, 'Normal', 'Pulled', 'image a');
    await recorder.flush();
    expect(events()).toHaveLength(5);
  });

  test('after the window a repeat starts a new Event', async () => {
    const { clock, recorder, events } = setup({ windowMs: 60_000 });
    recorder.event(pod, 'Normal', 'Pulled', 'x');
    await recorder.flush();
    await clock.advance(61_000);
    recorder.event(pod, 'Normal', 'Pulled', 'x');
    await recorder.flush();
    expect(events().map((e) => e.count)).toEqual([1, 1]);
  });

  test('events about cluster-scoped objects and bare references go to the default namespace', async () => {
    const { recorder, events } = setup();
    recorder.event(node, 'Normal', 'NodeReady', 'Node node-1 status is now: NodeReady');
    recorder.event({ kind: 'Node', name: 'node-2' }, 'Warning', 'NodeNotReady', 'gone');
    await recorder.flush();
    expect(events().map((e) => [e.metadata?.namespace, e.involvedObject?.name])).toEqual([
      ['default', 'node-1'],
      ['default', 'node-2'],
    ]);
  });

  test('an Event that vanished (TTL) before a repeat is created anew', async () => {
    const { cs, recorder, events } = setup();
    recorder.event(pod, 'Normal', 'Pulled', 'x');
    await recorder.flush();
    const [e] = events();
    cs.tracker.remove('Event', 'web', e.metadata!.name!);
    recorder.event(pod, 'Normal', 'Pulled', 'x');
    await recorder.flush();
    expect(events()).toHaveLength(1);
    expect(events()[0].count).toBe(1);
  });

  test('never throws into the caller: failed writes are logged and dropped', async () => {
    const { cs, recorder, events, warnings } = setup();
    const remove = cs.prependReactor(() => {
      throw new ApiError(grpc.status.UNAVAILABLE, 'apiserver down');
    });
    expect(() => recorder.event(pod, 'Normal', 'Pulled', 'x')).not.toThrow();
    expect(() => recorder.event(null as unknown as corev1.Pod, 'Normal', 'Pulled', 'x')).not.toThrow();
    await recorder.flush();
    expect(events()).toHaveLength(0);
    expect(warnings).toContain('events: cannot write an event');
    remove();
    recorder.event(pod, 'Normal', 'Pulled', 'y');
    await recorder.flush();
    expect(events()).toHaveLength(1);
  });

  test('the queue is bounded: while writes are stuck, distinct events beyond maxQueue are dropped', async () => {
    const { cs, recorder, events } = setup({ maxQueue: 3 });
    let unblock!: () => void;
    const blocked = new Promise<void>((r) => {
      unblock = r;
    });
    cs.prependReactor(() => blocked);
    recorder.event(pod, 'Normal', 'R0', 'm'); // taken by the writer at once
    await settle();
    // event() is synchronous: it returns without waiting for the stuck writer.
    for (let i = 1; i <= 10; i++) recorder.event(pod, 'Normal', `R${i}`, 'm');
    expect(recorder.dropped).toBe(7);
    unblock();
    await recorder.flush();
    expect(events().map((e) => e.reason).sort()).toEqual(['R0', 'R1', 'R2', 'R3']);
  });

  test('close stops accepting events after flushing', async () => {
    const { recorder, events } = setup();
    recorder.event(pod, 'Normal', 'A', 'm');
    await recorder.close();
    recorder.event(pod, 'Normal', 'B', 'm');
    await recorder.flush();
    expect(events().map((e) => e.reason)).toEqual(['A']);
  });
});
