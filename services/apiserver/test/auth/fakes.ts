// In-memory fakes of the sources the apiserver implements over its watch cache, for the auth
// unit tests only.
import type { corev1, rbacv1 } from '@k8ts/api';
import type { Attributes, NodeGraphSource, RbacSource, ServiceAccountSource, UserInfo } from '../../src/auth';

/** RBAC objects held in arrays. */
export class FakeRbacSource implements RbacSource {
  constructor(
    public roleList: rbacv1.Role[] = [],
    public clusterRoleList: rbacv1.ClusterRole[] = [],
    public roleBindingList: rbacv1.RoleBinding[] = [],
    public clusterRoleBindingList: rbacv1.ClusterRoleBinding[] = [],
  ) {}
  roles(namespace: string): rbacv1.Role[] {
    return this.roleList.filter((r) => r.metadata?.namespace === namespace);
  }
  clusterRoles(): rbacv1.ClusterRole[] {
    return this.clusterRoleList;
  }
  roleBindings(namespace: string): rbacv1.RoleBinding[] {
    return this.roleBindingList.filter((b) => b.metadata?.namespace === namespace);
  }
  clusterRoleBindings(): rbacv1.ClusterRoleBinding[] {
    return this.clusterRoleBindingList;
  }
}

/** Service accounts, secrets and pods in maps keyed "namespace/name". */
export class FakeServiceAccountSource implements ServiceAccountSource {
  readonly accounts = new Map<string, corev1.ServiceAccount>();
  readonly secrets = new Map<string, corev1.Secret>();
  readonly pods = new Map<string, corev1.Pod>();
  addAccount(namespace: string, name: string, uid: string, extra: Partial<corev1.ServiceAccount> = {}): void {
    this.accounts.set(`${namespace}/${name}`, { ...extra, metadata: { namespace, name, uid } });
  }
  getServiceAccount(namespace: string, name: string): corev1.ServiceAccount | undefined {
    return this.accounts.get(`${namespace}/${name}`);
  }
  getSecret(namespace: string, name: string): corev1.Secret | undefined {
    return this.secrets.get(`${namespace}/${name}`);
  }
  getPod(namespace: string, name: string): corev1.Pod | undefined {
    return this.pods.get(`${namespace}/${name}`);
  }
}

/** Pods in an array, indexed by node on each call. */
export class FakeNodeGraph implements NodeGraphSource {
  constructor(public pods: corev1.Pod[] = []) {}
  podsOnNode(nodeName: string): corev1.Pod[] {
    return this.pods.filter((p) => p.spec?.nodeName === nodeName);
  }
  getPod(namespace: string, name: string): corev1.Pod | undefined {
    return this.pods.find((p) => p.metadata?.namespace === namespace && p.metadata?.name === name);
  }
}

export function pod(namespace: string, name: string, nodeName: string, spec: corev1.PodSpec = {}): corev1.Pod {
  return { metadata: { namespace, name, uid: `uid-${name}` }, spec: { ...spec, nodeName } };
}

export function user(name: string, ...groups: string[]): UserInfo {
  return { name, groups: [...groups, 'system:authenticated'] };
}

export function attrs(u: UserInfo, verb: Attributes['verb'], resource: string, rest: Partial<Attributes> = {}): Attributes {
  const [res, sub] = resource.split('/');
  return { user: u, verb, apiGroup: '', resource: res, ...(sub ? { subresource: sub } : {}), ...rest };
}

export function clusterRole(name: string, rules: rbacv1.PolicyRule[], extra: Partial<rbacv1.ClusterRole> = {}): rbacv1.ClusterRole {
  return { ...extra, metadata: { name, ...(extra.metadata ?? {}) }, rules };
}

export function role(namespace: string, name: string, rules: rbacv1.PolicyRule[]): rbacv1.Role {
  return { metadata: { namespace, name }, rules };
}

export function roleBinding(
  namespace: string,
  name: string,
  roleRef: { kind: 'Role' | 'ClusterRole'; name: string },
  subjects: rbacv1.Subject[],
): rbacv1.RoleBinding {
  return { metadata: { namespace, name }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', ...roleRef }, subjects };
}

export function clusterRoleBinding(name: string, roleName: string, subjects: rbacv1.Subject[]): rbacv1.ClusterRoleBinding {
  return { metadata: { name }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: roleName }, subjects };
}
