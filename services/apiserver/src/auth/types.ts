// The vocabulary of authentication and authorization in the apiserver: who is calling
// (UserInfo), what they ask to do (Attributes), and the answers (Decision, AuthError). The
// apiserver's gRPC interceptor authenticates the bearer token of every call except health,
// builds Attributes from the method and request, and asks the authorizer chain.
import type { corev1, rbacv1 } from '@k8ts/api';

/** An authenticated caller, as Kubernetes' user.Info. */
export interface UserInfo {
  /** The user name: "admin", "system:kube-scheduler", "system:serviceaccount:<ns>:<name>", "system:node:<node>". */
  name: string;
  /** A stable identifier when the credential has one (a service account's uid, the token file's uid column). */
  uid?: string;
  /** Groups the user belongs to; every authenticated user is in "system:authenticated". */
  groups: string[];
  /** Additional information from the authenticator (for example the token's id), for audit. */
  extra?: Record<string, string[]>;
}

/**
 * A credential was presented but is not valid: unknown, malformed, expired, signed by the wrong
 * key, for another audience, or revoked (its service account is gone). The apiserver answers
 * UNAUTHENTICATED with this message. Messages say why, and never contain the token.
 */
export class AuthError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AuthError';
  }
}

/**
 * Turns a bearer token into a user.
 *
 * A single authenticator (token file, service-account JWT, node JWT) returns null when the token
 * is not of its kind (or no token is given), a UserInfo when it recognises and accepts the token,
 * and throws AuthError when it recognises the token and rejects it (for example an expired
 * service-account token). The union of authenticators returns null only when no token was given,
 * and throws AuthError when no authenticator recognises the token.
 */
export interface Authenticator {
  authenticate(token: string | undefined): Promise<UserInfo | null>;
}

/** The API verbs an RPC maps to (Kubernetes' request verbs). */
export type Verb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection';

/**
 * What a request asks to do. Built by the interceptor from the RPC: for example
 * `UpdatePodStatus` is `{ verb: 'update', apiGroup: '', resource: 'pods', subresource: 'status',
 * namespace, name }` and `BindPod` is `{ verb: 'create', resource: 'pods', subresource: 'binding' }`.
 * A non-resource request (`GET /healthz`, `/version`, `/apis`) is `{ verb: 'get', apiGroup: '',
 * resource: '', nonResourcePath: '/healthz' }`.
 */
export interface Attributes {
  user: UserInfo;
  /**
   * A Verb for resource requests made through the RPCs. A SubjectAccessReview may ask about any
   * verb (bind, escalate, impersonate, use, ...); a non-resource request uses the lower-case
   * HTTP method (get, post, put, delete, ...), as Kubernetes does.
   */
  verb: string;
  /** '' for the core group, 'apps', 'coordination.k8s.io', 'rbac.authorization.k8s.io'. */
  apiGroup: string;
  /** Lower-case plural resource: 'pods', 'nodes', 'leases'. */
  resource: string;
  /** 'status', 'binding', 'log', 'scale'; absent for the object itself. */
  subresource?: string;
  /** The namespace of a namespaced request; absent (or '') for cluster-scoped resources and lists across all namespaces. */
  namespace?: string;
  /**
   * The object's name for get, update, patch, delete and subresources. For create, the name of
   * the object being created when the request carries one (the Node and Lease rules of the node
   * authorizer need it). For list and watch, set only when a metadata.name field selector picks one object.
   */
  name?: string;
  /**
   * Set for a non-resource request only: the URL path ('/healthz', '/version', '/apis/apps/v1').
   * Such a request has no namespace, and its apiGroup and resource are ''. RBAC matches it
   * against the nonResourceURLs of rules.
   */
  nonResourcePath?: string;
}

/** The answer of one authorizer. `noopinion` lets the next authorizer in the chain decide. */
export interface Decision {
  decision: 'allow' | 'deny' | 'noopinion';
  /** Why: for a deny, the message the client sees after PERMISSION_DENIED; for an allow, what allowed it (audit). */
  reason: string;
}

export interface Authorizer {
  authorize(a: Attributes): Promise<Decision> | Decision;
}

/**
 * What a user may do in a namespace, as far as one authorizer can tell (Kubernetes'
 * RuleResolver, behind SelfSubjectRulesReview). `incomplete` says the list may miss
 * permissions (an authorizer that cannot enumerate them); `errors` are the problems met while
 * resolving (a binding to a role that does not exist).
 */
export interface RuleResolution {
  /** Rules that name resources (their `resources` is not empty). */
  resourceRules: rbacv1.PolicyRule[];
  /** Rules that name non-resource URLs (their `nonResourceURLs` is not empty). */
  nonResourceRules: rbacv1.PolicyRule[];
  incomplete: boolean;
  errors: string[];
}

/** An authorizer that can list a user's permissions. */
export interface RuleResolver {
  resolveRules(user: UserInfo, namespace: string): RuleResolution;
}

/** Whether an authorizer can list a user's permissions. */
export function isRuleResolver(a: Authorizer): a is Authorizer & RuleResolver {
  return typeof (a as Partial<RuleResolver>).resolveRules === 'function';
}

// Data the authorizers and the service-account authenticator read; the apiserver implements
// these over its watch cache (reads are synchronous and must not be slow).

/** The RBAC objects, read on every authorization. */
export interface RbacSource {
  roles(namespace: string): rbacv1.Role[];
  clusterRoles(): rbacv1.ClusterRole[];
  roleBindings(namespace: string): rbacv1.RoleBinding[];
  clusterRoleBindings(): rbacv1.ClusterRoleBinding[];
}

/**
 * The service accounts, read on every request made with a service-account token. The optional
 * getters let tokens bound to a Secret (legacy tokens stored by the token controller) or to a
 * Pod (projected tokens) stop working when that object is deleted; without them such bindings
 * are not checked.
 */
export interface ServiceAccountSource {
  getServiceAccount(namespace: string, name: string): corev1.ServiceAccount | undefined;
  getSecret?(namespace: string, name: string): corev1.Secret | undefined;
  getPod?(namespace: string, name: string): corev1.Pod | undefined;
}

/** Pods by node, for the node authorizer. */
export interface NodeGraphSource {
  podsOnNode(nodeName: string): corev1.Pod[];
  getPod(namespace: string, name: string): corev1.Pod | undefined;
}

/** Well-known groups. */
export const GROUP_AUTHENTICATED = 'system:authenticated';
/** Callers without credentials, when anonymous requests are enabled (system:anonymous). */
export const GROUP_UNAUTHENTICATED = 'system:unauthenticated';
/** Readers of the monitoring endpoints (/metrics, /livez/*, /readyz/*, /healthz/*). */
export const GROUP_MONITORING = 'system:monitoring';
export const GROUP_MASTERS = 'system:masters';
export const GROUP_SERVICEACCOUNTS = 'system:serviceaccounts';
export const GROUP_NODES = 'system:nodes';
