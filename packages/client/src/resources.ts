// The typed client interfaces (what `clientset.pods` and friends offer) and the table that
// ties each Clientset member to its kind and to its generated gRPC service. Both the gRPC
// clientset and the in-memory fake are built from this table, so they offer the same
// methods for the same kinds.
import type * as grpc from '@grpc/grpc-js';
import { KINDS, appsv1, batchv1, coordinationv1, corev1, rbacv1 } from '@k8ts/api';
import type { KindInfo } from '@k8ts/api';
import type { KubeObject } from './objects';
import type { Stream, Watch } from './watch';

/** Options every call accepts. */
export interface CallOptions {
  /**
   * The time the call (with its retries) may take, in milliseconds. Default: the
   * clientset's deadlineMs. Watches and log streams have no deadline unless given one.
   */
  deadlineMs?: number;
  /** Cancels the call: it rejects with a StatusError of code CANCELLED. */
  signal?: AbortSignal;
}

export interface GetOptions extends CallOptions {
  /** The object's namespace: required for namespaced kinds, ignored for cluster-scoped ones. */
  namespace?: string;
  /** '' (default): the latest state. '0': any cached state is acceptable. */
  resourceVersion?: string;
}

/** Which objects a list or watch selects. */
export interface SelectOptions {
  /** Only this namespace; '' or unset for every namespace. Ignored for cluster-scoped kinds. */
  namespace?: string;
  /** Kubernetes' label selector string: 'app=web,tier!=db,env in (a,b),!legacy'. */
  labelSelector?: string;
  /** A field selector: 'metadata.name=x,spec.nodeName!=y'. */
  fieldSelector?: string;
}

export interface ListOptions extends SelectOptions, CallOptions {
  /** The largest number of items in this page (0 or unset: no limit). */
  limit?: number;
  /** The `continue` token of the previous page. */
  continue?: string;
  /** '' (default): the latest state; '0': any cached state; a version: exactly that state. */
  resourceVersion?: string;
}

export interface WatchOptions extends SelectOptions {
  /** Send changes after this version; '' or '0': first an ADDED event per current object. */
  resourceVersion?: string;
  /** Ask the server for BOOKMARK events. */
  allowWatchBookmarks?: boolean;
  /** Ends the watch (like stop()). */
  signal?: AbortSignal;
  /** Ends the watch after this long; default: never. */
  deadlineMs?: number;
}

export interface WriteOptions extends CallOptions {
  /** Validate, default and admit without storing. */
  dryRun?: boolean;
}

export interface DeleteOptions extends CallOptions {
  /** The object's namespace: required for namespaced kinds, ignored for cluster-scoped ones. */
  namespace?: string;
  /** Seconds before the object is removed; unset: the kind's default; 0: at once. */
  gracePeriodSeconds?: number;
  /** What happens to dependents. Default (server side): Background. */
  propagationPolicy?: 'Background' | 'Foreground' | 'Orphan';
  /** Delete only if the object still has this uid and/or resource version (else a conflict). */
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: boolean;
}

/** One page of a list, read at `resourceVersion` (start a watch from it). */
export interface ObjectList<T> {
  items: T[];
  resourceVersion: string;
  /** The token for the next page; '' on the last page. */
  continue: string;
  remainingItemCount?: number;
}

/** The standard methods of every kind. All failures reject with a StatusError. */
export interface ResourceClient<T extends KubeObject> {
  readonly kind: KindInfo;
  /** Reads one object (retried on UNAVAILABLE). */
  get(name: string, opts?: GetOptions): Promise<T>;
  /** Reads one page of objects (retried on UNAVAILABLE). */
  list(opts?: ListOptions): Promise<ObjectList<T>>;
  /** Reads every page (following `continue` tokens; all pages come from one version). */
  listAll(opts?: Omit<ListOptions, 'continue'>): Promise<ObjectList<T>>;
  /** Streams changes. Never retried: informers handle restarts. */
  watch(opts?: WatchOptions): Watch<T>;
  /** Creates the object (namespace from its metadata). Never retried. */
  create(obj: T, opts?: WriteOptions): Promise<T>;
  /** Replaces metadata and spec; a stale metadata.resourceVersion fails with a conflict. Never retried. */
  update(obj: T, opts?: WriteOptions): Promise<T>;
  /** Deletes the object; resolves with its last state. Never retried. */
  delete(name: string, opts?: DeleteOptions): Promise<T>;
}

/** A kind with a status subresource. */
export interface StatusResourceClient<T extends KubeObject> extends ResourceClient<T> {
  /** Replaces the status only (spec is ignored by the server). Never retried. */
  updateStatus(obj: T, opts?: CallOptions): Promise<T>;
}

/** A kind with a scale subresource (Deployments, ReplicaSets). */
export interface ScalableResourceClient<T extends KubeObject> extends StatusResourceClient<T> {
  getScale(name: string, opts?: Omit<GetOptions, 'resourceVersion'>): Promise<appsv1.Scale>;
  /** Sets spec.replicas; metadata names the object and its resourceVersion guards the update. */
  updateScale(scale: appsv1.Scale, opts?: CallOptions): Promise<appsv1.Scale>;
}

export interface LogOptions {
  /** The pod's namespace. Required. */
  namespace?: string;
  container?: string;
  follow?: boolean;
  tailLines?: number;
  previous?: boolean;
  timestamps?: boolean;
  sinceSeconds?: number;
  signal?: AbortSignal;
  deadlineMs?: number;
}

/** Pods: the standard methods plus binding and logs. */
export interface PodClient extends StatusResourceClient<corev1.Pod> {
  /** Binds a pod to a node: binding.metadata names the pod, binding.target the node. */
  bind(binding: corev1.Binding, opts?: CallOptions): Promise<void>;
  /** Streams a container's log in chunks of whole lines. */
  logs(name: string, opts?: LogOptions): Stream<Buffer>;
}

/** Any kind's client when the kind is only known at run time. */
export type GenericResourceClient = ResourceClient<KubeObject> &
  Partial<Pick<StatusResourceClient<KubeObject>, 'updateStatus'>> &
  Partial<Pick<ScalableResourceClient<KubeObject>, 'getScale' | 'updateScale'>>;

/** One typed client per kind, all over one connection. */
export interface Clientset {
  namespaces: StatusResourceClient<corev1.Namespace>;
  nodes: StatusResourceClient<corev1.Node>;
  pods: PodClient;
  services: StatusResourceClient<corev1.Service>;
  endpoints: ResourceClient<corev1.Endpoints>;
  serviceAccounts: ResourceClient<corev1.ServiceAccount>;
  secrets: ResourceClient<corev1.Secret>;
  configMaps: ResourceClient<corev1.ConfigMap>;
  events: ResourceClient<corev1.Event>;
  replicaSets: ScalableResourceClient<appsv1.ReplicaSet>;
  deployments: ScalableResourceClient<appsv1.Deployment>;
  jobs: StatusResourceClient<batchv1.Job>;
  leases: ResourceClient<coordinationv1.Lease>;
  roles: ResourceClient<rbacv1.Role>;
  clusterRoles: ResourceClient<rbacv1.ClusterRole>;
  roleBindings: ResourceClient<rbacv1.RoleBinding>;
  clusterRoleBindings: ResourceClient<rbacv1.ClusterRoleBinding>;
  /**
   * The client of a kind known only at run time: by KindInfo, resource ('pods'), Kind
   * ('Pod') or short name ('po'). Throws for an unknown kind.
   */
  forKind(kind: KindInfo | string): GenericResourceClient;
  /** Closes the connection; calls in flight fail with CANCELLED or UNAVAILABLE. */
  close(): void;
}

/** The names of the typed clients in a Clientset. */
export type ResourceMember = Exclude<keyof Clientset, 'forKind' | 'close'>;

/** A generated grpc-js client class (corev1.PodServiceClient, ...). */
export interface ServiceClientClass {
  new (address: string, credentials: grpc.ChannelCredentials, options?: Partial<grpc.ClientOptions>): grpc.Client;
  service: grpc.ServiceDefinition;
  serviceName: string;
}

/** Everything the clients need to know about one kind. */
export interface ResourceInfo {
  member: ResourceMember;
  kind: KindInfo;
  /** The generated client class. */
  Client: ServiceClientClass;
  /** The request/response field holding one object: 'pod', 'serviceAccount', ... */
  field: string;
  /** Method names of the generated client (absent when the kind lacks the method). */
  methods: {
    get: string;
    list: string;
    watch: string;
    create: string;
    update: string;
    delete: string;
    updateStatus?: string;
    bind?: string;
    logs?: string;
    getScale?: string;
    updateScale?: string;
  };
}

const MEMBERS: Record<ResourceMember, [string, Record<string, unknown>]> = {
  namespaces: ['Namespace', corev1],
  nodes: ['Node', corev1],
  pods: ['Pod', corev1],
  services: ['Service', corev1],
  endpoints: ['Endpoints', corev1],
  serviceAccounts: ['ServiceAccount', corev1],
  secrets: ['Secret', corev1],
  configMaps: ['ConfigMap', corev1],
  events: ['Event', corev1],
  replicaSets: ['ReplicaSet', appsv1],
  deployments: ['Deployment', appsv1],
  jobs: ['Job', batchv1],
  leases: ['Lease', coordinationv1],
  roles: ['Role', rbacv1],
  clusterRoles: ['ClusterRole', rbacv1],
  roleBindings: ['RoleBinding', rbacv1],
  clusterRoleBindings: ['ClusterRoleBinding', rbacv1],
};

const lowerFirst = (s: string) => s.charAt(0).toLowerCase() + s.slice(1);

function describe(member: ResourceMember): ResourceInfo {
  const [kindName, pkg] = MEMBERS[member];
  const kind = KINDS.find((k) => k.kind === kindName);
  const Client = pkg[`${kindName}ServiceClient`] as ServiceClientClass | undefined;
  if (!kind || !Client) throw new Error(`@k8ts/client: no kind or generated service for ${kindName}`);
  const has = (m: string) => (m in Client.service ? m : undefined);
  const list = Object.keys(Client.service).find((m) => m.startsWith('list'));
  if (!list) throw new Error(`@k8ts/client: ${Client.serviceName} has no List method`);
  const plural = list.slice('list'.length);
  return {
    member,
    kind,
    Client,
    field: lowerFirst(kindName),
    methods: {
      get: `get${kindName}`,
      list,
      watch: `watch${plural}`,
      create: `create${kindName}`,
      update: `update${kindName}`,
      delete: `delete${kindName}`,
      updateStatus: has(`update${kindName}Status`),
      bind: has(`bind${kindName}`),
      logs: has(`get${kindName}Logs`),
      getScale: has(`get${kindName}Scale`),
      updateScale: has(`update${kindName}Scale`),
    },
  };
}

/** Every typed client of a Clientset, in the order of the KINDS table. */
export const RESOURCES: readonly ResourceInfo[] = (Object.keys(MEMBERS) as ResourceMember[]).map(describe);

/** Finds the resource of a kind given as KindInfo, resource, Kind or short name. */
export function resourceFor(kind: KindInfo | string): ResourceInfo {
  const name = typeof kind === 'string' ? kind.toLowerCase() : kind.kind.toLowerCase();
  const found = RESOURCES.find(
    (r) =>
      r.kind.kind.toLowerCase() === name ||
      r.kind.resource === name ||
      r.kind.shortNames.includes(name) ||
      r.member.toLowerCase() === name,
  );
  if (!found) throw new Error(`@k8ts/client: unknown kind ${typeof kind === 'string' ? kind : kind.kind}`);
  return found;
}
