// @k8ts/kubelet: the node agent. What exists today is the node-side engine: runtimes (process,
// sim), built-in images, probes and the pod lifecycle (PodManager, PodWorker). The API wiring
// (Node registration, Lease, pod informer, UpdatePodStatus, Events, the k8ts.kubelet.v1 logs
// API and start(config)) plugs into StatusSink, EventSink, EnvSource and PodManager; see README.
export * from './runtime';
export * from './pod';
export * from './prober';
export { ImageTable, builtinImages, builtinScript, imageCandidates, parseImageTable, LOCAL_PREFIX } from './images';
export type { ImageSpec, ResolvedImage, ImageTableOptions } from './images';
export { engineFlags, nodeIdentity, backoffPolicy, rootDir, createRuntime } from './config';
export type { EngineConfig } from './config';
export { parseQuantity, milliCpu, wholeUnits, podRequests, memoryLimit } from './quantity';
export type { PodRequests } from './quantity';
