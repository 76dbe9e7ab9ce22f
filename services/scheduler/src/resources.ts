// What a pod asks of a node: its resource requests computed as Kubernetes does, and the
// "non-zero" requests that scoring uses (a container without a cpu or memory request counts
// as 100m cpu and 200Mi memory, so that best-effort pods still spread).
import type { corev1, metav1 } from '@k8ts/api';
import { quantityMilli, quantityValue } from './quantity';

/** Resource amounts: cpu in milli-cpu, memory and ephemeral storage in bytes, others in units. */
export interface Resources {
  milliCpu: number;
  memory: number;
  ephemeralStorage: number;
  /** Extended and other resources (nvidia.com/gpu, hugepages-2Mi, ...); null when none. */
  scalar: Map<string, number> | null;
}

export const CPU = 'cpu';
export const MEMORY = 'memory';
export const EPHEMERAL_STORAGE = 'ephemeral-storage';
export const PODS = 'pods';

/** Kubernetes' defaults for containers that request no cpu / memory, used by scoring. */
export const DEFAULT_MILLI_CPU_REQUEST = 100;
export const DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024;

export function emptyResources(): Resources {
  return { milliCpu: 0, memory: 0, ephemeralStorage: 0, scalar: null };
}

/** Reads a resource list (requests, limits, allocatable, overhead). Throws QuantityError. */
export function resourcesFromList(list: { [key: string]: metav1.Quantity } | undefined): Resources {
  const r = emptyResources();
  if (!list) return r;
  for (const name in list) addResource(r, name, list[name]);
  return r;
}

function addResource(r: Resources, name: string, q: metav1.Quantity | undefined): void {
  switch (name) {
    case CPU:
      r.milliCpu += quantityMilli(q);
      break;
    case MEMORY:
      r.memory += quantityValue(q);
      break;
    case EPHEMERAL_STORAGE:
      r.ephemeralStorage += quantityValue(q);
      break;
    case PODS:
      break;
    default: {
      const v = quantityValue(q);
      if (!r.scalar) r.scalar = new Map();
      r.scalar.set(name, (r.scalar.get(name) ?? 0) + v);
    }
  }
}

/** a += b (or a -= b with sign -1). */
export function addTo(a: Resources, b: Resources, sign = 1): void {
  a.milliCpu += sign * b.milliCpu;
  a.memory += sign * b.memory;
  a.ephemeralStorage += sign * b.ephemeralStorage;
  if (b.scalar) {
    if (!a.scalar) a.scalar = new Map();
    for (const [k, v] of b.scalar) {
      const next = (a.scalar.get(k) ?? 0) + sign * v;
      if (next === 0) a.scalar.delete(k);
      else a.scalar.set(k, next);
    }
  }
}

function maxInto(a: Resources, b: Resources): void {
  a.milliCpu = Math.max(a.milliCpu, b.milliCpu);
  a.memory = Math.max(a.memory, b.memory);
  a.ephemeralStorage = Math.max(a.ephemeralStorage, b.ephemeralStorage);
  if (b.scalar) {
    if (!a.scalar) a.scalar = new Map();
    for (const [k, v] of b.scalar) a.scalar.set(k, Math.max(a.scalar.get(k) ?? 0, v));
  }
}

function copy(r: Resources): Resources {
  return { ...r, scalar: r.scalar ? new Map(r.scalar) : null };
}

/**
 * A container's requests. A resource with a limit but no request is requested at its limit,
 * as the apiserver's defaulting would have set it.
 */
function containerRequests(c: corev1.Container): Resources {
  const requests = c.resources?.requests;
  const limits = c.resources?.limits;
  const r = resourcesFromList(requests);
  if (limits) {
    for (const name in limits) {
      if (requests && name in requests) continue;
      addResource(r, name, limits[name]);
    }
  }
  return r;
}

function hasRequest(c: corev1.Container, name: string): boolean {
  return (c.resources?.requests?.[name] ?? c.resources?.limits?.[name]) !== undefined;
}

/** What a pod requests, and its non-zero cpu and memory for scoring. */
export interface PodRequests {
  requests: Resources;
  nonZeroMilliCpu: number;
  nonZeroMemory: number;
}

/**
 * The pod's requests as Kubernetes computes them: the sum over its containers; restartable
 * init containers (sidecars, restartPolicy Always) run alongside and add to it; each regular
 * init container runs alone (next to the sidecars started before it), so the pod needs the
 * larger of the two; then the pod overhead is added. Throws QuantityError.
 */
export function computePodRequests(spec: corev1.PodSpec | undefined): PodRequests {
  const total = emptyResources();
  let nzCpu = 0;
  let nzMem = 0;
  for (const c of spec?.containers ?? []) {
    const r = containerRequests(c);
    addTo(total, r);
    nzCpu += hasRequest(c, CPU) ? r.milliCpu : DEFAULT_MILLI_CPU_REQUEST;
    nzMem += hasRequest(c, MEMORY) ? r.memory : DEFAULT_MEMORY_REQUEST;
  }
  const init = spec?.initContainers ?? [];
  if (init.length > 0) {
    const sidecars = emptyResources();
    let sideCpu = 0;
    let sideMem = 0;
    const initMax = emptyResources();
    let initCpu = 0;
    let initMem = 0;
    for (const c of init) {
      const r = containerRequests(c);
      const cpu = hasRequest(c, CPU) ? r.milliCpu : DEFAULT_MILLI_CPU_REQUEST;
      const mem = hasRequest(c, MEMORY) ? r.memory : DEFAULT_MEMORY_REQUEST;
      if (c.restartPolicy === 'Always') {
        addTo(total, r);
        addTo(sidecars, r);
        nzCpu += cpu;
        nzMem += mem;
        sideCpu += cpu;
        sideMem += mem;
      } else {
        const withSidecars = copy(r);
        addTo(withSidecars, sidecars);
        maxInto(initMax, withSidecars);
        initCpu = Math.max(initCpu, cpu + sideCpu);
        initMem = Math.max(initMem, mem + sideMem);
      }
    }
    maxInto(total, initMax);
    nzCpu = Math.max(nzCpu, initCpu);
    nzMem = Math.max(nzMem, initMem);
  }
  if (spec?.overhead) {
    const o = resourcesFromList(spec.overhead);
    addTo(total, o);
    nzCpu += o.milliCpu;
    nzMem += o.memory;
  }
  return { requests: total, nonZeroMilliCpu: nzCpu, nonZeroMemory: nzMem };
}
