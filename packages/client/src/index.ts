// @k8ts/client: how every k8ts component talks to the apiserver. Typed clients over one
// gRPC connection, informers (list + watch into an indexed cache), a rate-limited
// workqueue, leader election on Leases, an event recorder, label and field selectors, and
// an in-memory fake clientset for unit tests. Everything users may depend on is exported
// here; other modules are internal.

// Connection and typed clients
export { connect, listAllPages } from './client';
export type { ConnectOptions, RetryOptions, GrpcClientset } from './client';
export { RESOURCES, resourceFor } from './resources';
export type {
  Clientset,
  ResourceClient,
  StatusResourceClient,
  ScalableResourceClient,
  PodClient,
  GenericResourceClient,
  ResourceMember,
  ResourceInfo,
  CallOptions,
  GetOptions,
  ListOptions,
  WatchOptions,
  WriteOptions,
  DeleteOptions,
  LogOptions,
  SelectOptions,
  ObjectList,
} from './resources';
export type { Watch, WatchEvent, WatchEventType, Stream } from './watch';
export { StreamQueue } from './watch';

// Errors
export {
  ApiError,
  toApiError,
  apiErrorFromStatus,
  isNotFound,
  isAlreadyExists,
  isConflict,
  isGone,
  isInvalid,
  isUnauthorized,
  isForbidden,
  isUnavailable,
  isTimeout,
  STATUS_METADATA_KEY,
} from './errors';
export type { StatusReason } from './errors';

// Objects
export { keyOf, objectKey, splitKey, resourceVersionOf, deepCopy, deepFreeze } from './objects';
export type { KubeObject } from './objects';

// Informers and caches
export { Informer, InformerFactory, listWatchFor } from './informer';
export type { ListWatch, EventHandlers, InformerOptions, InformerFactoryOptions, ObjectOf } from './informer';
export { Indexer, listerFor, byNamespace, byNodeName, NAMESPACE_INDEX } from './cache';
export type { IndexFunc, Lister } from './cache';

// Workqueue
export {
  WorkQueue,
  ExponentialRateLimiter,
  BucketRateLimiter,
  MaxOfRateLimiter,
  defaultControllerRateLimiter,
} from './workqueue';
export type { RateLimiter, WorkQueueOptions, RunOptions } from './workqueue';

// Leader election
export { LeaderElector, runLeaderElection } from './leaderelection';
export type { LeaderElectionConfig, LeaderCallbacks, LeaseClient } from './leaderelection';

// Events
export { createEventRecorder, objectReference } from './events';
export type { EventRecorder, EventRecorderOptions, EventType, EventClient } from './events';

// Selectors
export {
  parseLabelSelector,
  labelSelectorAsSelector,
  formatLabelSelector,
  selectorFromSet,
  selectorFromRequirements,
  toLabelSelector,
  everything,
  nothing,
  labelKeyProblem,
  labelValueProblem,
  parseFieldSelector,
  fieldSelectorFromSet,
  fieldValue,
  escapeFieldValue,
  SelectorError,
} from './selectors';
export type { LabelSelector, LabelRequirement, LabelOperator, Labels, FieldSelector, FieldRequirement } from './selectors';

// Time, backoff, logging
export { realClock, FakeClock, sleep, settle } from './clock';
export type { Clock } from './clock';
export { Backoff } from './backoff';
export type { BackoffOptions } from './backoff';
export { noopLogger } from './logger';
export type { Logger } from './logger';

// Testing
export { createFakeClientset, ObjectTracker } from './fake';
export type { FakeClientset, FakeClientsetOptions, FakeAction, Reactor } from './fake';
