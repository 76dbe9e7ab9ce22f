// What the library knows about every resource object: it has metadata with a namespace,
// a name and a resource version. Keys, copies and freezing of objects live here.
import type { metav1 } from '@k8ts/api';

/** Any k8ts resource: the generated message types (corev1.Pod, appsv1.Deployment, ...) all fit. */
export interface KubeObject {
  apiVersion?: string | undefined;
  kind?: string | undefined;
  metadata?: metav1.ObjectMeta | undefined;
}

/**
 * The cache key of an object: `namespace/name` for namespaced objects, `name` for
 * cluster-scoped ones, as in client-go's MetaNamespaceKeyFunc.
 */
export function keyOf(obj: KubeObject): string {
  return objectKey(obj.metadata?.namespace ?? '', obj.metadata?.name ?? '');
}

/** Builds a key from a namespace ('' for cluster-scoped objects) and a name. */
export function objectKey(namespace: string, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

/** Splits a key made by keyOf or objectKey into namespace ('' when none) and name. */
export function splitKey(key: string): { namespace: string; name: string } {
  const i = key.indexOf('/');
  return i < 0 ? { namespace: '', name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

/** The object's resource version, '' when it has none. */
export function resourceVersionOf(obj: KubeObject | undefined): string {
  return obj?.metadata?.resourceVersion ?? '';
}

/**
 * Freezes an object and everything it holds, so that code which mutates a shared object
 * (for example one read from an informer's cache) fails loudly instead of corrupting it.
 * Byte arrays cannot be frozen and are left as they are.
 */
export function deepFreeze<T>(obj: T): T {
  if (obj === null || typeof obj !== 'object' || Object.isFrozen(obj) || ArrayBuffer.isView(obj)) return obj;
  for (const value of Object.values(obj as object)) deepFreeze(value);
  return Object.freeze(obj);
}

/**
 * A deep copy that is safe to mutate: plain objects and arrays are copied, Buffers and byte
 * arrays are copied as their own kind, Dates keep being Dates. Use it before changing an
 * object read from a cache.
 */
export function deepCopy<T>(obj: T): T {
  if (obj === null || typeof obj !== 'object') return obj;
  if (Buffer.isBuffer(obj)) return Buffer.from(obj) as T;
  if (ArrayBuffer.isView(obj)) return (obj as unknown as Uint8Array).slice() as T;
  if (obj instanceof Date) return new Date(obj.getTime()) as T;
  if (Array.isArray(obj)) return obj.map((v) => deepCopy(v)) as T;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj as object)) out[k] = deepCopy(v);
  return out as T;
}
