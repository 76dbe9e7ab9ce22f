// The store's key layout, kept once. Every object is one key, as the Kubernetes apiserver
// lays out etcd (with /kubernetes.io/ where Kubernetes has /registry/):
//   /kubernetes.io/<resource>/<namespace>/<name>   a namespaced object
//   /kubernetes.io/<resource>/<name>               a cluster-scoped object
// A list reads the prefix of its resource, or of one namespace of it; the trailing '/' keeps
// namespace "a" from matching namespace "ab". Beside the objects the store holds keys that
// are not objects: one per allocated Service IP and node port (ranges/), one per live
// apiserver (masterleases/). Builders do not validate: names and namespaces are checked by
// the API before a key is made (a name holds no '/').
import type { KindInfo } from '@k8ts/api';

/** What a store key needs to know of a kind. */
export type StoredKind = Pick<KindInfo, 'resource' | 'namespaced'>;

/** The prefix of everything the apiserver keeps in the store. */
export const STORAGE_PREFIX = '/kubernetes.io/';

/** The keys recording which Service cluster IP is allocated: `<prefix><ip>`. */
export const SERVICE_IP_PREFIX = `${STORAGE_PREFIX}ranges/serviceips/`;

/** The keys recording which Service node port is allocated: `<prefix><port>`. */
export const NODE_PORT_PREFIX = `${STORAGE_PREFIX}ranges/servicenodeports/`;

/** The keys of the apiservers alive (each attached to a store lease): `<prefix><ip>:<port>`. */
export const MASTER_LEASES_PREFIX = `${STORAGE_PREFIX}masterleases/`;

/** The prefixes under STORAGE_PREFIX whose keys are not objects. */
const NON_OBJECT_PREFIXES = [`${STORAGE_PREFIX}ranges/`, MASTER_LEASES_PREFIX];

/** The identity of an object, read back from its key. */
export interface ObjectKeyParts {
  resource: string;
  /** Absent for a cluster-scoped object. */
  namespace?: string;
  name: string;
}

/** The key of an object; the namespace is ignored for a cluster-scoped kind. */
export function objectKey(kind: StoredKind, namespace: string, name: string): string {
  return kind.namespaced ? `${STORAGE_PREFIX}${kind.resource}/${namespace}/${name}` : `${STORAGE_PREFIX}${kind.resource}/${name}`;
}

/**
 * The prefix of a list: every object of the resource, or of one namespace of it when the
 * kind is namespaced and a namespace is given ('' means all namespaces).
 */
export function resourcePrefix(kind: StoredKind, namespace?: string): string {
  return kind.namespaced && namespace ? `${STORAGE_PREFIX}${kind.resource}/${namespace}/` : `${STORAGE_PREFIX}${kind.resource}/`;
}

/**
 * The resource, namespace and name an object key spells, or undefined for a key that is not
 * an object's: outside STORAGE_PREFIX, an allocation or apiserver lease key, or not two or
 * three non-empty segments. Two segments are read as cluster-scoped, three as namespaced.
 */
export function parseObjectKey(key: string): ObjectKeyParts | undefined {
  if (!key.startsWith(STORAGE_PREFIX) || isNonObjectKey(key)) return undefined;
  const segments = key.slice(STORAGE_PREFIX.length).split('/');
  if (segments.some((s) => s === '')) return undefined;
  if (segments.length === 2) return { resource: segments[0], name: segments[1] };
  if (segments.length === 3) return { resource: segments[0], namespace: segments[1], name: segments[2] };
  return undefined;
}

function isNonObjectKey(key: string): boolean {
  return NON_OBJECT_PREFIXES.some((p) => key.startsWith(p));
}

/** The key holding an allocated Service cluster IP. */
export function serviceIPKey(ip: string): string {
  return SERVICE_IP_PREFIX + ip;
}

/** The key holding an allocated Service node port. */
export function nodePortKey(port: number): string {
  return NODE_PORT_PREFIX + String(port);
}

/** Whether a key records an allocated Service IP or node port. */
export function isAllocationKey(key: string): boolean {
  return key.startsWith(SERVICE_IP_PREFIX) || key.startsWith(NODE_PORT_PREFIX);
}

/** The key of a live apiserver's lease; `<ip>:<port>`, as the Endpoints of `kubernetes` list it. */
export function masterLeaseKey(ip: string, port: number): string {
  return `${MASTER_LEASES_PREFIX}${ip}:${port}`;
}
