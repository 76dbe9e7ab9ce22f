// Pod status computation, pure: from the container statuses the pod worker builds, the phase
// (Kubernetes' getPhase), the conditions (PodScheduled, PodReadyToStartContainers, Initialized,
// ContainersReady, Ready with readiness gates) and the QoS class.
import type { corev1 } from '@k8ts/api';
import { podQOSClass } from '@k8ts/machinery';
import type { QOSClass } from '@k8ts/machinery';

export type Phase = 'Pending' | 'Running' | 'Succeeded' | 'Failed';

function find(list: corev1.ContainerStatus[], name: string | undefined): corev1.ContainerStatus | undefined {
  return list.find((s) => s.name === name);
}

export function isSidecar(c: corev1.Container): boolean {
  return c.restartPolicy === 'Always';
}

/** Init containers that have not completed (sidecars: not started), in spec order. */
export function pendingInitContainers(spec: corev1.PodSpec | undefined, init: corev1.ContainerStatus[]): string[] {
  const out: string[] = [];
  for (const c of spec?.initContainers ?? []) {
    const s = find(init, c.name);
    if (isSidecar(c)) {
      if (!s?.started) out.push(c.name ?? '');
    } else if (!(s?.state?.terminated && s.state.terminated.exitCode === 0)) {
      out.push(c.name ?? '');
    }
  }
  return out;
}

/**
 * The pod's phase from its container statuses (Kubernetes' getPhase). podIsTerminal: the
 * kubelet has stopped the pod for good (deleted, or every container finished for good).
 */
export function computePhase(
  spec: corev1.PodSpec | undefined,
  init: corev1.ContainerStatus[],
  containers: corev1.ContainerStatus[],
  podIsTerminal = false,
  initialized = false,
): Phase {
  const policy = spec?.restartPolicy || 'Always';
  let pendingInit = 0;
  let failedInit = 0;
  // Once initialized, a pod stays initialized (a restarting sidecar does not make it Pending).
  for (const c of initialized ? [] : (spec?.initContainers ?? [])) {
    const s = find(init, c.name);
    if (isSidecar(c)) {
      if (!s?.started) pendingInit++;
      continue;
    }
    if (!s) {
      pendingInit++;
    } else if (s.state?.running) {
      pendingInit++;
    } else if (s.state?.terminated) {
      if (s.state.terminated.exitCode !== 0) failedInit++;
    } else if (s.lastState?.terminated) {
      if (s.lastState.terminated.exitCode !== 0) failedInit++;
      else pendingInit++;
    } else {
      pendingInit++;
    }
  }
  let unknown = 0;
  let running = 0;
  let waiting = 0;
  let stopped = 0;
  let succeeded = 0;
  for (const c of spec?.containers ?? []) {
    const s = find(containers, c.name);
    if (!s) unknown++;
    else if (s.state?.running) running++;
    else if (s.state?.terminated) {
      stopped++;
      if (s.state.terminated.exitCode === 0) succeeded++;
    } else if (s.lastState?.terminated) {
      stopped++;
    } else if (s.state?.waiting) waiting++;
    else unknown++;
  }
  if (failedInit > 0 && (policy === 'Never' || podIsTerminal)) return 'Failed';
  if (pendingInit > 0 || failedInit > 0) return podIsTerminal ? 'Failed' : 'Pending';
  if (podIsTerminal && running === 0) {
    // Stopped for good: succeeded only when every container exited 0.
    return stopped > 0 && stopped === succeeded && waiting === 0 && unknown === 0 ? 'Succeeded' : 'Failed';
  }
  if (waiting > 0) return 'Pending';
  if (running > 0 && unknown === 0) return 'Running';
  if (running === 0 && stopped > 0 && unknown === 0) {
    if (policy === 'Always') return 'Running';
    if (stopped === succeeded) return 'Succeeded';
    if (policy === 'Never') return 'Failed';
    return 'Running';
  }
  return 'Pending';
}

export interface ConditionInput {
  spec: corev1.PodSpec | undefined;
  /** Conditions of the previous status (transition times are kept while a status holds). */
  previous: corev1.PodCondition[] | undefined;
  init: corev1.ContainerStatus[];
  containers: corev1.ContainerStatus[];
  phase: Phase;
  /** Whether the pod has its sandbox (IP). */
  sandboxReady: boolean;
  /** The pod was initialized once (the condition stays True). */
  initialized?: boolean;
  now: number;
  generation?: number;
}

/** The pod conditions, in Kubernetes' order, keeping transition times of unchanged ones. */
export function computeConditions(input: ConditionInput): corev1.PodCondition[] {
  const { spec, previous = [], init, containers, phase } = input;
  const t = new Date(input.now).toISOString();
  const cond = (type: string, ok: boolean, reason = '', message = ''): corev1.PodCondition => {
    const status = ok ? 'True' : 'False';
    const prev = previous.find((c) => c.type === type);
    const c: corev1.PodCondition = {
      type,
      status,
      lastTransitionTime: prev && prev.status === status && prev.lastTransitionTime ? prev.lastTransitionTime : t,
    };
    if (reason) c.reason = reason;
    if (message) c.message = message;
    if (input.generation) c.observedGeneration = input.generation;
    return c;
  };
  const out: corev1.PodCondition[] = [];
  out.push(cond('PodReadyToStartContainers', input.sandboxReady));

  const pending = input.initialized ? [] : pendingInitContainers(spec, init);
  const initialized = pending.length === 0 || phase === 'Succeeded';
  out.push(
    initialized
      ? cond('Initialized', true)
      : cond('Initialized', false, 'ContainersNotInitialized', `containers with incomplete status: [${pending.join(' ')}]`),
  );

  const unready: string[] = [];
  for (const c of spec?.containers ?? []) if (!find(containers, c.name)?.ready) unready.push(c.name ?? '');
  for (const c of spec?.initContainers ?? []) if (isSidecar(c) && !find(init, c.name)?.ready) unready.push(c.name ?? '');
  let containersReady: corev1.PodCondition;
  if (phase === 'Succeeded' || phase === 'Failed') {
    containersReady = cond('ContainersReady', false, 'PodCompleted');
  } else if (!initialized) {
    containersReady = cond('ContainersReady', false, 'ContainersNotInitialized', `containers with incomplete status: [${pending.join(' ')}]`);
  } else if (unready.length > 0) {
    containersReady = cond('ContainersReady', false, 'ContainersNotReady', `containers with unready status: [${unready.join(' ')}]`);
  } else {
    containersReady = cond('ContainersReady', true);
  }

  // Readiness gates: conditions other components set on the pod must be True too.
  const gateProblems: string[] = [];
  for (const g of spec?.readinessGates ?? []) {
    const c = previous.find((p) => p.type === g.conditionType);
    if (!c) gateProblems.push(`corresponding condition of pod readiness gate "${g.conditionType}" does not exist.`);
    else if (c.status !== 'True') gateProblems.push(`the status of pod readiness gate "${g.conditionType}" is not "True", but ${c.status}`);
  }
  let ready: corev1.PodCondition;
  if (containersReady.status !== 'True') {
    ready = cond('Ready', false, containersReady.reason, containersReady.message);
  } else if (gateProblems.length > 0) {
    ready = cond('Ready', false, 'ReadinessGatesNotReady', gateProblems.join(', '));
  } else {
    ready = cond('Ready', true);
  }
  out.push(ready, containersReady);

  const scheduled = previous.find((c) => c.type === 'PodScheduled');
  out.push(scheduled && scheduled.status === 'True' ? { ...scheduled } : cond('PodScheduled', true));

  // Conditions owned by others (readiness gates, DisruptionTarget, …) are carried over.
  for (const c of previous) if (!KUBELET_CONDITIONS.has(c.type ?? '')) out.push({ ...c });
  return out;
}

/** The pod conditions the kubelet owns; others (readiness gates, …) are set through the API. */
export const KUBELET_CONDITIONS = new Set(['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled']);

/** The pod's QoS class, as Kubernetes computes it (@k8ts/machinery's podQOSClass, the apiserver's too). */
export function qosClass(spec: corev1.PodSpec | undefined): QOSClass {
  return podQOSClass({ spec });
}
