// Two scheduler replicas: one holds the kube-system/kube-scheduler Lease and schedules, the
// other waits; when the leader dies (SIGKILL: no release), the other takes over once the
// lease expires, and when a leader stops cleanly it releases the lease at once.
import { eventually, nodeObject, nodeOf, podObject, startCluster } from './harness';
import type { Cluster, SchedulerProcess } from './harness';

const ELECTION = ['--lease-duration', '3s', '--renew-deadline', '2s', '--retry-period', '300ms'];

describe('scheduler leader election (real processes)', () => {
  let c: Cluster;

  beforeAll(async () => {
    c = await startCluster();
    await c.admin.nodes.create(nodeObject('n1', { cpu: '64', pods: '500' }));
  }, 120_000);

  afterAll(async () => {
    await c?.stop();
  });

  const holder = async () => (await c.admin.leases.get('kube-scheduler', { namespace: 'kube-system' })).spec?.holderIdentity ?? '';
  /** Leadership terms a replica started scheduling in. */
  const terms = (s: SchedulerProcess) => (s.logs().match(/"msg":"scheduling"/g) ?? []).length;
  /** Which replica reported the Scheduled event of a pod (events carry the reporting instance). */
  const scheduledBy = async (pod: string) =>
    (await c.admin.events.list({ namespace: 'default' })).items.find((e) => e.involvedObject?.name === pod && e.reason === 'Scheduled')
      ?.reportingInstance;

  it('schedules with one leader of two replicas, and fails over', async () => {
    const a = await c.startScheduler(ELECTION, 'replica-a');
    await eventually('replica-a holds the lease', async () => (await holder()) === 'replica-a');
    const b = await c.startScheduler(ELECTION, 'replica-b');
    await eventually('replica-b synced', () => /"msg":"informers synced"/.test(b.logs()));

    for (let i = 0; i < 5; i++) await c.admin.pods.create(podObject(`before-${i}`));
    await eventually('pods bound by the leader', async () => {
      for (let i = 0; i < 5; i++) if ((await nodeOf(c.admin, `before-${i}`)) !== 'n1') return false;
      return true;
    });
    expect(terms(a)).toBe(1);
    expect(terms(b)).toBe(0);
    expect(await holder()).toBe('replica-a');
    for (let i = 0; i < 5; i++) expect(await eventually('the Scheduled event', () => scheduledBy(`before-${i}`))).toBe('replica-a');

    // The leader dies without releasing the lease: replica-b takes over after it expires.
    await a.stop('SIGKILL');
    await eventually('replica-b holds the lease', async () => (await holder()) === 'replica-b', 20_000);
    await c.admin.pods.create(podObject('after-kill'));
    await eventually('after-kill bound', async () => (await nodeOf(c.admin, 'after-kill')) === 'n1');
    expect(terms(b)).toBe(1);
    expect(await eventually('the Scheduled event', () => scheduledBy('after-kill'))).toBe('replica-b');

    // A clean stop releases the lease: a new replica takes over without waiting for expiry.
    const c2 = await c.startScheduler(ELECTION, 'replica-c');
    await eventually('replica-c synced', () => /"msg":"informers synced"/.test(c2.logs()));
    expect(await holder()).toBe('replica-b');
    await b.stop('SIGTERM');
    await eventually('replica-c holds the lease', async () => (await holder()) === 'replica-c', 20_000);
    await c.admin.pods.create(podObject('after-stop'));
    await eventually('after-stop bound', async () => (await nodeOf(c.admin, 'after-stop')) === 'n1');
    expect(await eventually('the Scheduled event', () => scheduledBy('after-stop'))).toBe('replica-c');
  }, 120_000);
});
