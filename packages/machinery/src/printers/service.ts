// Service and Endpoints columns, as Kubernetes' printService and printEndpoints compute them.
// Service: NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE, and SELECTOR with -o wide.
// - CLUSTER-IP is the first cluster IP ("None" for a headless service), "<none>" without one.
// - EXTERNAL-IP: spec.externalIPs (or "<none>") for ClusterIP and NodePort; for LoadBalancer
//   the load balancer's ingress IPs or hostnames (sorted, de-duplicated) then spec.externalIPs,
//   "<pending>" while there are none; the external name for ExternalName.
// - PORT(S): "port/protocol" or "port:nodePort/protocol", comma-separated, "<none>" if none.
// Endpoints: NAME ENDPOINTS AGE; ENDPOINTS lists "ip:port" pairs (just the ip for a subset
// without ports), the first three, then "+ N more...", and "<none>" without subsets.
import type { ColumnDefinition, PrinterColumns } from './columns';
import { AGE_COLUMN, NAME_COLUMN, column, nameOf, wide } from './columns';
import { timestampAge } from './duration';
import type { JsonObject } from './json';
import { field, numberAt, objectsAt, stringAt, stringMapAt, stringsAt } from './json';
import { formatLabels } from '../selectors';

const SERVICE_COLUMNS: ColumnDefinition[] = [
  NAME_COLUMN,
  column('Type', 'string', 'How the service is exposed: ClusterIP, NodePort, LoadBalancer or ExternalName (spec.type).'),
  column('Cluster-IP', 'string', 'The virtual IP that routes to the endpoints (spec.clusterIP); None for a headless service.'),
  column('External-IP', 'string', 'Addresses outside the cluster that reach the service: spec.externalIPs, the load balancer ingress, or the external name.'),
  column('Port(s)', 'string', 'The ports the service exposes (spec.ports), as port[:nodePort]/protocol.'),
  AGE_COLUMN,
  wide('Selector', 'string', "Pods whose labels match receive the service's traffic (spec.selector)."),
];

const ENDPOINTS_COLUMNS: ColumnDefinition[] = [
  NAME_COLUMN,
  column('Endpoints', 'string', 'The addresses and ports that implement the service (subsets).'),
  AGE_COLUMN,
];

/** spec.type, with the API's default (ClusterIP) when unset. */
function serviceType(svc: JsonObject): string {
  return stringAt(svc, 'spec', 'type') || 'ClusterIP';
}

/** The first cluster IP: spec.clusterIP, which the v1 conversion treats as authoritative, else clusterIPs[0]. */
function clusterIP(svc: JsonObject): string {
  return stringAt(svc, 'spec', 'clusterIP') || stringsAt(svc, 'spec', 'clusterIPs')[0] || '<none>';
}

/** The load balancer's ingress points: each one's IP, else its hostname; sorted and unique. */
function loadBalancerIngress(svc: JsonObject): string[] {
  const points = new Set<string>();
  for (const ing of objectsAt(svc, 'status', 'loadBalancer', 'ingress')) {
    const point = stringAt(ing, 'ip') || stringAt(ing, 'hostname');
    if (point !== '') points.add(point);
  }
  return [...points].sort();
}

/** A service's EXTERNAL-IP. The server always prints wide, so ingress lists are never cut short. */
export function serviceExternalIP(svc: JsonObject): string {
  const externalIPs = stringsAt(svc, 'spec', 'externalIPs');
  switch (serviceType(svc)) {
    case 'ClusterIP':
    case 'NodePort':
      return externalIPs.length > 0 ? externalIPs.join(',') : '<none>';
    case 'LoadBalancer': {
      const all = [...loadBalancerIngress(svc), ...externalIPs];
      return all.length > 0 ? all.join(',') : '<pending>';
    }
    case 'ExternalName':
      return stringAt(svc, 'spec', 'externalName');
    default:
      return '<unknown>';
  }
}

/** A service's PORT(S): "80/TCP", "80:30080/TCP", comma-separated; "<none>" without ports. */
export function servicePorts(svc: JsonObject): string {
  const pieces = objectsAt(svc, 'spec', 'ports').map((p) => {
    const protocol = stringAt(p, 'protocol') || 'TCP';
    const nodePort = numberAt(p, 'nodePort');
    return nodePort > 0 ? `${numberAt(p, 'port')}:${nodePort}/${protocol}` : `${numberAt(p, 'port')}/${protocol}`;
  });
  return pieces.length > 0 ? pieces.join(',') : '<none>';
}

/** net.JoinHostPort: an IPv6 address goes in brackets. */
function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * Kubernetes' formatEndpoints: the first `max` endpoints ("ip:port", or "ip" for a subset
 * without ports), then " + N more..." counting every address of every port; "<none>" when
 * there are no subsets ("" when the subsets hold no ready address).
 */
export function formatEndpoints(endpoints: JsonObject, max = 3): string {
  const subsets = objectsAt(endpoints, 'subsets');
  if (subsets.length === 0) return '<none>';
  const shown: string[] = [];
  let count = 0;
  for (const subset of subsets) {
    const addresses = objectsAt(subset, 'addresses');
    const ports = objectsAt(subset, 'ports');
    // A headless service may have no ports: the addresses alone.
    const pairs = ports.length === 0 ? [undefined] : ports.map((p) => numberAt(p, 'port'));
    for (const port of pairs) {
      count += addresses.length;
      for (const a of addresses) {
        if (shown.length === max) break;
        const ip = stringAt(a, 'ip');
        shown.push(port === undefined ? ip : joinHostPort(ip, port));
      }
    }
  }
  const text = shown.join(',');
  return count > max ? `${text} + ${count - max} more...` : text;
}

export const serviceColumns: PrinterColumns = {
  columns: SERVICE_COLUMNS,
  cells(svc, now) {
    return [
      nameOf(svc),
      serviceType(svc),
      clusterIP(svc),
      serviceExternalIP(svc),
      servicePorts(svc),
      timestampAge(field(svc, 'metadata', 'creationTimestamp'), now),
      formatLabels(stringMapAt(svc, 'spec', 'selector')),
    ];
  },
};

export const endpointsColumns: PrinterColumns = {
  columns: ENDPOINTS_COLUMNS,
  cells(ep, now) {
    return [nameOf(ep), formatEndpoints(ep), timestampAge(field(ep, 'metadata', 'creationTimestamp'), now)];
  },
};
