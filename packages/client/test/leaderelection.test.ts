// Leader election against the fake clientset's leases with a fake clock: one of two
// candidates leads; a leader that cannot renew steps down before the other takes over
// after expiry; a graceful release hands over at once; simultaneous writes conflict and
// exactly one candidate wins; a taken-over leader steps down; runUntilStopped leads term
// after term without overlapping the terms' work.
import * as grpc from '@grpc/grpc-js';
import type { coordinationv1 } from '@k8ts/api';
import { ApiError, FakeClock, LeaderElector, settle } from '../src';
import { ObjectTracker, createFakeClientset, type FakeClientset } from '../src/fake';

const NS = 'kube-system';
const NAME = 'kube-scheduler';

interface Candidate {
  id: string;
  cs: FakeClientset;
  elector: LeaderElector;
  stop: AbortController;
  done: Promise<void>;
  events: string[];
  started?: number;
  stopped?: number;
  termSignal?: AbortSignal;
}

function setup() {
  const clock = new FakeClock();
  const tracker = new ObjectTracker(clock);
  const timeline: string[] = [];
  const candidate = (id: string, opts: { start?: boolean } = {}): Candidate => {
    const cs = createFakeClientset({ tracker });
    const c = { id, cs, events: [] as string[], stop: new AbortController() } as Candidate;
    c.elector = new LeaderElector({
      leases: cs.leases,
      namespace: NS,
      name: NAME,
      identity: id,
      clock,
      jitter: 0,
      callbacks: {
        onStartedLeading: (signal) => {
          c.started = clock.now();
          c.termSignal = signal;
          c.events.push('started');
          timeline.push(`${id} started`);
        },
        onStoppedLeading: () => {
          c.stopped = clock.now();
          c.events.push('stopped');
          timeline.push(`${id} stopped`);
        },
        onNewLeader: (leader) => c.events.push(`leader ${leader}`),
      },
    });
    if (opts.start !== false) c.done = c.elector.run(c.stop.signal);
    return c;
  };
  const lease = () => tracker.get('leases', NS, NAME) as coordinationv1.Lease | undefined;
  return { clock, tracker, candidate, lease, timeline };
}

describe('LeaderElector', () => {
  test('the first candidate leads and renews; the second follows and learns the leader', async () => {
    const { clock, candidate, lease } = setup();
    const a = candidate('A');
    await settle();
    expect(a.elector.isLeader()).toBe(true);
    expect(lease()?.spec).toMatchObject({ holderIdentity: 'A', leaseDurationSeconds: 15, leaseTransitions: 0 });
    const b = candidate('B');
    await clock.advance(60_000);
    expect(a.elector.isLeader()).toBe(true);
    expect(b.elector.isLeader()).toBe(false);
    expect(b.elector.getLeader()).toBe('A');
    expect(b.events).toEqual(['leader A']);
    expect(a.events).toEqual(['leader A', 'started']);
    // A renewed all along: the lease's renewTime is recent.
    expect(clock.now() - Date.parse(lease()!.spec!.renewTime!)).toBeLessThanOrEqual(2000);
    expect(lease()!.spec!.renewTime).toMatch(/\.\d{6}Z$/); // MicroTime
    a.stop.abort();
    b.stop.abort();
    await Promise.all([a.done, b.done]);
  });

  test('a leader that cannot renew steps down within renewDeadline; the other takes over only after expiry', async () => {
    const { clock, candidate, lease, timeline } = setup();
    const a = candidate('A');
    await settle();
    const b = candidate('B');
    await clock.advance(10_000);
    // A loses its connection to the apiserver.
    a.cs.prependReactor(() => {
      throw new ApiError(grpc.status.UNAVAILABLE, 'connection refused');
    });
    const lastRenew = Date.parse(lease()!.spec!.renewTime!);
    await clock.advance(30_000);
    await a.done; // run() ends when leadership is lost
    expect(a.elector.isLeader()).toBe(false);
    expect(a.termSignal?.aborted).toBe(true);
    expect(a.stopped! - lastRenew).toBeLessThanOrEqual(10_000);
    expect(b.elector.isLeader()).toBe(true);
    expect(b.started! - lastRenew).toBeGreaterThan(15_000);
    expect(timeline).toEqual(['A started', 'A stopped', 'B started']);
    expect(lease()!.spec).toMatchObject({ holderIdentity: 'B', leaseTransitions: 1 });
    expect(b.events).toEqual(['leader A', 'leader B', 'started']);
    b.stop.abort();
    await b.done;
  });

  test('a graceful stop releases the lease, so the other candidate takes over within one retry period', async () => {
    const { clock, candidate, lease, timeline } = setup();
    const a = candidate('A');
    await settle();
    const b = candidate('B');
    await clock.advance(5_000);
    const released = clock.now();
    a.stop.abort();
    await a.done;
    expect(a.termSignal?.aborted).toBe(true);
    expect(lease()!.spec!.holderIdentity).toBe('');
    await clock.advance(2_000);
    expect(b.elector.isLeader()).toBe(true);
    expect(b.started! - released).toBeLessThanOrEqual(2_000);
    expect(timeline).toEqual(['A started', 'A stopped', 'B started']);
    expect(lease()!.spec).toMatchObject({ holderIdentity: 'B', leaseTransitions: 1 });
    b.stop.abort();
    await b.done;
  });

  test('releaseOnCancel: false keeps the lease until it expires', async () => {
    const { clock, tracker, lease } = setup();
    const cs = createFakeClientset({ tracker });
    const stop = new AbortController();
    const elector = new LeaderElector({
      leases: cs.leases,
      namespace: NS,
      name: NAME,
      identity: 'A',
      clock,
      releaseOnCancel: false,
      callbacks: { onStartedLeading: () => {} },
    });
    const done = elector.run(stop.signal);
    await settle();
    stop.abort();
    await done;
    expect(lease()!.spec!.holderIdentity).toBe('A');
  });

  test('two candidates creating the lease at once: one wins, the other sees AlreadyExists and follows', async () => {
    const { clock, candidate, lease } = setup();
    const a = candidate('A', { start: false });
    const b = candidate('B', { start: false });
    // Both read "not found" before either creates.
    let gets = 0;
    let release!: () => void;
    const bothRead = new Promise<void>((r) => {
      release = r;
    });
    for (const c of [a, b]) {
      c.cs.prependReactor(async (action) => {
        if (action.verb !== 'get') return;
        if (++gets === 2) release();
        await bothRead;
      });
    }
    a.done = a.elector.run(a.stop.signal);
    b.done = b.elector.run(b.stop.signal);
    await settle();
    const creates = [...a.cs.actions, ...b.cs.actions].filter((x) => x.verb === 'create');
    expect(creates).toHaveLength(2);
    expect([a.elector.isLeader(), b.elector.isLeader()].filter(Boolean)).toHaveLength(1);
    await clock.advance(20_000);
    expect([a.elector.isLeader(), b.elector.isLeader()].filter(Boolean)).toHaveLength(1);
    expect(lease()!.spec!.leaseTransitions).toBe(0);
    a.stop.abort();
    b.stop.abort();
    await Promise.all([a.done, b.done]);
  });

  test('two candidates taking over an expired lease at once: the resourceVersion lets exactly one win', async () => {
    const { clock, tracker, candidate, lease } = setup();
    tracker.put('Lease', {
      metadata: { namespace: NS, name: NAME },
      spec: {
        holderIdentity: 'old',
        leaseDurationSeconds: 15,
        renewTime: new Date(clock.now() - 60_000).toISOString(),
        leaseTransitions: 4,
      },
    });
    const a = candidate('A', { start: false });
    const b = candidate('B', { start: false });
    let updates = 0;
    let release!: () => void;
    const bothReady = new Promise<void>((r) => {
      release = r;
    });
    for (const c of [a, b]) {
      c.cs.prependReactor(async (action) => {
        if (action.verb !== 'update') return;
        if (++updates === 2) release();
        await bothReady;
      });
    }
    a.done = a.elector.run(a.stop.signal);
    b.done = b.elector.run(b.stop.signal);
    await settle();
    // Neither takes over before having seen the old holder's record unchanged for 15 s.
    expect(a.elector.isLeader() || b.elector.isLeader()).toBe(false);
    await clock.advance(16_000);
    await settle();
    expect([a.elector.isLeader(), b.elector.isLeader()].filter(Boolean)).toHaveLength(1);
    expect(lease()!.spec!.leaseTransitions).toBe(5);
    expect(lease()!.spec!.holderIdentity).toBe(a.elector.isLeader() ? 'A' : 'B');
    a.stop.abort();
    b.stop.abort();
    await Promise.all([a.done, b.done]);
  });

  test('a leader whose lease was taken over steps down at its next renewal', async () => {
    const { clock, tracker, candidate, lease } = setup();
    const a = candidate('A');
    await settle();
    expect(a.elector.isLeader()).toBe(true);
    const current = lease()!;
    tracker.put('Lease', { ...current, spec: { ...current.spec, holderIdentity: 'intruder', renewTime: new Date(clock.now()).toISOString() } });
    await clock.advance(2_000);
    await a.done;
    expect(a.events).toEqual(['leader A', 'started', 'leader intruder', 'stopped']);
    expect(lease()!.spec!.holderIdentity).toBe('intruder'); // not released: it was not ours
  });

  test('runUntilStopped: after losing the lease it waits for the term\'s work to end, then campaigns again; stopping waits for the last work', async () => {
    const { clock, tracker, lease } = setup();
    const cs = createFakeClientset({ tracker });
    const timeline: string[] = [];
    const finish: (() => void)[] = [];
    const terms: AbortSignal[] = [];
    const elector = new LeaderElector({
      leases: cs.leases,
      namespace: NS,
      name: NAME,
      identity: 'A',
      clock,
      jitter: 0,
      callbacks: {
        onStartedLeading: (signal) => {
          const term = terms.push(signal);
          timeline.push(`started ${term}`);
          // The leader's work ends only when the test says so (a slow shutdown).
          return new Promise<void>((resolve) => finish.push(resolve)).then(() => {
            timeline.push(`work ${term} done`);
          });
        },
        onStoppedLeading: () => timeline.push('stopped'),
      },
    });
    const stop = new AbortController();
    let finished = false;
    const done = elector.runUntilStopped(stop.signal).then(() => {
      finished = true;
    });
    await settle();
    expect(timeline).toEqual(['started 1']);
    // Another candidate takes the lease: A steps down at its next renewal.
    const current = lease()!;
    tracker.put('Lease', { ...current, spec: { ...current.spec, holderIdentity: 'intruder', renewTime: new Date(clock.now()).toISOString() } });
    await clock.advance(2_000);
    expect(terms[0].aborted).toBe(true);
    expect(timeline).toEqual(['started 1', 'stopped']);
    // The intruder's lease expires, but A's first term's work has not ended: no second term yet.
    await clock.advance(60_000);
    expect(timeline).toEqual(['started 1', 'stopped']);
    finish[0]();
    await clock.advance(2_000);
    await clock.advance(2_000);
    expect(timeline).toEqual(['started 1', 'stopped', 'work 1 done', 'started 2']);
    expect(elector.isLeader()).toBe(true);
    expect(lease()!.spec).toMatchObject({ holderIdentity: 'A', leaseTransitions: 1 }); // the intruder's write did not count one
    // Stopping releases the lease but resolves only once the last term's work has ended.
    stop.abort();
    await clock.advance(1_000);
    expect(lease()!.spec!.holderIdentity).toBe('');
    expect(finished).toBe(false);
    finish[1]();
    await done;
    expect(timeline).toEqual(['started 1', 'stopped', 'work 1 done', 'started 2', 'stopped', 'work 2 done']);
    expect(terms).toHaveLength(2);
  });

  test('rejects inconsistent timings', () => {
    const cs = createFakeClientset();
    const base = { leases: cs.leases, namespace: NS, name: NAME, identity: 'A', callbacks: { onStartedLeading: () => {} } };
    expect(() => new LeaderElector({ ...base, leaseDurationMs: 10_000, renewDeadlineMs: 10_000 })).toThrow('renewDeadlineMs');
    expect(() => new LeaderElector({ ...base, retryPeriodMs: 10_000 })).toThrow('retryPeriodMs');
    expect(() => new LeaderElector({ ...base, identity: '' })).toThrow('identity');
  });
});
