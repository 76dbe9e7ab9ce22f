// The control loop without sockets: a fake engine records what it is given. The sources
// are the in-memory one and the informer-backed one over @k8ts/client's fake clientset.
import type { corev1 } from '@k8ts/api';
import { createFakeClientset } from '@k8ts/client/fake';
import pino from 'pino';
import type { ProxyEngine } from '../src/engine';
import { InformerSource } from '../src/informer-source';
import { describeBindError } from '../src/listener';
import { Proxier } from '../src/proxier';
import type { ServicePortRule } from '../src/rules';
import { MemorySource } from '../src/source';

class RecordingEngine {
  snapshots: ServicePortRule[][] = [];
  apply(rules: readonly ServicePortRule[]): Promise<void> {
    this.snapshots.push([...rules]);
    return Promise.resolve();
  }
  get last(): ServicePortRule[] {
    return this.snapshots[this.snapshots.length - 1] ?? [];
  }
}

const logger = pino({ level: 'silent' });

function svc(name: string, clusterIP: string): corev1.Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: 'default' },
    spec: { clusterIP, ports: [{ port: 80, targetPort: { intVal: 8080 } }] },
  };
}

function eps(name: string, ips: string[]): corev1.Endpoints {
  return {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name, namespace: 'default' },
    subsets: [{ addresses: ips.map((ip) => ({ ip })), ports: [{ port: 8080 }] }],
  };
}

const summary = (rules: ServicePortRule[]) => rules.map((r) => `${r.key} -> ${r.endpoints.map((e) => e.key).join(',')}`);

describe('Proxier', () => {
  test('applies everything on start, then a burst of changes as one debounced snapshot', async () => {
    const source = new MemorySource();
    source.setService(svc('a', '127.96.0.1'));
    source.setEndpoints(eps('a', ['127.244.0.1']));
    const engine = new RecordingEngine();
    const p = new Proxier(source, engine as unknown as ProxyEngine, { rules: { nodeIP: '127.10.0.1' }, logger, debounceMs: 5 });
    await p.start();
    expect(engine.snapshots).toHaveLength(1);
    expect(summary(engine.last)).toEqual(['default/a:80/TCP -> 127.244.0.1:8080']);

    source.setService(svc('b', '127.96.0.2'));
    source.setEndpoints(eps('b', ['127.244.0.2']));
    source.setEndpoints(eps('a', ['127.244.0.1', '127.244.0.3']));
    await p.settled();
    expect(engine.snapshots).toHaveLength(2);
    expect(summary(engine.last)).toEqual([
      'default/a:80/TCP -> 127.244.0.1:8080,127.244.0.3:8080',
      'default/b:80/TCP -> 127.244.0.2:8080',
    ]);
    // Unchanged services keep their rule objects, so the engine's change test is a lookup.
    const b = engine.last.find((r) => r.serviceKey === 'default/b');
    source.deleteService('default/a');
    await p.settled();
    expect(summary(engine.last)).toEqual(['default/b:80/TCP -> 127.244.0.2:8080']);
    expect(engine.last[0]).toBe(b);
    expect(p.syncCount).toBe(3);
    await p.stop();
  });

  test('over informers: Services and Endpoints from the apiserver (fake clientset) become rules', async () => {
    const cs = createFakeClientset({ objects: [svc('web', '127.96.0.10'), eps('web', ['127.244.1.2'])] });
    const source = new InformerSource(cs);
    const engine = new RecordingEngine();
    const p = new Proxier(source, engine as unknown as ProxyEngine, { rules: { nodeIP: '127.10.0.1' }, logger });
    await p.start();
    expect(summary(engine.last)).toEqual(['default/web:80/TCP -> 127.244.1.2:8080']);

    await cs.endpoints.update(eps('web', ['127.244.1.2', '127.244.1.3']));
    for (let i = 0; i < 200 && engine.last[0]?.endpoints.length !== 2; i++) await new Promise((r) => setTimeout(r, 5));
    expect(summary(engine.last)).toEqual(['default/web:80/TCP -> 127.244.1.2:8080,127.244.1.3:8080']);

    await cs.services.delete('web', { namespace: 'default' });
    for (let i = 0; i < 200 && engine.last.length !== 0; i++) await new Promise((r) => setTimeout(r, 5));
    expect(engine.last).toEqual([]);
    await p.stop();
  });
});

describe('describeBindError', () => {
  test('says what an unprivileged user needs for a low port', () => {
    const text = describeBindError(Object.assign(new Error('bind EACCES'), { code: 'EACCES' }), 'TCP', '127.96.0.10', 80);
    expect(text).toMatch(/permission denied binding TCP 127\.96\.0\.10:80/);
    expect(text).toMatch(/CAP_NET_BIND_SERVICE/);
    expect(text).toMatch(/ip_unprivileged_port_start/);
  });

  test('explains an address that is not local', () => {
    const text = describeBindError(Object.assign(new Error('x'), { code: 'EADDRNOTAVAIL' }), 'UDP', '10.96.0.10', 53);
    expect(text).toMatch(/10\.96\.0\.10 is not an address of this machine/);
    expect(text).toMatch(/ip addr add 10\.96\.0\.10\/32 dev/);
  });
});
