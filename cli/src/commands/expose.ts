// expose: a Service for a deployment, replicaset, pod or service, as kubectl expose makes it:
// the object's selector (a pod's labels), its labels, and the port given or the container
// ports it declares.
import { fromK8sJson } from '@k8ts/api';
import type { corev1 } from '@k8ts/api';
import { CliError } from '../errors';
import { parseSingleResource } from '../resources';
import type { Session } from '../session';

export interface ExposeOptions {
  port?: string;
  targetPort?: string;
  protocol?: string;
  name?: string;
  type?: string;
  selector?: string;
  labels?: string;
  sessionAffinity?: string;
}

/** What expose needs of the exposed object. */
export interface ExposeSource {
  /** "deployment", "pod", ...: for messages. */
  what: string;
  name: string;
  namespace: string;
  labels: Record<string, string>;
  /** The pods it selects: undefined when it has no plain equality selector (matchExpressions). */
  selector?: Record<string, string>;
  /** Container ports of its pods (or a service's ports). */
  ports: { port: number; targetPort?: number | string; protocol?: string; name?: string }[];
}

const TYPES = ['ClusterIP', 'NodePort', 'LoadBalancer'];
const PROTOCOLS = ['TCP', 'UDP', 'SCTP'];

/** "a=b,c=d" → {a: b, c: d}; only equality, as kubectl expose --selector and --labels take. */
function parseEqualities(flag: string, value: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of value.split(',')) {
    const m = /^\s*([^=!\s]+)\s*=\s*([^=\s]*)\s*$/.exec(part);
    if (!m) throw new CliError(`invalid --${flag} "${value}": expected key=value[,key=value]`);
    out[m[1]] = m[2];
  }
  return out;
}

function portNumber(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new CliError(`invalid --${flag} "${value}": must be a port number between 1 and 65535`);
  return n;
}

/** The Service (Kubernetes JSON) kubectl expose would create for `src`. */
export function exposeService(src: ExposeSource, opts: ExposeOptions): Record<string, unknown> {
  const type = opts.type ?? 'ClusterIP';
  if (!TYPES.includes(type)) throw new CliError(`invalid --type "${type}": must be one of ${TYPES.join(', ')}`);
  const protocol = opts.protocol?.toUpperCase();
  if (protocol !== undefined && !PROTOCOLS.includes(protocol)) throw new CliError(`invalid --protocol "${opts.protocol}": must be one of ${PROTOCOLS.join(', ')}`);
  const affinity = opts.sessionAffinity;
  if (affinity !== undefined && affinity !== 'None' && affinity !== 'ClientIP') throw new CliError(`invalid --session-affinity "${affinity}": must be None or ClientIP`);
  const selector = opts.selector !== undefined ? parseEqualities('selector', opts.selector) : src.selector;
  if (!selector || Object.keys(selector).length === 0) {
    throw new CliError(`couldn't retrieve selectors via --selector flag or introspection: the ${src.what} "${src.name}" has no plain label selector; give one with --selector`);
  }
  const targetPort = (value: number | string | undefined): number | string | undefined => {
    if (opts.targetPort === undefined) return value;
    return /^\d+$/.test(opts.targetPort) ? portNumber('target-port', opts.targetPort) : opts.targetPort;
  };
  let ports: Record<string, unknown>[];
  if (opts.port !== undefined) {
    const port = portNumber('port', opts.port);
    ports = [{ port, targetPort: targetPort(port), protocol: protocol ?? src.ports[0]?.protocol ?? 'TCP' }];
  } else {
    if (src.ports.length === 0) {
      throw new CliError(`couldn't find port via --port flag or introspection: the ${src.what} "${src.name}" declares no container port; give one with --port`);
    }
    const many = src.ports.length > 1;
    ports = src.ports.map((p, i) => ({
      ...(many ? { name: p.name || `port-${i + 1}` } : {}),
      port: p.port,
      targetPort: targetPort(p.targetPort ?? p.port),
      protocol: protocol ?? p.protocol ?? 'TCP',
    }));
  }
  const labels = opts.labels !== undefined ? parseEqualities('labels', opts.labels) : src.labels;
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: opts.name ?? src.name, namespace: src.namespace, ...(Object.keys(labels).length > 0 ? { labels } : {}) },
    spec: { type, selector, ports, ...(affinity ? { sessionAffinity: affinity } : {}) },
  };
}

function containerPorts(spec: corev1.PodSpec | undefined): ExposeSource['ports'] {
  return (spec?.containers ?? []).flatMap((c) =>
    (c.ports ?? []).filter((p) => p.containerPort).map((p) => ({ port: p.containerPort ?? 0, protocol: p.protocol, name: p.name })),
  );
}

/** Equality selector of a LabelSelector; undefined when it has expressions. */
function plainSelector(sel: { matchLabels?: Record<string, string>; matchExpressions?: unknown[] } | undefined): Record<string, string> | undefined {
  if (!sel || (sel.matchExpressions?.length ?? 0) > 0) return undefined;
  return sel.matchLabels;
}

export async function exposeCommand(session: Session, args: string[], opts: ExposeOptions): Promise<void> {
  const { kind, name } = parseSingleResource(args, ['Deployment', 'ReplicaSet', 'Pod', 'Service']);
  const cs = session.clientset;
  const namespace = session.namespace;
  let src: ExposeSource;
  switch (kind.kind) {
    case 'Deployment':
    case 'ReplicaSet': {
      const o = kind.kind === 'Deployment' ? await cs.deployments.get(name, { namespace }) : await cs.replicaSets.get(name, { namespace });
      src = {
        what: kind.kind.toLowerCase(),
        name,
        namespace,
        labels: o.metadata?.labels ?? {},
        selector: plainSelector(o.spec?.selector),
        ports: containerPorts(o.spec?.template?.spec),
      };
      break;
    }
    case 'Pod': {
      const o = await cs.pods.get(name, { namespace });
      src = { what: 'pod', name, namespace, labels: o.metadata?.labels ?? {}, selector: o.metadata?.labels, ports: containerPorts(o.spec) };
      break;
    }
    default: {
      const o = await cs.services.get(name, { namespace });
      src = {
        what: 'service',
        name,
        namespace,
        labels: o.metadata?.labels ?? {},
        selector: o.spec?.selector,
        ports: (o.spec?.ports ?? []).map((p) => ({
          port: p.port ?? 0,
          targetPort: p.targetPort?.strVal || p.targetPort?.intVal || p.port,
          protocol: p.protocol,
          name: p.name,
        })),
      };
    }
  }
  const svc = exposeService(src, opts);
  await cs.services.create(fromK8sJson<corev1.Service>('k8ts.core.v1.Service', svc));
  session.io.out(`service/${(svc.metadata as { name: string }).name} exposed\n`);
}
