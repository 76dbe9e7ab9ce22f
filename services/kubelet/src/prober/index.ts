// Probes: one attempt by handler (probes.ts), and the periodic, thresholded worker (worker.ts).
export { runProbe, resolvePort, probeHandler } from './probes';
export type { ProbeOutcome, ProbeTarget } from './probes';
export { ProbeWorker, probeTiming } from './worker';
export type { ProbeKind, ProbeWorkerOptions } from './worker';
