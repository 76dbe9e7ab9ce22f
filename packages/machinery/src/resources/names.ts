// Resource names and their kinds, as Kubernetes' v1 helpers classify them: native resources
// (no "/" in the name, or in the kubernetes.io/ namespace), extended resources (any other
// domain-qualified name, "example.com/gpu"), huge pages ("hugepages-2Mi"), attachable volumes.
// The scheduler counts cpu, memory, ephemeral-storage and pods on their own and "scalar"
// resources (extended, huge pages, prefixed native, attachable volumes) by name; it ignores
// the rest.

export const CPU = 'cpu';
export const MEMORY = 'memory';
export const EPHEMERAL_STORAGE = 'ephemeral-storage';
export const PODS = 'pods';

const DEFAULT_NAMESPACE_PREFIX = 'kubernetes.io/';
const REQUESTS_PREFIX = 'requests.';
const HUGEPAGES_PREFIX = 'hugepages-';
const ATTACHABLE_VOLUMES_PREFIX = 'attachable-volumes-';

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS1123_SUBDOMAIN_MAX = 253;
const QUALIFIED_NAME_MAX = 63;

/** Kubernetes' IsQualifiedName: [prefix/]name, the prefix a DNS subdomain, the name at most 63 characters. */
function isQualifiedName(value: string): boolean {
  const parts = value.split('/');
  if (parts.length > 2) return false;
  const name = parts[parts.length - 1];
  if (parts.length === 2) {
    const prefix = parts[0];
    if (prefix.length === 0 || prefix.length > DNS1123_SUBDOMAIN_MAX || !DNS1123_SUBDOMAIN.test(prefix)) return false;
  }
  return name.length > 0 && name.length <= QUALIFIED_NAME_MAX && QUALIFIED_NAME_PART.test(name);
}

/** A native resource in the kubernetes.io/ namespace ("kubernetes.io/batch-jobs"). */
export function isPrefixedNativeResource(name: string): boolean {
  return name.includes(DEFAULT_NAMESPACE_PREFIX);
}

/** A resource Kubernetes defines itself: no domain, or the kubernetes.io/ one. */
export function isNativeResource(name: string): boolean {
  return !name.includes('/') || isPrefixedNativeResource(name);
}

/** An extended resource: a domain-qualified name outside kubernetes.io ("nvidia.com/gpu"). */
export function isExtendedResourceName(name: string): boolean {
  if (isNativeResource(name) || name.startsWith(REQUESTS_PREFIX)) return false;
  // It must also be usable in a resource quota, as "requests.<name>".
  return isQualifiedName(REQUESTS_PREFIX + name);
}

export function isHugePageResourceName(name: string): boolean {
  return name.startsWith(HUGEPAGES_PREFIX);
}

export function isAttachableVolumeResourceName(name: string): boolean {
  return name.startsWith(ATTACHABLE_VOLUMES_PREFIX);
}

/** A resource the scheduler accounts by name (its "scalar resources"). */
export function isScalarResourceName(name: string): boolean {
  return isExtendedResourceName(name) || isHugePageResourceName(name) || isPrefixedNativeResource(name) || isAttachableVolumeResourceName(name);
}
