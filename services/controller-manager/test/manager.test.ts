import type { corev1 } from '@k8ts/api';
import { FakeClock, noopLogger } from '@k8ts/client';
import { ObjectTracker, createFakeClientset } from '@k8ts/client/fake';
import { parseConfig } from '@k8ts/kit';
import { Registry } from 'prom-client';
import { controllersFromConfig, flags, settingsFromConfig } from '../src';
import { enabledControllers } from '../src/config';
import { CONTROLLER_NAMES } from '../src/controllers';
import { ControllerManager } from '../src/manager';
import { controllerMetrics } from '../src/metrics';

function config(argv: string[]) {
  return parseConfig<Record<string, any>>('controller-manager', flags, argv, {});
}

describe('configuration', () => {
  test('defaults as Kubernetes has them', () => {
    const c = config([]);
    expect(c).toMatchObject({
      apiserver: '127.0.0.1:6443',
      leaderElect: true,
      leaderElectResourceNamespace: 'kube-system',
      leaderElectResourceName: 'kube-controller-manager',
      nodeMonitorGracePeriod: 40_000,
      nodeMonitorPeriod: 5000,
      clusterCidr: '127.244.0.0/16',
      nodeCidrMaskSize: 24,
      concurrentGcSyncs: 20,
    });
    expect(controllersFromConfig(c as never)).toEqual([...CONTROLLER_NAMES]);
    expect(settingsFromConfig(c as never)).toMatchObject({ nodeEvictionRate: 0.1, unhealthyZoneThreshold: 0.55 });
  });

  test('--controllers: * for all, name to add, -name to leave out; unknown names are errors', () => {
    expect(enabledControllers(['*', '-garbagecollector', '-token'], CONTROLLER_NAMES)).not.toContain('garbagecollector');
    expect(enabledControllers(['replicaset', 'deployment'], CONTROLLER_NAMES)).toEqual(['replicaset', 'deployment']);
    // Kubernetes' names work too.
    expect(enabledControllers(['endpoint', 'serviceaccount-token', 'garbage-collector-controller'], CONTROLLER_NAMES)).toEqual(['endpoints', 'token', 'garbagecollector']);
    expect(() => enabledControllers(['replicasets'], CONTROLLER_NAMES)).toThrow(/unknown controller "replicasets"/);
    expect(controllersFromConfig(config(['--no-allocate-node-cidrs']) as never)).not.toContain('nodeipam');
    expect(() => controllersFromConfig(config(['--leader-elect-renew-deadline', '20s']) as never)).toThrow(/renew-deadline/);
    expect(() => controllersFromConfig(config(['--cluster-cidr', '10.0.0.0/26']) as never)).toThrow(/cluster-cidr/);
    expect(() => config(['--node-eviction-rate', 'fast'])).toThrow(/node-eviction-rate/);
  });
});

describe('controller manager', () => {
  test('two instances: one leads and runs the controllers; when it stops, the other takes over', async () => {
    const clock = new FakeClock();
    const tracker = new ObjectTracker(clock);
    const seed = createFakeClientset({ tracker, clock });
    await seed.namespaces.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'kube-system' }, status: { phase: 'Active' } });
    const settings = settingsFromConfig(config([]) as never);
    const registry = new Registry();
    const make = (identity: string) =>
      new ControllerManager({
        clientset: createFakeClientset({ tracker, clock }),
        controllers: ['serviceaccount'],
        settings,
        identity,
        clock,
        logger: noopLogger,
        metrics: controllerMetrics(registry),
        leaderElection: { namespace: 'kube-system', name: 'kube-controller-manager', leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2000 },
      });
    const a = make('a');
    const b = make('b');
    a.start();
    await clock.advance(100);
    b.start();
    for (let i = 0; i < 20 && !a.isLeader(); i++) await clock.advance(500);
    expect(a.isLeader()).toBe(true);
    expect(b.isLeader()).toBe(false);
    // The leader's service account controller gives kube-system its default account.
    for (let i = 0; i < 20 && !tracker.get('serviceaccounts', 'kube-system', 'default'); i++) await clock.advance(100);
    expect(tracker.get('serviceaccounts', 'kube-system', 'default')).toBeDefined();
    expect((await registry.getSingleMetric('leader_election_master_status')!.get()).values[0].value).toBe(1);
    const stopped = a.stop();
    for (let i = 0; i < 40 && !b.isLeader(); i++) await clock.advance(500);
    await stopped;
    expect(b.isLeader()).toBe(true);
    const lease = tracker.get('leases', 'kube-system', 'kube-controller-manager') as { spec?: { holderIdentity?: string } };
    expect(lease.spec?.holderIdentity).toBe('b');
    // The new leader runs the controllers too.
    await seed.namespaces.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'late' }, status: { phase: 'Active' } } as corev1.Namespace);
    for (let i = 0; i < 20 && !tracker.get('serviceaccounts', 'late', 'default'); i++) await clock.advance(100);
    expect(tracker.get('serviceaccounts', 'late', 'default')).toBeDefined();
    const stoppedB = b.stop();
    await clock.advance(1000);
    await stoppedB;
  });
});
