// The proxy's rules: for every port of every Service, where traffic is accepted (listeners)
// and where it goes (ready endpoints). Computed by pure functions from the API objects, so
// the whole translation from Services and Endpoints to forwarding can be tested without a
// socket; the engine (engine.ts) only applies them.
import * as net from 'net';
import type { corev1 } from '@k8ts/api';

/** The protocols the proxy forwards. SCTP ports are reported as problems and skipped. */
export type Protocol = 'TCP' | 'UDP';

/** Where a listener's address comes from. */
export type ListenerKind = 'ClusterIP' | 'NodePort' | 'ExternalIP';

/** Kubernetes' default ClientIP affinity timeout: three hours. */
export const DEFAULT_AFFINITY_TIMEOUT_SECONDS = 10800;

/** One address the proxy accepts a Service port's traffic on. */
export interface ListenerSpec {
  kind: ListenerKind;
  /** An IP literal (IPv4 or IPv6, without brackets). */
  host: string;
  port: number;
  /** '<protocol>/<host>:<port>', unique per socket: 'TCP/127.96.0.10:80'. */
  id: string;
}

/** One ready backend of a Service port. */
export interface EndpointTarget {
  ip: string;
  /** The target port, already resolved to a number. */
  port: number;
  /** 'ip:port' ('[ip]:port' for IPv6), unique within a rule. */
  key: string;
  nodeName: string;
  /** The pod behind the address, when its target_ref is a Pod; '' otherwise. */
  podName: string;
}

export type SessionAffinity = 'None' | 'ClientIP';

/** What the proxy does for one port of one Service. */
export interface ServicePortRule {
  /** '<namespace>/<name>:<port>/<protocol>', e.g. 'default/web:80/TCP'. */
  key: string;
  /** '<namespace>/<name>' of the Service. */
  serviceKey: string;
  namespace: string;
  name: string;
  /** The ServicePort's name; '' for an unnamed single port. */
  portName: string;
  protocol: Protocol;
  /** The Service's cluster IP; '' when it has none yet. */
  clusterIP: string;
  port: number;
  /** 0 when the Service has no node port. */
  nodePort: number;
  /** The target port as written in the Service: '8080' or 'http'. */
  targetPort: string;
  sessionAffinity: SessionAffinity;
  /** 0 when sessionAffinity is 'None'. */
  affinityTimeoutSeconds: number;
  listeners: ListenerSpec[];
  /** Ready endpoints, deduplicated, sorted by IP then port (the round-robin order). */
  endpoints: EndpointTarget[];
  /** A string that differs whenever anything above differs: the engine's change test. */
  signature: string;
}

/** Node-level inputs of the rules. */
export interface RulesOptions {
  /** The node's IP: where NodePort listeners are opened unless nodePortAddress is set. */
  nodeIP: string;
  /** Overrides the address NodePort listeners bind to (--bind-address), e.g. '0.0.0.0'. */
  nodePortAddress?: string;
}

/** The rules of one Service and what could not be turned into rules, in words. */
export interface ServiceRules {
  rules: ServicePortRule[];
  problems: string[];
}

/** 'namespace/name' of an object. */
export function objectKey(obj: { metadata?: { namespace?: string; name?: string } } | undefined): string {
  return `${obj?.metadata?.namespace || 'default'}/${obj?.metadata?.name ?? ''}`;
}

/** 'host:port', with brackets around an IPv6 host. */
export function hostPort(host: string, port: number): string {
  return net.isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}

function listenerId(protocol: Protocol, host: string, port: number): string {
  return `${protocol}/${hostPort(host, port)}`;
}

function normalizeProtocol(p: string | undefined): string {
  return (p || 'TCP').toUpperCase();
}

function targetPortText(sp: corev1.ServicePort): string {
  const tp = sp.targetPort;
  if (tp?.strVal) return tp.strVal;
  if (tp?.intVal) return String(tp.intVal);
  return String(sp.port ?? 0);
}

/**
 * The port number of a subset that implements a Service port, or undefined. The endpoints
 * controller names each Endpoints port after the Service port it implements, with the
 * number resolved from the pod's container ports when the target port is a name; so the
 * match is by name (both empty for an unnamed single port) and protocol. Hand-written
 * Endpoints sometimes name the port after the container port instead: a named target port
 * is accepted as a second choice.
 */
function subsetPort(subset: corev1.EndpointSubset, sp: corev1.ServicePort, protocol: string): number | undefined {
  const ports = (subset.ports ?? []).filter((p) => normalizeProtocol(p.protocol) === protocol && (p.port ?? 0) > 0);
  const name = sp.name ?? '';
  const byName = ports.find((p) => (p.name ?? '') === name);
  if (byName) return byName.port;
  const named = sp.targetPort?.strVal;
  if (named) return ports.find((p) => p.name === named)?.port;
  return undefined;
}

function ipSortKey(ip: string): string {
  if (net.isIPv4(ip)) return `4:${ip.split('.').map((o) => o.padStart(3, '0')).join('.')}`;
  return `6:${ip}`;
}

/** The ready endpoints of one Service port, deduplicated and sorted. */
export function resolveEndpoints(sp: corev1.ServicePort, endpoints: corev1.Endpoints | undefined): EndpointTarget[] {
  const protocol = normalizeProtocol(sp.protocol);
  const byKey = new Map<string, EndpointTarget>();
  for (const subset of endpoints?.subsets ?? []) {
    const port = subsetPort(subset, sp, protocol);
    if (port === undefined) continue;
    for (const a of subset.addresses ?? []) {
      const ip = a.ip ?? '';
      if (!net.isIP(ip)) continue;
      const key = hostPort(ip, port);
      if (byKey.has(key)) continue;
      const ref = a.targetRef;
      byKey.set(key, {
        ip,
        port,
        key,
        nodeName: a.nodeName ?? '',
        podName: ref && (ref.kind ?? 'Pod') === 'Pod' ? (ref.name ?? '') : '',
      });
    }
  }
  return [...byKey.values()].sort((a, b) => {
    const ka = ipSortKey(a.ip);
    const kb = ipSortKey(b.ip);
    return ka < kb ? -1 : ka > kb ? 1 : a.port - b.port;
  });
}

function signatureOf(rule: Omit<ServicePortRule, 'signature'>): string {
  const eps = rule.endpoints.map((e) => `${e.key}@${e.nodeName}/${e.podName}`).join(',');
  const ls = rule.listeners.map((l) => `${l.kind}=${l.id}`).join(',');
  return [
    rule.key,
    rule.portName,
    rule.clusterIP,
    rule.nodePort,
    rule.targetPort,
    rule.sessionAffinity,
    rule.affinityTimeoutSeconds,
    ls,
    eps,
  ].join('|');
}

/**
 * The rules of one Service and its Endpoints (same namespace and name; undefined when there
 * is no Endpoints object yet). Services that the proxy does not serve give no rules:
 * type ExternalName, headless ("None"), and Services without a cluster IP and without node
 * ports. Ports it cannot serve (SCTP, bad numbers) are listed in `problems`.
 */
export function computeServiceRules(
  svc: corev1.Service,
  endpoints: corev1.Endpoints | undefined,
  opts: RulesOptions,
): ServiceRules {
  const problems: string[] = [];
  const rules: ServicePortRule[] = [];
  const spec = svc.spec ?? {};
  const serviceKey = objectKey(svc);
  const [namespace, name] = [svc.metadata?.namespace || 'default', svc.metadata?.name ?? ''];
  const type = spec.type || 'ClusterIP';
  if (type === 'ExternalName') return { rules, problems };
  const clusterIP = spec.clusterIP ?? '';
  if (clusterIP === 'None') return { rules, problems };

  // Every address the Service's ports are served on, besides node ports.
  const vips: { kind: ListenerKind; host: string }[] = [];
  const seen = new Set<string>();
  const addVip = (kind: ListenerKind, host: string) => {
    if (!host || host === 'None' || seen.has(host)) return;
    if (!net.isIP(host)) {
      problems.push(`${serviceKey}: ${kind} ${JSON.stringify(host)} is not an IP address`);
      return;
    }
    seen.add(host);
    vips.push({ kind, host });
  };
  addVip('ClusterIP', clusterIP);
  for (const ip of spec.clusterIPs ?? []) addVip('ClusterIP', ip);
  for (const ip of spec.externalIPs ?? []) addVip('ExternalIP', ip);
  const withNodePorts = type === 'NodePort' || type === 'LoadBalancer';
  const nodeHost = opts.nodePortAddress || opts.nodeIP;

  let affinity: SessionAffinity = 'None';
  let timeout = 0;
  if (spec.sessionAffinity === 'ClientIP') {
    affinity = 'ClientIP';
    timeout = spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? DEFAULT_AFFINITY_TIMEOUT_SECONDS;
    if (!(timeout > 0)) timeout = DEFAULT_AFFINITY_TIMEOUT_SECONDS;
  } else if (spec.sessionAffinity && spec.sessionAffinity !== 'None') {
    problems.push(`${serviceKey}: unknown sessionAffinity ${JSON.stringify(spec.sessionAffinity)}, using None`);
  }

  for (const sp of spec.ports ?? []) {
    const protocol = normalizeProtocol(sp.protocol);
    const port = sp.port ?? 0;
    const label = `${serviceKey}:${sp.name || port}`;
    if (protocol !== 'TCP' && protocol !== 'UDP') {
      problems.push(`${label}: protocol ${protocol} is not supported by the proxy (TCP and UDP are)`);
      continue;
    }
    if (!(port >= 1 && port <= 65535)) {
      problems.push(`${label}: port ${port} is out of range 1-65535`);
      continue;
    }
    const listeners: ListenerSpec[] = vips.map((v) => ({
      kind: v.kind,
      host: v.host,
      port,
      id: listenerId(protocol, v.host, port),
    }));
    const nodePort = withNodePorts ? (sp.nodePort ?? 0) : 0;
    if (nodePort > 0 && nodePort <= 65535) {
      listeners.push({ kind: 'NodePort', host: nodeHost, port: nodePort, id: listenerId(protocol, nodeHost, nodePort) });
    }
    if (listeners.length === 0) continue;
    const rule: Omit<ServicePortRule, 'signature'> = {
      key: `${serviceKey}:${port}/${protocol}`,
      serviceKey,
      namespace,
      name,
      portName: sp.name ?? '',
      protocol,
      clusterIP: clusterIP === 'None' ? '' : clusterIP,
      port,
      nodePort: nodePort > 0 && nodePort <= 65535 ? nodePort : 0,
      targetPort: targetPortText(sp),
      sessionAffinity: affinity,
      affinityTimeoutSeconds: timeout,
      listeners,
      endpoints: resolveEndpoints(sp, endpoints),
    };
    rules.push({ ...rule, signature: signatureOf(rule) });
  }
  rules.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return { rules, problems };
}

/**
 * The rules of a whole set of Services and Endpoints (matched by namespace and name),
 * sorted by key. A convenience over computeServiceRules for tests and full resyncs.
 */
export function computeRules(
  services: Iterable<corev1.Service>,
  endpoints: Iterable<corev1.Endpoints>,
  opts: RulesOptions,
): ServiceRules {
  const eps = new Map<string, corev1.Endpoints>();
  for (const e of endpoints) eps.set(objectKey(e), e);
  const rules: ServicePortRule[] = [];
  const problems: string[] = [];
  for (const svc of services) {
    const r = computeServiceRules(svc, eps.get(objectKey(svc)), opts);
    rules.push(...r.rules);
    problems.push(...r.problems);
  }
  rules.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return { rules, problems };
}
