// The default RBAC policy the apiserver creates at start (Kubernetes' bootstrap policy, in
// k8ts' terms): cluster-admin for system:masters, one role per component with exactly what it
// needs, the user-facing view/edit/admin roles, system:basic-user (the self reviews), and
// Kubernetes' non-resource roles: system:discovery (GET /api*, /apis*, /openapi*, /version,
// health) for every authenticated user, system:public-info-viewer (GET /version and health) for
// everyone including anonymous callers, system:monitoring (GET /metrics and the detailed health
// checks) for the group of that name. The kube-proxy's role is Kubernetes' system:node-proxier;
// the simulated nodes' kubelet (k8ts up --sim-nodes) gets a kubelet's rules over every node
// (system:k8ts:sim-kubelet) instead of cluster-admin. The apiserver's kubelet client
// (kube-apiserver-kubelet-client) holds system:kubelet-api-admin; kubelets and the proxy may
// create TokenReviews and SubjectAccessReviews to check their own callers. Every object carries the label
// kubernetes.io/bootstrapping=rbac-defaults and the autoupdate annotation.
//
// Verbs follow k8ts' RPCs: there is no Patch RPC, so component roles never list "patch"; an
// event recorder creates events and updates the count of repeated ones ("create", "update").
import type { rbacv1 } from '@k8ts/api';
import { GROUP_AUTHENTICATED, GROUP_MASTERS, GROUP_MONITORING, GROUP_NODES, GROUP_UNAUTHENTICATED } from './types';
import { NODE_LEASE_NAMESPACE } from './nodeauthorizer';
import { RBAC_API_GROUP } from './rbac';

export const BOOTSTRAP_LABEL = 'kubernetes.io/bootstrapping';
export const BOOTSTRAP_LABEL_VALUE = 'rbac-defaults';
export const AUTOUPDATE_ANNOTATION = 'rbac.authorization.kubernetes.io/autoupdate';
export const AGGREGATE_TO_VIEW = 'rbac.authorization.k8s.io/aggregate-to-view';
export const AGGREGATE_TO_EDIT = 'rbac.authorization.k8s.io/aggregate-to-edit';
export const AGGREGATE_TO_ADMIN = 'rbac.authorization.k8s.io/aggregate-to-admin';

/** The user names the components authenticate as (token-file lines written by `k8ts up`). */
export const USER_KUBE_SCHEDULER = 'system:kube-scheduler';
export const USER_KUBE_CONTROLLER_MANAGER = 'system:kube-controller-manager';
export const USER_KUBE_PROXY = 'system:kube-proxy';
/**
 * The apiserver as a client of kubelets (the CN of its --kubelet-client-certificate, as
 * kubeadm's apiserver-kubelet-client.crt): bound to system:kubelet-api-admin.
 */
export const USER_KUBE_APISERVER_KUBELET_CLIENT = 'kube-apiserver-kubelet-client';
/**
 * The kubelet of simulated nodes (`k8ts up --sim-nodes`, kubelet --sim-nodes): one process
 * writing many Nodes, which no node identity may (the node authorizer limits a kubelet to its
 * own Node), so a static user with the kubelet's rules over every node instead.
 */
export const USER_SIM_KUBELET = 'system:k8ts-sim-kubelet';

/** Where components keep their leader-election Leases. */
export const LEADER_ELECTION_NAMESPACE = 'kube-system';

/** The ClusterRole, Role (leases in kube-node-lease) and bindings of USER_SIM_KUBELET. */
export const SIM_KUBELET_ROLE = 'system:k8ts:sim-kubelet';

const CORE = '';
const APPS = 'apps';
const BATCH = 'batch';
const COORDINATION = 'coordination.k8s.io';
const AUTHENTICATION = 'authentication.k8s.io';
const AUTHORIZATION = 'authorization.k8s.io';
const READ = ['get', 'list', 'watch'];
const WRITE = ['create', 'update', 'patch', 'delete', 'deletecollection'];

function rule(verbs: string[], apiGroups: string[], resources: string[], resourceNames?: string[]): rbacv1.PolicyRule {
  const r: rbacv1.PolicyRule = { verbs, apiGroups, resources };
  if (resourceNames) r.resourceNames = resourceNames;
  return r;
}

/** Recording events: create them, update the count of repeated ones. */
const eventsRule = (): rbacv1.PolicyRule => rule(['create', 'update'], [CORE], ['events']);

/**
 * Asking the apiserver about one's own callers: TokenReview and SubjectAccessReview (a server
 * that delegates authentication and authorization, as the kubelet's API and the proxy's admin
 * API do).
 */
const delegationRules = (): rbacv1.PolicyRule[] => [rule(['create'], [AUTHENTICATION], ['tokenreviews']), rule(['create'], [AUTHORIZATION], ['subjectaccessreviews'])];

/** Leader election on a Lease (a Role in kube-system, so it reaches no other namespace). */
const leaderElectionRule = (): rbacv1.PolicyRule => rule(['get', 'create', 'update'], [COORDINATION], ['leases']);

/** What the scheduler needs: watch pods and nodes, bind pods, report unschedulable pods, events. */
export function schedulerRules(): rbacv1.PolicyRule[] {
  return [
    rule(READ, [CORE], ['pods', 'nodes', 'namespaces']),
    rule(['create'], [CORE], ['pods/binding']),
    rule(['update'], [CORE], ['pods/status']),
    eventsRule(),
  ];
}

/** What each controller of the controller-manager needs (issue 6), by controller. */
export function controllerRules(): Record<string, rbacv1.PolicyRule[]> {
  return {
    replicaset: [
      rule(['get', 'list', 'watch', 'update'], [APPS], ['replicasets']),
      rule(['update'], [APPS], ['replicasets/status']),
      // create and delete pods; update to adopt and release them (ownerReferences)
      rule(['get', 'list', 'watch', 'create', 'update', 'delete'], [CORE], ['pods']),
    ],
    deployment: [
      rule(['get', 'list', 'watch', 'update'], [APPS], ['deployments']),
      rule(['update'], [APPS], ['deployments/status']),
      rule(['get', 'list', 'watch', 'create', 'update', 'delete'], [APPS], ['replicasets']),
      rule(['get', 'list', 'watch', 'update'], [CORE], ['pods']),
    ],
    // run pods to completion: create them, adopt and release them (ownerReferences), delete
    // the active ones of a finished, failed or suspended job; delete finished jobs after
    // their ttlSecondsAfterFinished
    job: [
      rule(['get', 'list', 'watch', 'update', 'delete'], [BATCH], ['jobs']),
      rule(['update'], [BATCH], ['jobs/status']),
      rule(['get', 'list', 'watch', 'create', 'update', 'delete'], [CORE], ['pods']),
      eventsRule(),
    ],
    endpoints: [
      rule(READ, [CORE], ['services', 'pods']),
      rule(['get', 'list', 'watch', 'create', 'update', 'delete'], [CORE], ['endpoints']),
    ],
    // node lifecycle (heartbeats, taints, eviction) and node IPAM (spec.podCIDR)
    nodelifecycle: [
      rule(['get', 'list', 'watch', 'update'], [CORE], ['nodes']),
      rule(['update'], [CORE], ['nodes/status']),
      rule(READ, [COORDINATION], ['leases']),
      rule(['get', 'list', 'watch', 'delete'], [CORE], ['pods']),
      rule(['update'], [CORE], ['pods/status']),
    ],
    // deleting a namespace deletes everything in it, then the namespace
    namespace: [
      rule(['get', 'list', 'watch', 'update', 'delete'], [CORE], ['namespaces']),
      rule(['update'], [CORE], ['namespaces/status']),
      rule(['get', 'list', 'watch', 'delete', 'deletecollection'], ['*'], ['*']),
    ],
    serviceaccount: [
      rule(READ, [CORE], ['namespaces']),
      rule(['get', 'list', 'watch', 'create'], [CORE], ['serviceaccounts']),
    ],
    // token secrets of service accounts, listed in the account's secrets
    serviceaccounttoken: [
      rule(['get', 'list', 'watch', 'update'], [CORE], ['serviceaccounts']),
      rule(['get', 'list', 'watch', 'create', 'update', 'delete'], [CORE], ['secrets']),
      // the apiserver signs the tokens: the controller asks for them (CreateServiceAccountToken)
      rule(['create'], [CORE], ['serviceaccounts/token']),
    ],
    // dependents of deleted owners: read anything, update owner references and finalizers, delete
    garbagecollector: [rule(['get', 'list', 'watch', 'update', 'delete'], ['*'], ['*'])],
    events: [eventsRule()],
  };
}

/**
 * What the proxy needs, as Kubernetes' system:node-proxier grants it: follow services and
 * endpoints, read nodes (its own Node's addresses: get, list, watch), events.
 */
export function proxyRules(): rbacv1.PolicyRule[] {
  return [rule(['list', 'watch'], [CORE], ['services', 'endpoints']), rule(READ, [CORE], ['nodes']), eventsRule()];
}

/**
 * The RBAC side of kubelets (group system:nodes): reads, and the reviews with which a kubelet
 * checks the callers of its API (as Kubernetes' system:node). A kubelet's writes (its Node, its
 * Lease, its pods' status) and its reads of secrets and config maps come from the node
 * authorizer, which limits them to its own node.
 */
export function nodeRules(): rbacv1.PolicyRule[] {
  return [rule(READ, [CORE], ['nodes', 'pods', 'services', 'endpoints']), eventsRule(), ...delegationRules()];
}

/**
 * Full use of the kubelet API (Kubernetes' system:kubelet-api-admin): the apiserver holds it to
 * serve pods/log, which the kubelet authorizes as nodes/proxy.
 */
export function kubeletApiAdminRules(): rbacv1.PolicyRule[] {
  return [
    rule(READ, [CORE], ['nodes']),
    rule(['proxy'], [CORE], ['nodes']),
    rule(['*'], [CORE], ['nodes/proxy', 'nodes/metrics', 'nodes/spec', 'nodes/stats', 'nodes/log']),
  ];
}

/**
 * The simulated nodes' kubelet: what a kubelet does for its Node, for every Node, and nothing
 * more. These are Kubernetes' system:node rules that the kubelet uses (register and update
 * Nodes and their status; follow pods, write their status, finish their deletion; read the
 * config maps and secrets of their environment; events), without the node authorizer's
 * per-node limit, which cannot apply to one user serving many nodes. Its Leases come from a
 * Role in kube-node-lease (simKubeletLeaseRules).
 */
export function simKubeletRules(): rbacv1.PolicyRule[] {
  return [
    rule(['get', 'list', 'watch', 'create', 'update'], [CORE], ['nodes']),
    rule(['update'], [CORE], ['nodes/status']),
    rule(['get', 'list', 'watch', 'delete'], [CORE], ['pods']),
    rule(['update'], [CORE], ['pods/status']),
    rule(['get'], [CORE], ['configmaps', 'secrets']),
    eventsRule(),
    ...delegationRules(),
  ];
}

/** The node heartbeats of the simulated nodes: their Leases, in kube-node-lease only. */
export function simKubeletLeaseRules(): rbacv1.PolicyRule[] {
  return [rule(['get', 'create', 'update'], [COORDINATION], ['leases'])];
}

/** Read-only access to a namespace's workloads; not secrets, not RBAC. */
export function aggregateToViewRules(): rbacv1.PolicyRule[] {
  return [
    rule(READ, [CORE], [
      'pods',
      'pods/log',
      'pods/status',
      'services',
      'services/status',
      'endpoints',
      'configmaps',
      'serviceaccounts',
      'events',
      'namespaces',
      'namespaces/status',
    ]),
    rule(READ, [APPS], ['deployments', 'deployments/scale', 'deployments/status', 'replicasets', 'replicasets/scale', 'replicasets/status']),
    rule(READ, [BATCH], ['jobs', 'jobs/status']),
  ];
}

/** Writing a namespace's workloads and reading its secrets; not RBAC. */
export function aggregateToEditRules(): rbacv1.PolicyRule[] {
  return [
    rule(READ, [CORE], ['secrets']),
    rule(WRITE, [CORE], ['pods', 'services', 'endpoints', 'configmaps', 'secrets', 'serviceaccounts']),
    rule(WRITE, [APPS], ['deployments', 'deployments/scale', 'replicasets', 'replicasets/scale']),
    rule(WRITE, [BATCH], ['jobs']),
  ];
}

/** Managing who may do what in a namespace, and asking who may (LocalSubjectAccessReview). */
export function aggregateToAdminRules(): rbacv1.PolicyRule[] {
  return [rule(['create'], [AUTHORIZATION], ['localsubjectaccessreviews']), rule([...READ, ...WRITE], [RBAC_API_GROUP], ['roles', 'rolebindings'])];
}

/** GET on non-resource URLs ("/healthz", or "/apis/*" for everything under /apis/). */
function urlRule(...urls: string[]): rbacv1.PolicyRule {
  return { verbs: ['get'], nonResourceURLs: urls };
}

/** Enough to find the server ready and discover its API (Kubernetes' system:discovery). */
export function discoveryRules(): rbacv1.PolicyRule[] {
  return [urlRule('/livez', '/readyz', '/healthz', '/version', '/version/', '/openapi', '/openapi/*', '/api', '/api/*', '/apis', '/apis/*')];
}

/** What is safe to show anyone, anonymous callers included (Kubernetes' system:public-info-viewer). */
export function publicInfoRules(): rbacv1.PolicyRule[] {
  return [urlRule('/livez', '/readyz', '/healthz', '/version', '/version/')];
}

/** Metrics and the individual health checks (Kubernetes' system:monitoring). */
export function monitoringRules(): rbacv1.PolicyRule[] {
  return [urlRule('/metrics', '/metrics/slis', '/livez', '/readyz', '/healthz', '/livez/*', '/readyz/*', '/healthz/*')];
}

export interface BootstrapPolicy {
  clusterRoles: rbacv1.ClusterRole[];
  clusterRoleBindings: rbacv1.ClusterRoleBinding[];
  /** Namespaced roles (leader election in kube-system). */
  roles: rbacv1.Role[];
  roleBindings: rbacv1.RoleBinding[];
}

function meta(name: string, extraLabels: Record<string, string> = {}, namespace?: string) {
  const m: { name: string; namespace?: string; labels: Record<string, string>; annotations: Record<string, string> } = {
    name,
    labels: { [BOOTSTRAP_LABEL]: BOOTSTRAP_LABEL_VALUE, ...extraLabels },
    annotations: { [AUTOUPDATE_ANNOTATION]: 'true' },
  };
  if (namespace !== undefined) m.namespace = namespace;
  return m;
}

function clusterRole(
  name: string,
  rules: rbacv1.PolicyRule[],
  opts: { labels?: Record<string, string>; aggregateFrom?: string } = {},
): rbacv1.ClusterRole {
  const r: rbacv1.ClusterRole = { apiVersion: `${RBAC_API_GROUP}/v1`, kind: 'ClusterRole', metadata: meta(name, opts.labels), rules };
  if (opts.aggregateFrom) r.aggregationRule = { clusterRoleSelectors: [{ matchLabels: { [opts.aggregateFrom]: 'true' } }] };
  return r;
}

type SubjectSpec = { kind: 'User' | 'Group'; name: string };

function subject(s: SubjectSpec): rbacv1.Subject {
  return { kind: s.kind, apiGroup: RBAC_API_GROUP, name: s.name };
}

function clusterRoleBinding(name: string, subjects: SubjectSpec[], roleName = name): rbacv1.ClusterRoleBinding {
  return {
    apiVersion: `${RBAC_API_GROUP}/v1`,
    kind: 'ClusterRoleBinding',
    metadata: meta(name),
    subjects: subjects.map(subject),
    roleRef: { apiGroup: RBAC_API_GROUP, kind: 'ClusterRole', name: roleName },
  };
}

/** The default policy, as fresh objects (callers may change them). */
export function bootstrapPolicy(): BootstrapPolicy {
  const view = aggregateToViewRules();
  const edit = aggregateToEditRules();
  const admin = aggregateToAdminRules();
  const controllers = Object.values(controllerRules()).flat();

  const clusterRoles = [
    clusterRole('cluster-admin', [
      { verbs: ['*'], apiGroups: ['*'], resources: ['*'] },
      { verbs: ['*'], nonResourceURLs: ['*'] },
    ]),
    clusterRole('system:basic-user', [
      rule(['create'], [AUTHORIZATION], ['selfsubjectaccessreviews', 'selfsubjectrulesreviews']),
      rule(['create'], [AUTHENTICATION], ['selfsubjectreviews']),
    ]),
    clusterRole('system:discovery', discoveryRules()),
    clusterRole('system:public-info-viewer', publicInfoRules()),
    clusterRole('system:monitoring', monitoringRules()),
    // for servers that delegate authentication and authorization to the apiserver; bound to nobody
    clusterRole('system:auth-delegator', delegationRules()),
    clusterRole('system:kubelet-api-admin', kubeletApiAdminRules()),
    clusterRole('system:kube-scheduler', schedulerRules()),
    clusterRole('system:kube-controller-manager', controllers),
    clusterRole('system:node-proxier', proxyRules()),
    clusterRole(SIM_KUBELET_ROLE, simKubeletRules()),
    clusterRole('system:node', nodeRules()),
    // view ⊂ edit ⊂ admin, each aggregating the system:aggregate-to-* roles and any role a user
    // labels the same way; the rules are also written out, as the aggregation controller would.
    clusterRole('admin', [...view, ...edit, ...admin], { aggregateFrom: AGGREGATE_TO_ADMIN }),
    clusterRole('edit', [...view, ...edit], { aggregateFrom: AGGREGATE_TO_EDIT, labels: { [AGGREGATE_TO_ADMIN]: 'true' } }),
    clusterRole('view', view, { aggregateFrom: AGGREGATE_TO_VIEW, labels: { [AGGREGATE_TO_EDIT]: 'true' } }),
    clusterRole('system:aggregate-to-admin', admin, { labels: { [AGGREGATE_TO_ADMIN]: 'true' } }),
    clusterRole('system:aggregate-to-edit', edit, { labels: { [AGGREGATE_TO_EDIT]: 'true' } }),
    clusterRole('system:aggregate-to-view', view, { labels: { [AGGREGATE_TO_VIEW]: 'true' } }),
  ];

  const clusterRoleBindings = [
    clusterRoleBinding('cluster-admin', [{ kind: 'Group', name: GROUP_MASTERS }]),
    clusterRoleBinding('system:basic-user', [{ kind: 'Group', name: GROUP_AUTHENTICATED }]),
    clusterRoleBinding('system:discovery', [{ kind: 'Group', name: GROUP_AUTHENTICATED }]),
    clusterRoleBinding('system:public-info-viewer', [
      { kind: 'Group', name: GROUP_AUTHENTICATED },
      { kind: 'Group', name: GROUP_UNAUTHENTICATED },
    ]),
    clusterRoleBinding('system:monitoring', [{ kind: 'Group', name: GROUP_MONITORING }]),
    clusterRoleBinding('system:kube-scheduler', [{ kind: 'User', name: USER_KUBE_SCHEDULER }]),
    clusterRoleBinding('system:kube-controller-manager', [{ kind: 'User', name: USER_KUBE_CONTROLLER_MANAGER }]),
    clusterRoleBinding('system:node-proxier', [{ kind: 'User', name: USER_KUBE_PROXY }]),
    // the proxy checks the callers of its admin API with the reviews
    clusterRoleBinding('system:kube-proxy:auth-delegator', [{ kind: 'User', name: USER_KUBE_PROXY }], 'system:auth-delegator'),
    clusterRoleBinding('system:kubelet-api-admin', [{ kind: 'User', name: USER_KUBE_APISERVER_KUBELET_CLIENT }]),
    clusterRoleBinding(SIM_KUBELET_ROLE, [{ kind: 'User', name: USER_SIM_KUBELET }]),
    clusterRoleBinding('system:node', [{ kind: 'Group', name: GROUP_NODES }]),
  ];

  const grants = [
    ...(
      [
        ['kube-scheduler', USER_KUBE_SCHEDULER],
        ['kube-controller-manager', USER_KUBE_CONTROLLER_MANAGER],
      ] as const
    ).map(([component, user]) => namespacedGrant(`system::leader-locking-${component}`, LEADER_ELECTION_NAMESPACE, [leaderElectionRule()], user)),
    namespacedGrant(SIM_KUBELET_ROLE, NODE_LEASE_NAMESPACE, simKubeletLeaseRules(), USER_SIM_KUBELET),
  ];
  return { clusterRoles, clusterRoleBindings, roles: grants.map((g) => g.role), roleBindings: grants.map((g) => g.binding) };
}

/** A Role of `rules` in `namespace` and its RoleBinding to `user`, both called `name`. */
function namespacedGrant(name: string, namespace: string, rules: rbacv1.PolicyRule[], user: string): { role: rbacv1.Role; binding: rbacv1.RoleBinding } {
  return {
    role: { apiVersion: `${RBAC_API_GROUP}/v1`, kind: 'Role', metadata: meta(name, {}, namespace), rules },
    binding: {
      apiVersion: `${RBAC_API_GROUP}/v1`,
      kind: 'RoleBinding',
      metadata: meta(name, {}, namespace),
      subjects: [subject({ kind: 'User', name: user })],
      roleRef: { apiGroup: RBAC_API_GROUP, kind: 'Role', name },
    },
  };
}
