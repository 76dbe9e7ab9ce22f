// @k8ts/client: how every k8ts component talks to the apiserver. Typed clients over one
// gRPC connection, informers (list + watch into an indexed cache), a rate-limited
// workqueue, leader election on Leases, an event recorder, label and field selectors.
// Everything production code may depend on is exported here; other modules are internal.
// The in-memory fake clientset for unit tests is a separate entry point, @k8ts/client/fake
// (src/fake.ts), so that no production build pulls it in.

// Connection and typed clients
export { connect, listAllPages } from './client';
export type { ConnectOptions, RetryOptions, GrpcClientset } from './client';
export { apiserverFlags, apiserverFlagsWith, connectFromConfig, tokenFileSource, TokenFileError } from './apiserverflags';
export type { ApiserverConfig, ApiserverFlagOptions, ConnectFromConfigOptions, TokenFileSourceOptions, TokenSource } from './apiserverflags';
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
  StatusError,
  toStatusError,
  statusErrorFromStatus,
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

// Selectors: kept once in @k8ts/machinery, re-exported for the users of the client
export {
  SelectorError,
  escapeFieldValue,
  everything,
  fieldSelectorFromSet,
  fieldValue,
  formatLabelSelector,
  labelSelectorAsSelector,
  nothing,
  parseFieldSelector,
  parseLabelSelector,
  selectorFromRequirements,
  selectorFromSet,
  toLabelSelector,
} from '@k8ts/machinery';
export type { FieldRequirement, FieldSelector, LabelRequirement, LabelSelector, Labels } from '@k8ts/machinery';

// Time, backoff, logging
export { realClock, FakeClock, sleep, settle } from './clock';
export type { Clock } from './clock';
export { Backoff } from './backoff';
export type { BackoffOptions } from './backoff';
export { noopLogger } from './logger';
export type { Logger } from './logger';

// Delegated authentication and authorization (servers that ask the apiserver about their callers)
export { ReviewClient, ReviewError, AUTHENTICATION_V1, AUTHORIZATION_V1 } from './reviews';
export type {
  AccessReviewer,
  ReviewClientOptions,
  ReviewNonResourceAttributes,
  ReviewResourceAttributes,
  ReviewUser,
  SubjectAccessReviewResult,
  SubjectAccessReviewSpec,
  TokenReviewResult,
  TokenReviewer,
} from './reviews';
export * from './delegatedauth';
