import type { corev1 } from '@k8ts/api';
import { deepCopy } from '@k8ts/client';
import { EndpointsController, findPort, repackSubsets } from '../src/controllers/endpoints';
import { harness, pod } from './helpers';

type H = ReturnType<typeof harness>;

function service(name: string, ports: corev1.ServicePort[], extra: Partial<corev1.ServiceSpec> = {}): corev1.Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: 'default', labels: { tier: 'front' } },
    spec: { selector: { app: 'web' }, ports, clusterIP: '127.96.0.10', ...extra },
  };
}

function endpoints(h: H, name = 'web'): corev1.Endpoints | undefined {
  return h.cs.tracker.get('endpoints', 'default', name) as corev1.Endpoints | undefined;
}

const HTTP: corev1.ServicePort = { name: 'http', port: 80, targetPort: { strVal: 'http' }, protocol: 'TCP' };

describe('endpoints controller', () => {
  test('ready pods in addresses, not-ready in notReadyAddresses, with targetRef and nodeName; pods without IP left out', async () => {
    const h = harness([
      service('web', [HTTP]),
      pod('a', 'web', { node: 'n1', ip: '127.244.1.2', ready: true }),
      pod('b', 'web', { node: 'n2', ip: '127.244.2.2', ready: false }),
      pod('no-ip', 'web', { node: 'n2', ready: true }),
      pod('other', 'db', { node: 'n1', ip: '127.244.1.3', ready: true }),
    ]);
    const c = new EndpointsController(h.ctx);
    await h.start();
    await c.reconcile('default/web');
    const ep = endpoints(h)!;
    expect(ep.metadata?.labels).toEqual({ tier: 'front' });
    expect(ep.subsets).toEqual([
      {
        addresses: [{ ip: '127.244.1.2', nodeName: 'n1', targetRef: { kind: 'Pod', namespace: 'default', name: 'a', uid: 'uid-a' } }],
        notReadyAddresses: [{ ip: '127.244.2.2', nodeName: 'n2', targetRef: { kind: 'Pod', namespace: 'default', name: 'b', uid: 'uid-b' } }],
        ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      },
    ]);
    await h.stop();
  });

  test('named target ports resolve per pod: pods with different port numbers land in different subsets', async () => {
    const other = pod('b', 'web', { node: 'n1', ip: '127.244.1.3', ready: true });
    other.spec!.containers![0].ports = [{ name: 'http', containerPort: 9090, protocol: 'TCP' }];
    const h = harness([
      service('web', [HTTP, { name: 'metrics', port: 9100, targetPort: { intVal: 9100 }, protocol: 'TCP' }]),
      pod('a', 'web', { node: 'n1', ip: '127.244.1.2', ready: true }),
      other,
    ]);
    const c = new EndpointsController(h.ctx);
    await h.start();
    await c.reconcile('default/web');
    const subsets = endpoints(h)!.subsets!;
    expect(subsets).toHaveLength(2);
    const byIp = Object.fromEntries(subsets.map((s) => [s.addresses![0].ip, s.ports!.map((p) => `${p.name}:${p.port}`).sort()]));
    expect(byIp).toEqual({ '127.244.1.2': ['http:8080', 'metrics:9100'], '127.244.1.3': ['http:9090', 'metrics:9100'] });
    await h.stop();
  });

  test('publishNotReadyAddresses puts every pod with an IP in addresses, even one being deleted', async () => {
    const h = harness([
      service('web', [HTTP], { publishNotReadyAddresses: true }),
      pod('a', 'web', { ip: '127.244.1.2', ready: false }),
      pod('b', 'web', { ip: '127.244.1.3', ready: true, deleting: true }),
    ]);
    const c = new EndpointsController(h.ctx);
    await h.start();
    await c.reconcile('default/web');
    expect(endpoints(h)!.subsets![0].addresses!.map((a) => a.ip)).toEqual(['127.244.1.2', '127.244.1.3']);
    expect(endpoints(h)!.subsets![0].notReadyAddresses).toEqual([]);
    await h.stop();
  });

  test('finished and terminating pods are not endpoints', async () => {
    const h = harness([
      service('web', [HTTP]),
      pod('done', 'web', { ip: '127.244.1.2', ready: false, phase: 'Succeeded' }),
      pod('going', 'web', { ip: '127.244.1.3', ready: true, deleting: true }),
    ]);
    const c = new EndpointsController(h.ctx);
    await h.start();
    await c.reconcile('default/web');
    expect(endpoints(h)!.subsets).toEqual([]);
    await h.stop();
  });

  test('running: readiness changes show at once; a deleted Service takes its Endpoints along', async () => {
    const h = harness([service('web', [HTTP]), pod('a', 'web', { ip: '127.244.1.2', ready: false })]);
    const c = new EndpointsController(h.ctx);
    await h.start();
    h.run(c);
    await h.until(() => (endpoints(h)?.subsets?.[0]?.notReadyAddresses ?? []).length === 1);
    const p = deepCopy(h.cs.tracker.get('pods', 'default', 'a') as corev1.Pod);
    p.status!.conditions = [{ type: 'Ready', status: 'True' }];
    await h.cs.pods.updateStatus(p);
    await h.until(() => (endpoints(h)?.subsets?.[0]?.addresses ?? []).length === 1);
    // A new pod joins, a pod leaves.
    await h.cs.pods.create(pod('b', 'web', { ip: '127.244.1.9', ready: true }));
    await h.until(() => (endpoints(h)?.subsets?.[0]?.addresses ?? []).length === 2);
    await h.cs.pods.delete('a', { namespace: 'default' });
    await h.until(() => JSON.stringify(endpoints(h)?.subsets?.[0]?.addresses?.map((a) => a.ip)) === '["127.244.1.9"]');
    // Someone deletes the Endpoints: they come back.
    await h.cs.endpoints.delete('web', { namespace: 'default' });
    await h.until(() => !!endpoints(h));
    await h.cs.services.delete('web', { namespace: 'default' });
    await h.until(() => !endpoints(h));
    await h.stop();
  });

  test('services without a selector are left alone; headless services get the headless label and hostnames', async () => {
    const hostPod = pod('a', 'web', { ip: '127.244.1.2', ready: true });
    hostPod.spec!.hostname = 'a';
    hostPod.spec!.subdomain = 'web';
    const h = harness([
      { ...service('manual', [HTTP]), spec: { ports: [HTTP] } },
      service('web', [], { clusterIP: 'None' }),
      hostPod,
    ]);
    const c = new EndpointsController(h.ctx);
    await h.start();
    await c.reconcile('default/manual');
    expect(endpoints(h, 'manual')).toBeUndefined();
    await c.reconcile('default/web');
    const ep = endpoints(h)!;
    expect(ep.metadata?.labels).toMatchObject({ 'service.kubernetes.io/headless': '' });
    expect(ep.subsets?.[0].addresses?.[0]).toMatchObject({ ip: '127.244.1.2', hostname: 'a' });
    await h.stop();
  });

  test('findPort and repackSubsets', () => {
    const p = pod('a', 'web', {});
    expect(findPort(p, { port: 80, targetPort: { intVal: 8081 } })).toBe(8081);
    expect(findPort(p, { port: 80 })).toBe(80);
    expect(findPort(p, { port: 80, targetPort: { strVal: 'http' } })).toBe(8080);
    expect(findPort(p, { port: 80, targetPort: { strVal: 'http' }, protocol: 'UDP' })).toBeUndefined();
    const addr = (ip: string) => ({ ip, targetRef: { uid: ip } });
    const ports = [{ name: 'x', port: 1, protocol: 'TCP' }];
    const subsets = repackSubsets([
      { address: addr('2'), ready: true, ports },
      { address: addr('1'), ready: false, ports },
    ]);
    expect(subsets).toEqual([{ addresses: [addr('2')], notReadyAddresses: [addr('1')], ports }]);
  });
});
