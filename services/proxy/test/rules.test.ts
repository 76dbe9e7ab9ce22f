import type { corev1 } from '@k8ts/api';
import { computeRules, computeServiceRules, DEFAULT_AFFINITY_TIMEOUT_SECONDS } from '../src/rules';

const opts = { nodeIP: '127.10.0.1' };

function service(name: string, spec: corev1.ServiceSpec, namespace = 'default'): corev1.Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace }, spec };
}

function endpoints(name: string, subsets: corev1.EndpointSubset[], namespace = 'default'): corev1.Endpoints {
  return { apiVersion: 'v1', kind: 'Endpoints', metadata: { name, namespace }, subsets };
}

describe('computeServiceRules', () => {
  test('a ClusterIP service: one listener, ready endpoints sorted, not-ready ones excluded', () => {
    const svc = service('web', { clusterIP: '127.96.0.10', ports: [{ port: 80, targetPort: { intVal: 8080 } }] });
    const eps = endpoints('web', [
      {
        addresses: [
          { ip: '127.244.1.10', nodeName: 'n1', targetRef: { kind: 'Pod', name: 'web-b' } },
          { ip: '127.244.1.9', targetRef: { kind: 'Pod', name: 'web-a' } },
        ],
        notReadyAddresses: [{ ip: '127.244.1.11' }],
        ports: [{ port: 8080 }],
      },
    ]);
    const { rules, problems } = computeServiceRules(svc, eps, opts);
    expect(problems).toEqual([]);
    expect(rules).toHaveLength(1);
    const r = rules[0];
    expect(r.key).toBe('default/web:80/TCP');
    expect(r.serviceKey).toBe('default/web');
    expect(r.protocol).toBe('TCP');
    expect(r.targetPort).toBe('8080');
    expect(r.listeners).toEqual([{ kind: 'ClusterIP', host: '127.96.0.10', port: 80, id: 'TCP/127.96.0.10:80' }]);
    // Numeric order of IPs (.9 before .10), the not-ready address left out.
    expect(r.endpoints.map((e) => e.key)).toEqual(['127.244.1.9:8080', '127.244.1.10:8080']);
    expect(r.endpoints[1]).toMatchObject({ nodeName: 'n1', podName: 'web-b' });
    expect(r.sessionAffinity).toBe('None');
    expect(r.affinityTimeoutSeconds).toBe(0);
    expect(r.nodePort).toBe(0);
  });

  test('a named targetPort resolves through the Endpoints port of the same name as the service port', () => {
    const svc = service('api', {
      clusterIP: '127.96.0.11',
      ports: [
        { name: 'http', port: 80, targetPort: { strVal: 'web' } },
        { name: 'metrics', port: 9090, targetPort: { strVal: 'prom' } },
      ],
    });
    const eps = endpoints('api', [
      {
        addresses: [{ ip: '127.244.1.2' }],
        ports: [
          { name: 'http', port: 8080 },
          { name: 'metrics', port: 9100 },
        ],
      },
      // A second subset: pods whose "web" container port has another number.
      { addresses: [{ ip: '127.244.1.3' }], ports: [{ name: 'http', port: 8081 }] },
    ]);
    const { rules } = computeServiceRules(svc, eps, opts);
    expect(rules.map((r) => r.key)).toEqual(['default/api:80/TCP', 'default/api:9090/TCP']);
    expect(rules[0].targetPort).toBe('web');
    expect(rules[0].endpoints.map((e) => e.key)).toEqual(['127.244.1.2:8080', '127.244.1.3:8081']);
    expect(rules[1].endpoints.map((e) => e.key)).toEqual(['127.244.1.2:9100']);
  });

  test('hand-written Endpoints naming the port after the container port are accepted for a named targetPort', () => {
    const svc = service('api', { clusterIP: '127.96.0.11', ports: [{ name: 'http', port: 80, targetPort: { strVal: 'web' } }] });
    const eps = endpoints('api', [{ addresses: [{ ip: '127.244.1.2' }], ports: [{ name: 'web', port: 8080 }] }]);
    expect(computeServiceRules(svc, eps, opts).rules[0].endpoints.map((e) => e.key)).toEqual(['127.244.1.2:8080']);
  });

  test('endpoint ports match by protocol as well as by name; duplicates are merged', () => {
    const svc = service('dns', {
      clusterIP: '127.96.0.53',
      ports: [
        { name: 'dns', port: 5353, protocol: 'UDP' },
        { name: 'dns-tcp', port: 5353, protocol: 'TCP' },
      ],
    });
    const eps = endpoints('dns', [
      {
        addresses: [{ ip: '127.244.2.2' }, { ip: '127.244.2.2' }],
        ports: [
          { name: 'dns', port: 53, protocol: 'UDP' },
          { name: 'dns-tcp', port: 53, protocol: 'TCP' },
        ],
      },
      { addresses: [{ ip: '127.244.2.2' }], ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] },
    ]);
    const { rules } = computeServiceRules(svc, eps, opts);
    expect(rules.map((r) => [r.key, r.listeners[0].id, r.endpoints.map((e) => e.key)])).toEqual([
      ['default/dns:5353/TCP', 'TCP/127.96.0.53:5353', ['127.244.2.2:53']],
      ['default/dns:5353/UDP', 'UDP/127.96.0.53:5353', ['127.244.2.2:53']],
    ]);
  });

  test('NodePort services also listen on the node IP (or --bind-address) and node port', () => {
    const svc = service('np', { type: 'NodePort', clusterIP: '127.96.0.12', ports: [{ port: 80, nodePort: 30080 }] });
    const [r] = computeServiceRules(svc, undefined, opts).rules;
    expect(r.nodePort).toBe(30080);
    expect(r.listeners.map((l) => [l.kind, l.id])).toEqual([
      ['ClusterIP', 'TCP/127.96.0.12:80'],
      ['NodePort', 'TCP/127.10.0.1:30080'],
    ]);
    expect(r.endpoints).toEqual([]);
    const [r2] = computeServiceRules(svc, undefined, { ...opts, nodePortAddress: '0.0.0.0' }).rules;
    expect(r2.listeners[1].id).toBe('TCP/0.0.0.0:30080');
    // A ClusterIP service ignores a stray nodePort.
    const [r3] = computeServiceRules(service('c', { clusterIP: '127.96.0.13', ports: [{ port: 80, nodePort: 30081 }] }), undefined, opts).rules;
    expect(r3.listeners).toHaveLength(1);
    expect(r3.nodePort).toBe(0);
  });

  test('ClientIP affinity: the configured timeout, or the Kubernetes default', () => {
    const withTimeout = service('a', {
      clusterIP: '127.96.0.14',
      sessionAffinity: 'ClientIP',
      sessionAffinityConfig: { clientIP: { timeoutSeconds: 2 } },
      ports: [{ port: 80 }],
    });
    expect(computeServiceRules(withTimeout, undefined, opts).rules[0]).toMatchObject({
      sessionAffinity: 'ClientIP',
      affinityTimeoutSeconds: 2,
    });
    const byDefault = service('b', { clusterIP: '127.96.0.15', sessionAffinity: 'ClientIP', ports: [{ port: 80 }] });
    expect(computeServiceRules(byDefault, undefined, opts).rules[0].affinityTimeoutSeconds).toBe(DEFAULT_AFFINITY_TIMEOUT_SECONDS);
    expect(DEFAULT_AFFINITY_TIMEOUT_SECONDS).toBe(10800);
  });

  test('services the proxy does not serve give no rules; unsupported ports are reported', () => {
    expect(computeServiceRules(service('h', { clusterIP: 'None', ports: [{ port: 80 }] }), undefined, opts).rules).toEqual([]);
    expect(computeServiceRules(service('x', { type: 'ExternalName', externalName: 'example.com' }), undefined, opts).rules).toEqual([]);
    expect(computeServiceRules(service('pending', { ports: [{ port: 80 }] }), undefined, opts).rules).toEqual([]);
    const sctp = computeServiceRules(
      service('s', {
        clusterIP: '127.96.0.16',
        ports: [
          { name: 'a', port: 80 },
          { name: 'b', port: 99, protocol: 'SCTP' },
        ],
      }),
      undefined,
      opts,
    );
    expect(sctp.rules.map((r) => r.key)).toEqual(['default/s:80/TCP']);
    expect(sctp.problems).toEqual([expect.stringContaining('SCTP is not supported')]);
  });

  test('external IPs and extra cluster IPs get listeners too', () => {
    const svc = service('e', {
      clusterIP: '127.96.0.17',
      clusterIPs: ['127.96.0.17'],
      externalIPs: ['127.50.0.1'],
      ports: [{ port: 8080 }],
    });
    expect(computeServiceRules(svc, undefined, opts).rules[0].listeners.map((l) => `${l.kind} ${l.id}`)).toEqual([
      'ClusterIP TCP/127.96.0.17:8080',
      'ExternalIP TCP/127.50.0.1:8080',
    ]);
  });

  test('the signature changes exactly when something that matters changes', () => {
    const svc = service('web', { clusterIP: '127.96.0.10', ports: [{ port: 80, targetPort: { intVal: 8080 } }] });
    const eps1 = endpoints('web', [{ addresses: [{ ip: '127.244.1.2' }], ports: [{ port: 8080 }] }]);
    const eps1b = endpoints('web', [{ addresses: [{ ip: '127.244.1.2' }], ports: [{ port: 8080 }] }]);
    const eps2 = endpoints('web', [{ addresses: [{ ip: '127.244.1.2' }, { ip: '127.244.1.3' }], ports: [{ port: 8080 }] }]);
    const s1 = computeServiceRules(svc, eps1, opts).rules[0].signature;
    expect(computeServiceRules(svc, eps1b, opts).rules[0].signature).toBe(s1);
    expect(computeServiceRules(svc, eps2, opts).rules[0].signature).not.toBe(s1);
  });
});

describe('computeRules', () => {
  test('matches Endpoints to Services by namespace and name, sorted by key', () => {
    const { rules } = computeRules(
      [
        service('b', { clusterIP: '127.96.0.2', ports: [{ port: 80 }] }, 'ns1'),
        service('a', { clusterIP: '127.96.0.1', ports: [{ port: 80 }] }, 'ns1'),
        service('a', { clusterIP: '127.96.0.3', ports: [{ port: 80 }] }, 'ns2'),
      ],
      [
        endpoints('a', [{ addresses: [{ ip: '127.244.0.1' }], ports: [{ port: 80 }] }], 'ns1'),
        endpoints('a', [{ addresses: [{ ip: '127.244.0.2' }], ports: [{ port: 80 }] }], 'ns2'),
      ],
      opts,
    );
    expect(rules.map((r) => [r.key, r.endpoints.map((e) => e.ip)])).toEqual([
      ['ns1/a:80/TCP', ['127.244.0.1']],
      ['ns1/b:80/TCP', []],
      ['ns2/a:80/TCP', ['127.244.0.2']],
    ]);
  });
});
