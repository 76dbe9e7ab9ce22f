// @k8ts/kubelet: the node agent. start(config) (kubelet.ts) wires the node-side engine to an
// apiserver: Node registration, status and Lease (agent/node.ts), the pods bound to the node
// through an informer into the PodManager, pod status through UpdatePodStatus
// (agent/status.ts), Events, ConfigMaps and Secrets, the end of graceful deletions
// (agent/sinks.ts) and the k8ts.kubelet.v1 API (agent/server.ts). The engine: runtimes
// (process, sim), built-in images, probes and the pod lifecycle (PodManager, PodWorker).
export { start, COMPONENT, NodeKubelet } from './kubelet';
export type { Kubelet, StartOptions } from './kubelet';
export { NodeAgent, NODE_LEASE_NAMESPACE, microTime } from './agent/node';
export type { NodeAgentOptions } from './agent/node';
export { nodeStatus, nodeConditions, nodeObject, nodeLabels, statusKey, cpuQuantity, bytesQuantity, hostPressure, NO_PRESSURE } from './agent/nodestatus';
export type { NodeDescription, Readiness, Pressure } from './agent/nodestatus';
export { PodStatusWriter } from './agent/status';
export type { PodStatusWriterOptions } from './agent/status';
export { ApiEventSink, TokenBucket, apiEnvSource, podTerminator } from './agent/sinks';
export { kubeletService } from './agent/server';
export type { PodFinder, KubeletServiceHandle } from './agent/server';
export { splitCidr } from './agent/cidr';
export * from './runtime';
export * from './pod';
export * from './prober';
export { ImageTable, builtinImages, builtinScript, imageCandidates, parseImageTable, LOCAL_PREFIX } from './images';
export type { ImageSpec, ResolvedImage, ImageTableOptions } from './images';
export { flags, agentFlags, engineFlags, kubeletServerFlags, nodeIdentity, backoffPolicy, rootDir, createRuntime } from './config';
export type { EngineConfig, KubeletConfig } from './config';
