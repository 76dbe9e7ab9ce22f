// The strategy of a kind: everything about a resource's API behaviour that is not generic.
// The generic registry (../registry) does identity, versions, storage, graceful deletion and
// watch, with one read-modify-write path for every write; a strategy says how objects of its
// kind are defaulted, validated, which part is status, which fields are immutable, which
// fields a field selector may use, how a delete proceeds (grace period, what starts a
// deletion, what must be empty before removal), whether objects expire, and which
// allocations (service IPs, node ports) an object holds. The registry has no branch on a kind:
// each such rule is one of the hooks below (Kubernetes' RESTCreateStrategy,
// RESTGracefulDeleteStrategy, TTLFunc ... of k8s.io/apiserver's generic store).
import type { KindInfo } from '@k8ts/api';
import type { ErrorList, NameCheck } from './validation';

/** A resource object as the registry handles it: the generated ts-proto shape. */
export interface ApiObject {
  apiVersion?: string;
  kind?: string;
  metadata?: import('@k8ts/api').metav1.ObjectMeta;
  spec?: any;
  status?: any;
  [field: string]: any;
}

/**
 * A value an object holds exclusively across the cluster (a service IP, a node port), stored
 * as its own key so that two apiserver replicas can never hand it out twice: the key is
 * created in the same store transaction as the object (compare create_revision == 0) and
 * deleted in the same transaction as the object, or as the update that gives it up.
 */
export interface Allocation {
  /** The store key, e.g. /kubernetes.io/ranges/serviceips/127.96.0.10 */
  key: string;
  /** The field path reported when the value is taken: 'spec.clusterIPs', 'spec.ports[0].nodePort'. */
  field: string;
  /** The value as shown in errors: ["127.96.0.10"], 30080. */
  value: unknown;
  /** What the error says when the value is already held by another object. */
  takenMessage: string;
}

/** Picks free values from the configured ranges, for one attempt of one write. */
export interface Allocators {
  /** A free service IP (never the same twice in one attempt), or undefined when the range is full. */
  pickServiceIP(): string | undefined;
  /** A free node port (never the same twice in one attempt), or undefined when the range is full. */
  pickNodePort(): number | undefined;
  readonly serviceIPRange: { readonly cidr: string; contains(ip: string): boolean; allocatable(ip: string): boolean };
  readonly nodePortRange: { readonly min: number; readonly max: number; contains(port: number): boolean };
}

export interface Strategy<T extends ApiObject = ApiObject> {
  readonly kind: KindInfo;
  /** Status is a subresource: Update keeps the stored status, UpdateStatus keeps the rest. */
  readonly hasStatus: boolean;
  /** Checks a name of this kind (DNS-1123 subdomain for most kinds). */
  readonly nameCheck: NameCheck;
  /** Fills defaults in place (also run on update, as Kubernetes decodes with defaults). */
  defaults?(obj: T): void;
  /** Before a create: reset what a client may not set (status, read-only fields). */
  prepareForCreate?(obj: T): void;
  /** Before an update: carry over from the stored object what Update may not change. */
  prepareForUpdate?(obj: T, old: T): void;
  /** Before a status update: the registry has already restored spec and metadata. */
  prepareForStatusUpdate?(obj: T, old: T): void;
  /** Validation of a new object, every problem into errs. */
  validate(obj: T, errs: ErrorList): void;
  /** Extra validation of an update: immutable fields, allowed transitions. */
  validateUpdate?(obj: T, old: T, errs: ErrorList): void;
  /** Validation of a status update. */
  validateStatusUpdate?(obj: T, old: T, errs: ErrorList): void;
  /**
   * Objects of this kind are stored under a store lease and expire (events, --event-ttl), as
   * Kubernetes' TTLFunc. The registry puts every write of the kind under the shared lease of
   * its LeaseManager; without one (or without this flag) objects live until deleted.
   */
  readonly storedWithTTL?: boolean;
  /** Field selector values beyond metadata.name and metadata.namespace. */
  fields?(obj: T): Record<string, string>;
  /**
   * The grace period a delete gets: the request's value, the object's default, or 0 (removed at
   * once unless finalizers keep it). Pods: terminationGracePeriodSeconds, 0 when unscheduled or
   * finished. A pending deletion is only ever shortened by a later delete.
   */
  deleteGracePeriod?(obj: T, requested: number | undefined): number;
  /**
   * Whether a deleted object whose metadata.finalizers are gone may be removed, both on delete
   * and on the update that clears the last finalizer (namespaces wait for spec.finalizers).
   */
  readyToRemove?(obj: T): boolean;
  /** Changes made when a graceful deletion starts, on the object being marked (a namespace turns Terminating). */
  beginDelete?(obj: T): void;
  /**
   * Fills server-picked values (cluster IPs, node ports) before validation, and reports
   * user-chosen values outside the configured ranges into errs. old is set on update.
   * Returns the store keys of the values it picked (they may be re-picked on a collision).
   */
  allocate?(obj: T, old: T | undefined, alloc: Allocators, errs: ErrorList): Set<string>;
  /** The allocations an object holds. */
  allocations?(obj: T): Allocation[];
}
