// Kubernetes resource quantities ("500m", "2", "128Mi", "1G", "1e3") as numbers, and the
// resource totals of a pod as the kubelet accounts them (admission, downward API).
import type { corev1, metav1 } from '@k8ts/api';

const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };
const QUANTITY = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)|[eE]([+-]?\d+))?$/;

/** The value of a quantity in its base unit (cores, bytes, count); throws on malformed text. */
export function parseQuantity(q: string | metav1.Quantity | undefined): number {
  const text = (typeof q === 'string' ? q : (q?.value ?? '')).trim();
  if (text === '') return 0;
  const m = QUANTITY.exec(text);
  if (!m) throw new Error(`malformed quantity ${JSON.stringify(text)}`);
  const n = Number(m[1]);
  if (m[3] !== undefined) return n * 10 ** Number(m[3]);
  const suffix = m[2] ?? '';
  return n * (BINARY[suffix] ?? DECIMAL[suffix]);
}

/** CPU in millicores, rounded up: "500m" -> 500, "2" -> 2000, "0.1" -> 100. */
export function milliCpu(q: string | metav1.Quantity | undefined): number {
  return Math.ceil(Math.round(parseQuantity(q) * 1e6) / 1e3);
}

/** Memory (or any count) as a whole number, rounded up: "128Mi" -> 134217728. */
export function wholeUnits(q: string | metav1.Quantity | undefined): number {
  return Math.ceil(parseQuantity(q));
}

/** The resources the kubelet accounts for one pod. */
export interface PodRequests {
  cpuMilli: number;
  memoryBytes: number;
}

type ResourceMap = { [key: string]: metav1.Quantity } | undefined;

function request(c: corev1.Container, resource: string): string | metav1.Quantity | undefined {
  const reqs = c.resources?.requests as ResourceMap;
  const lims = c.resources?.limits as ResourceMap;
  // A resource with a limit but no request gets a request equal to the limit.
  return reqs?.[resource] ?? lims?.[resource];
}

/**
 * The effective requests of a pod, as Kubernetes computes them: the larger of the sum over its
 * regular containers (plus sidecar init containers, which keep running) and the largest single
 * init container, plus the pod overhead.
 */
export function podRequests(spec: corev1.PodSpec | undefined): PodRequests {
  const sum = { cpuMilli: 0, memoryBytes: 0 };
  for (const c of spec?.containers ?? []) {
    sum.cpuMilli += milliCpu(request(c, 'cpu'));
    sum.memoryBytes += wholeUnits(request(c, 'memory'));
  }
  let sidecars = { cpuMilli: 0, memoryBytes: 0 };
  const init = { cpuMilli: 0, memoryBytes: 0 };
  for (const c of spec?.initContainers ?? []) {
    const cpu = milliCpu(request(c, 'cpu'));
    const mem = wholeUnits(request(c, 'memory'));
    if (c.restartPolicy === 'Always') {
      sidecars = { cpuMilli: sidecars.cpuMilli + cpu, memoryBytes: sidecars.memoryBytes + mem };
    }
    // An init container runs alongside the sidecars started before it.
    init.cpuMilli = Math.max(init.cpuMilli, sidecars.cpuMilli + (c.restartPolicy === 'Always' ? 0 : cpu));
    init.memoryBytes = Math.max(init.memoryBytes, sidecars.memoryBytes + (c.restartPolicy === 'Always' ? 0 : mem));
  }
  const overhead = spec?.overhead as ResourceMap;
  return {
    cpuMilli: Math.max(sum.cpuMilli + sidecars.cpuMilli, init.cpuMilli) + milliCpu(overhead?.cpu),
    memoryBytes: Math.max(sum.memoryBytes + sidecars.memoryBytes, init.memoryBytes) + wholeUnits(overhead?.memory),
  };
}

/** A container's memory limit in bytes, or undefined when it has none. */
export function memoryLimit(c: corev1.Container): number | undefined {
  const q = (c.resources?.limits as ResourceMap)?.memory;
  return q ? wholeUnits(q) : undefined;
}
