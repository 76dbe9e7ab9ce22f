// The pod lifecycle engine: workers, manager, admission, status, back-off, sinks.
export { PodWorker, gracePeriodSeconds } from './worker';
export type { PodWorkerDeps } from './worker';
export { PodManager, PodLogError } from './manager';
export type { PodManagerOptions, NodeIdentity, PodLogOptions } from './manager';
export { admitPod, rejectedStatus } from './admission';
export type { AdmitResult, NodeAllocatable } from './admission';
export { computePhase, computeConditions, pendingInitContainers, qosClass } from './status';
export type { Phase } from './status';
export { Backoff, backoffDelay, formatGoDuration, DEFAULT_BACKOFF } from './backoff';
export type { BackoffPolicy } from './backoff';
export { podRef, nullEventSink } from './sinks';
export type { StatusSink, EventSink, PodEvent, PodRef } from './sinks';
