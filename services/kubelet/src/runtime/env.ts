// A container's environment, as Kubernetes builds it: variables from env_from (every key of a
// ConfigMap or Secret), then env (literal values with $(VAR) expansion, or values from the
// downward API, a resource field, a ConfigMap key or a Secret key), on top of what k8ts adds
// (the pod's IP, name, namespace, node and ports). ConfigMaps and Secrets are read through an
// EnvSource, which the kubelet implements over the API.
import type { corev1 } from '@k8ts/api';
import { Quantity, quantityOf } from '@k8ts/machinery';

/** Reads ConfigMaps and Secrets of the pod's namespace (the kubelet implements it over the API). */
export interface EnvSource {
  /** The data of a ConfigMap, or undefined when it does not exist. */
  configMap(namespace: string, name: string): Promise<Record<string, string> | undefined>;
  /** The decoded data of a Secret, or undefined when it does not exist. */
  secret(namespace: string, name: string): Promise<Record<string, string> | undefined>;
}

/** An EnvSource with nothing in it (no API yet, or a test). */
export const emptyEnvSource: EnvSource = {
  configMap: async () => undefined,
  secret: async () => undefined,
};

/** An EnvSource over fixed maps: `{ 'ns/name': { key: value } }`. */
export function staticEnvSource(
  configMaps: Record<string, Record<string, string>> = {},
  secrets: Record<string, Record<string, string>> = {},
): EnvSource {
  return {
    configMap: async (ns, name) => configMaps[`${ns}/${name}`],
    secret: async (ns, name) => secrets[`${ns}/${name}`],
  };
}

/**
 * A container whose environment cannot be built (missing ConfigMap, key, unknown field path):
 * it waits with reason CreateContainerConfigError and this message.
 */
export class EnvError extends Error {
  override name = 'EnvError';
}

/** What the runtime knows about the pod's place, beyond its spec. */
export interface EnvContext {
  podIP: string;
  hostIP: string;
  nodeName: string;
  /** Node allocatable, the default for limits.cpu and limits.memory of unlimited containers. */
  nodeAllocatable?: { cpuMilli: number; memoryBytes: number };
}

const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

/** Expands $(VAR) from env; "$$" yields "$"; unknown references stay as written. */
export function expandVars(text: string, env: Record<string, string>): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch !== '$' || i + 1 >= text.length) {
      out += ch;
      continue;
    }
    const next = text[i + 1];
    if (next === '$') {
      out += '$';
      i++;
    } else if (next === '(') {
      const end = text.indexOf(')', i + 2);
      if (end < 0) {
        out += text.slice(i);
        break;
      }
      const name = text.slice(i + 2, end);
      out += Object.hasOwn(env, name) ? env[name] : text.slice(i, end + 1);
      i = end;
    } else {
      out += ch;
    }
  }
  return out;
}

/** The variables k8ts gives every container: its pod's identity, IP and ports. */
export function builtinEnv(pod: corev1.Pod, container: corev1.Container, ctx: EnvContext): Record<string, string> {
  const env: Record<string, string> = {
    HOSTNAME: pod.spec?.hostname || (pod.metadata?.name ?? '').slice(0, 63),
    K8TS_POD_NAME: pod.metadata?.name ?? '',
    K8TS_POD_NAMESPACE: pod.metadata?.namespace ?? '',
    K8TS_POD_UID: pod.metadata?.uid ?? '',
    K8TS_POD_IP: ctx.podIP,
    K8TS_HOST_IP: ctx.hostIP,
    K8TS_NODE_NAME: ctx.nodeName,
    K8TS_CONTAINER_NAME: container.name ?? '',
  };
  const ports = container.ports ?? [];
  if (ports.length > 0) {
    env.PORT = String(ports[0].containerPort ?? '');
    env.K8TS_PORTS = ports.map((p) => p.containerPort).join(',');
  }
  for (const p of ports) {
    if (p.name) env[`K8TS_PORT_${p.name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`] = String(p.containerPort);
  }
  return env;
}

const LABEL_PATH = /^metadata\.(labels|annotations)\[['"](.+)['"]\]$/;

/** The value of a downward API field path of the pod. */
export function fieldRefValue(pod: corev1.Pod, fieldPath: string, ctx: EnvContext): string {
  switch (fieldPath) {
    case 'metadata.name':
      return pod.metadata?.name ?? '';
    case 'metadata.namespace':
      return pod.metadata?.namespace ?? '';
    case 'metadata.uid':
      return pod.metadata?.uid ?? '';
    case 'spec.nodeName':
      return pod.spec?.nodeName || ctx.nodeName;
    case 'spec.serviceAccountName':
      return pod.spec?.serviceAccountName ?? '';
    case 'status.podIP':
    case 'status.podIPs':
      return ctx.podIP;
    case 'status.hostIP':
    case 'status.hostIPs':
      return ctx.hostIP;
  }
  const m = LABEL_PATH.exec(fieldPath);
  if (m) {
    const map = m[1] === 'labels' ? pod.metadata?.labels : pod.metadata?.annotations;
    return map?.[m[2]] ?? '';
  }
  throw new EnvError(`unsupported fieldRef fieldPath ${JSON.stringify(fieldPath)}`);
}

/** ceil(a / b) for b > 0. */
function ceilDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a > 0n ? q + 1n : q;
}

/** What a container has of a resource: its own amount, else for limits of cpu and memory the node's allocatable. */
function containerResource(container: corev1.Container, kind: string, resource: string, ctx: EnvContext): Quantity {
  const list = kind === 'limits' ? container.resources?.limits : container.resources?.requests;
  const own = quantityOf(list?.[resource], `resources.${kind}[${resource}]`);
  if (own) return own;
  if (kind === 'limits' && resource === 'cpu') return Quantity.fromMilli(ctx.nodeAllocatable?.cpuMilli ?? 0);
  if (kind === 'limits' && resource === 'memory') return Quantity.fromValue(ctx.nodeAllocatable?.memoryBytes ?? 0);
  return Quantity.ZERO;
}

/**
 * The value of a resource field (limits.cpu, requests.memory, …) of a container, as Kubernetes
 * writes it: cpu as ceil(milli-cpu / divisor's milli-cpu), memory and ephemeral storage as
 * ceil(bytes / divisor's bytes); an unset or zero divisor is 1.
 */
export function resourceFieldValue(pod: corev1.Pod, self: corev1.Container, sel: corev1.ResourceFieldSelector, ctx: EnvContext): string {
  const name = sel.containerName || self.name;
  const container = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].find((c) => c.name === name);
  if (!container) throw new EnvError(`resourceFieldRef: no container ${JSON.stringify(name)} in the pod`);
  const m = /^(limits|requests)\.(cpu|memory|ephemeral-storage)$/.exec(sel.resource ?? '');
  if (!m) throw new EnvError(`unsupported resourceFieldRef resource ${JSON.stringify(sel.resource)}`);
  const [, kind, resource] = m;
  const value = containerResource(container, kind, resource, ctx);
  const given = quantityOf(sel.divisor, 'resourceFieldRef.divisor');
  const divisor = given && !given.isZero() ? given : Quantity.fromValue(1);
  if (divisor.sign() < 0) throw new EnvError(`resourceFieldRef divisor must be positive, got ${JSON.stringify(sel.divisor?.value)}`);
  const scale = resource === 'cpu' ? -3 : 0;
  return ceilDiv(value.scaledValueBig(scale), divisor.scaledValueBig(scale)).toString();
}

/**
 * The environment of a container: builtinEnv, then env_from, then env (later wins). Throws
 * EnvError for a missing ConfigMap, Secret or key that is not optional.
 */
export async function resolveEnv(
  pod: corev1.Pod,
  container: corev1.Container,
  ctx: EnvContext,
  source: EnvSource = emptyEnvSource,
): Promise<Record<string, string>> {
  const ns = pod.metadata?.namespace ?? '';
  const env = builtinEnv(pod, container, ctx);

  for (const from of container.envFrom ?? []) {
    const prefix = from.prefix ?? '';
    let data: Record<string, string> | undefined;
    if (from.configMapRef) {
      data = await source.configMap(ns, from.configMapRef.name ?? '');
      if (!data && !from.configMapRef.optional) throw new EnvError(`configmap "${from.configMapRef.name}" not found`);
    } else if (from.secretRef) {
      data = await source.secret(ns, from.secretRef.name ?? '');
      if (!data && !from.secretRef.optional) throw new EnvError(`secret "${from.secretRef.name}" not found`);
    }
    for (const [key, value] of Object.entries(data ?? {})) {
      // Keys that are not valid variable names are skipped, as Kubernetes does.
      if (ENV_NAME.test(prefix + key)) env[prefix + key] = value;
    }
  }

  for (const v of container.env ?? []) {
    const name = v.name ?? '';
    if (!name) continue;
    const from = v.valueFrom;
    if (!from) {
      env[name] = expandVars(v.value ?? '', env);
      continue;
    }
    if (from.fieldRef) {
      env[name] = fieldRefValue(pod, from.fieldRef.fieldPath ?? '', ctx);
    } else if (from.resourceFieldRef) {
      env[name] = resourceFieldValue(pod, container, from.resourceFieldRef, ctx);
    } else if (from.configMapKeyRef) {
      const ref = from.configMapKeyRef;
      const data = await source.configMap(ns, ref.name ?? '');
      if (!data) {
        if (ref.optional) continue;
        throw new EnvError(`configmap "${ref.name}" not found`);
      }
      const value = data[ref.key ?? ''];
      if (value === undefined) {
        if (ref.optional) continue;
        throw new EnvError(`couldn't find key ${ref.key} in ConfigMap ${ns}/${ref.name}`);
      }
      env[name] = value;
    } else if (from.secretKeyRef) {
      const ref = from.secretKeyRef;
      const data = await source.secret(ns, ref.name ?? '');
      if (!data) {
        if (ref.optional) continue;
        throw new EnvError(`secret "${ref.name}" not found`);
      }
      const value = data[ref.key ?? ''];
      if (value === undefined) {
        if (ref.optional) continue;
        throw new EnvError(`couldn't find key ${ref.key} in Secret ${ns}/${ref.name}`);
      }
      env[name] = value;
    }
  }
  return env;
}
