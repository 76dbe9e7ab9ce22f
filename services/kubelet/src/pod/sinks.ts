// Where the pod worker's results go. The kubelet implements these over the API (UpdateStatus of
// the pod, Create of Events); tests record them.
import type { corev1 } from '@k8ts/api';

/** A pod's identity. */
export interface PodRef {
  namespace: string;
  name: string;
  uid: string;
}

export function podRef(pod: corev1.Pod): PodRef {
  return { namespace: pod.metadata?.namespace ?? '', name: pod.metadata?.name ?? '', uid: pod.metadata?.uid ?? '' };
}

/** Receives every changed status of a pod, in order. The API wiring calls UpdatePodStatus. */
export interface StatusSink {
  updatePodStatus(pod: PodRef, status: corev1.PodStatus): void | Promise<void>;
}

/** One event about a pod (Kubernetes' Event: involvedObject, type, reason, message). */
export interface PodEvent {
  pod: PodRef;
  /** The part of the pod, e.g. "spec.containers{web}" (empty: the pod itself). */
  fieldPath: string;
  type: 'Normal' | 'Warning';
  /** Pulled, Created, Started, Killing, Unhealthy, BackOff, Failed, … */
  reason: string;
  message: string;
  /** Epoch ms. */
  time: number;
}

/** Receives events. The API wiring turns them into Event objects (with the event recorder). */
export interface EventSink {
  event(e: PodEvent): void;
}

export const nullEventSink: EventSink = { event: () => {} };
