// The data the authenticators and authorizers read (../auth/types.ts), served from the watch
// caches: synchronous, and as fresh as the change feed (a role or binding written through
// another apiserver replica takes effect here once its event arrives).
import type { corev1, rbacv1 } from '@k8ts/api';
import { objectKey } from '@k8ts/machinery';
import type { NodeGraphSource, RbacSource, ServiceAccountSource } from '../auth/types';
import type { CacheHub } from '../cache/hub';

export const PODS_BY_NODE = 'spec.nodeName';

function inNamespace<T>(hub: CacheHub, resource: string, namespace: string): T[] {
  const out: T[] = [];
  for (const e of hub.cache(resource).values()) if (e.namespace === namespace) out.push(e.obj as T);
  return out;
}

function all<T>(hub: CacheHub, resource: string): T[] {
  const out: T[] = [];
  for (const e of hub.cache(resource).values()) out.push(e.obj as T);
  return out;
}

export function rbacSource(hub: CacheHub): RbacSource {
  return {
    roles: (ns) => inNamespace<rbacv1.Role>(hub, 'roles', ns),
    clusterRoles: () => all<rbacv1.ClusterRole>(hub, 'clusterroles'),
    roleBindings: (ns) => inNamespace<rbacv1.RoleBinding>(hub, 'rolebindings', ns),
    clusterRoleBindings: () => all<rbacv1.ClusterRoleBinding>(hub, 'clusterrolebindings'),
  };
}

export function serviceAccountSource(hub: CacheHub): ServiceAccountSource {
  const get = <T>(resource: string, ns: string, name: string) => {
    const cache = hub.cache(resource);
    return cache.get(objectKey(cache.kind, ns, name))?.obj as T | undefined;
  };
  return {
    getServiceAccount: (ns, name) => get<corev1.ServiceAccount>('serviceaccounts', ns, name),
    getSecret: (ns, name) => get<corev1.Secret>('secrets', ns, name),
    getPod: (ns, name) => get<corev1.Pod>('pods', ns, name),
  };
}

/** Pods by node: an index of the pod cache on spec.nodeName. */
export function nodeGraphSource(hub: CacheHub): NodeGraphSource {
  const pods = hub.cache('pods');
  pods.addIndex(PODS_BY_NODE, (obj) => {
    const node = (obj as corev1.Pod).spec?.nodeName;
    return node ? [node] : [];
  });
  return {
    podsOnNode: (node) => pods.byIndex(PODS_BY_NODE, node).map((e) => e.obj as corev1.Pod),
    getPod: (ns, name) => pods.get(objectKey(pods.kind, ns, name))?.obj as corev1.Pod | undefined,
  };
}
