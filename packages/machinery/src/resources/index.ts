// Pod resource math kept once: Kubernetes' component-helpers resource.PodRequests/PodLimits,
// the scheduler's counted form of them and its fit check (shared with the kubelet's
// admission), resource-name classes, and the QoS class.
export { CPU, EPHEMERAL_STORAGE, MEMORY, PODS, isExtendedResourceName, isHugePageResourceName, isNativeResource, isScalarResourceName } from './names';
export { addResourceList, maxResourceList, resourceListOf, toApiResourceList } from './lists';
export type { ApiResourceList, ResourceList } from './lists';
export { podLimits, podRequests } from './pod';
export type { PodLike, PodResourcesOptions } from './pod';
export {
  DEFAULT_MEMORY_REQUEST,
  DEFAULT_MILLI_CPU_REQUEST,
  NON_ZERO_DEFAULT_REQUESTS,
  addComputeResources,
  computeResourcesOf,
  emptyComputeResources,
  podSchedulingRequests,
} from './compute';
export type { ComputeResources, PodSchedulingRequests } from './compute';
export { TOO_MANY_PODS, insufficientReason, insufficientResources } from './fit';
export type { InsufficientResource, NodeResources } from './fit';
export { podQOSClass } from './qos';
export type { QOSClass } from './qos';
