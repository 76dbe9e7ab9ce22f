// Service and Endpoints objects for the proxy's in-process tests over real sockets, and the
// test file's own addresses: node, pod and Service IPs of a network leased from @k8ts/testkit
// (never an address of a running cluster or of another test file).
import type { corev1 } from '@k8ts/api';
import type { TestNetwork } from '@k8ts/testkit';

/** A Service object. */
export function service(name: string, spec: corev1.ServiceSpec, namespace = 'default'): corev1.Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace }, spec };
}

/** The pod name the endpoints() of an IP refer to: pod-a-b-c-d. */
export function podNameOf(ip: string): string {
  return `pod-${ip.split('.').join('-')}`;
}

/** An Endpoints object with one subset: `ips` ready on the given ports. */
export function endpoints(
  name: string,
  ips: string[],
  ports: corev1.EndpointPort[],
  opts: { notReady?: string[]; namespace?: string } = {},
): corev1.Endpoints {
  return {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name, namespace: opts.namespace ?? 'default' },
    subsets: [
      {
        addresses: ips.map((ip) => ({ ip, targetRef: { kind: 'Pod', name: podNameOf(ip) } })),
        notReadyAddresses: (opts.notReady ?? []).map((ip) => ({ ip })),
        ports,
      },
    ],
  };
}

/** The addresses one test file uses: a node, three pods on it, Service IPs, client IPs. */
export interface ProxyTestAddresses {
  nodeIP: string;
  /** Three pod IPs of node 1's pod CIDR. */
  pods: string[];
  /** Pod address j of node 1's pod CIDR (for addresses nothing listens on). */
  podIP(j: number): string;
  /** The i-th Service IP. */
  serviceIP(i: number): string;
  /** The i-th client address. */
  clientIP(i: number): string;
}

export function proxyTestAddresses(network: TestNetwork): ProxyTestAddresses {
  return {
    nodeIP: network.nodeIP(1),
    pods: [2, 3, 4].map((j) => network.podIP(1, j)),
    podIP: (j) => network.podIP(1, j),
    serviceIP: (i) => network.serviceIP(i),
    clientIP: (i) => network.clientIP(i),
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
