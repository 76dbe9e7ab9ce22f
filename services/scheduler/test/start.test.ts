// start() wired to the client library's in-memory fake clientset: informers, binds, events,
// conditions and leader election between two replicas, all in process.
import type { corev1 } from '@k8ts/api';
import { createFakeClientset, type FakeClientset } from '@k8ts/client/fake';
import { start } from '../src/index';
import type { SchedulerFlags, SchedulerService } from '../src/index';
import { node, pod } from './helpers';

const flags = (identity: string, extra: Partial<SchedulerFlags> = {}): SchedulerFlags => ({
  apiserver: 'unused:1',
  listen: '127.0.0.1:0',
  logLevel: 'silent',
  leaseDuration: 1500,
  renewDeadline: 1000,
  retryPeriod: 100,
  identity,
  ...extra,
});

async function until(what: string, fn: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function nodeOf(cs: FakeClientset, name: string): string {
  return ((cs.tracker.get('pods', 'default', name) as corev1.Pod | undefined)?.spec?.nodeName as string) ?? '';
}

function create(cs: FakeClientset, kind: string, obj: corev1.Pod | corev1.Node): void {
  const created = { ...obj, metadata: { ...obj.metadata, resourceVersion: undefined } };
  cs.tracker.put(kind, created);
}

describe('start (with the fake clientset)', () => {
  const services: SchedulerService[] = [];
  afterEach(async () => {
    await Promise.all(services.splice(0).map((s) => s.shutdown()));
  });

  it('binds pending pods, records events and conditions', async () => {
    const cs = createFakeClientset();
    create(cs, 'Node', node('n1', { cpu: '2' }));
    create(cs, 'Node', node('n2', { cpu: '2' }));
    const svc = await start(flags('solo', { leaderElect: false, metricsListen: '127.0.0.1:0' }), { clientset: cs });
    services.push(svc);
    expect(await svc.synced()).toBe(true);
    for (let i = 0; i < 6; i++) create(cs, 'Pod', pod(`p${i}`, { cpu: '500m' }));
    create(cs, 'Pod', pod('huge', { cpu: '8' }));
    await until('six pods bound', () => [0, 1, 2, 3, 4, 5].every((i) => nodeOf(cs, `p${i}`) !== ''));
    const perNode = new Map<string, number>();
    for (let i = 0; i < 6; i++) perNode.set(nodeOf(cs, `p${i}`), (perNode.get(nodeOf(cs, `p${i}`)) ?? 0) + 1);
    expect([...perNode.values()].sort()).toEqual([3, 3]);
    await until('the PodScheduled condition', () => {
      const huge = cs.tracker.get('pods', 'default', 'huge') as corev1.Pod;
      return huge.status?.conditions?.some((c) => c.type === 'PodScheduled' && c.reason === 'Unschedulable') ?? false;
    });
    await until('events', () => {
      const events = cs.tracker.list('events') as corev1.Event[];
      return events.some((e) => e.reason === 'FailedScheduling') && events.filter((e) => e.reason === 'Scheduled').length === 6;
    });
    const failed = (cs.tracker.list('events') as corev1.Event[]).find((e) => e.reason === 'FailedScheduling')!;
    expect(failed.message).toBe('0/2 nodes are available: 2 Insufficient cpu.');
    expect(failed.involvedObject?.name).toBe('huge');
    expect(failed.type).toBe('Warning');
    // the pod that fits nowhere goes as soon as a fitting node is added
    create(cs, 'Node', node('big', { cpu: '16' }));
    await until('huge bound', () => nodeOf(cs, 'huge') === 'big');
    expect(svc.scheduler.cache.assumedPodCount).toBe(0);

    const metrics = await (await fetch(`http://${svc.server.metricsAddress}/metrics`)).text();
    expect(metrics).toMatch(/scheduler_schedule_attempts_total\{result="scheduled",profile="default-scheduler"[^}]*\} 7/);
    expect(metrics).toMatch(/scheduler_schedule_attempts_total\{result="unschedulable",profile="default-scheduler"[^}]*\} [1-9]/);
    expect(metrics).toMatch(/scheduler_pending_pods\{[^}]*queue="unschedulable"[^}]*\} 0/);
    expect(metrics).toMatch(/scheduler_pod_scheduling_duration_seconds_count\{[^}]*profile="default-scheduler"[^}]*\} 7/);
    expect(metrics).toMatch(/scheduler_cache_size\{[^}]*type="nodes"[^}]*\} 3/);
  });

  it('honors a --config file and its scheduler name', async () => {
    const fs = await import('fs');
    const os = await import('os');
    const path = await import('path');
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sched-')), 'config.yaml');
    fs.writeFileSync(file, 'profiles:\n  - schedulerName: special\n');
    const cs = createFakeClientset();
    create(cs, 'Node', node('n1'));
    const svc = await start(flags('special', { leaderElect: false, config: file }), { clientset: cs });
    services.push(svc);
    await svc.synced();
    create(cs, 'Pod', pod('mine', { schedulerName: 'special' }));
    create(cs, 'Pod', pod('default-one'));
    await until('mine bound', () => nodeOf(cs, 'mine') === 'n1');
    await new Promise((r) => setTimeout(r, 100));
    expect(nodeOf(cs, 'default-one')).toBe('');
  });

  it('lets only the leader of two replicas schedule, and fails over', async () => {
    const first = createFakeClientset();
    const second = createFakeClientset({ tracker: first.tracker });
    create(first, 'Node', node('n1', { cpu: '100' }));
    const a = await start(flags('replica-a'), { clientset: first });
    services.push(a);
    await until('a leads', () => a.isLeader());
    const b = await start(flags('replica-b'), { clientset: second });
    services.push(b);
    await b.synced();
    create(first, 'Pod', pod('one'));
    await until('one bound', () => nodeOf(first, 'one') === 'n1');
    expect(b.isLeader()).toBe(false);
    const binds = (cs: FakeClientset) => cs.actions.filter((x) => x.verb === 'bind').length;
    expect(binds(first)).toBe(1);
    expect(binds(second)).toBe(0);
    const lease = first.tracker.get('leases', 'kube-system', 'kube-scheduler') as { spec?: { holderIdentity?: string } };
    expect(lease.spec?.holderIdentity).toBe('replica-a');

    await a.shutdown();
    await until('b leads', () => b.isLeader(), 5000);
    create(first, 'Pod', pod('two'));
    await until('two bound', () => nodeOf(first, 'two') === 'n1');
    expect(binds(second)).toBe(1);
  });
});
