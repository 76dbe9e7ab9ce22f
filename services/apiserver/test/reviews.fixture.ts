// The world the review tests run in: the default RBAC policy plus a few users' bindings, the
// Node and RBAC authorizers over in-memory sources, a token file and a signing key, assembled
// as Security assembles them (src/server/security.ts).
import type { rbacv1 } from '@k8ts/api';
import {
  NodeAuthorizer,
  RbacAuthorizer,
  TokenFileAuthenticator,
  TokenIssuer,
  TokenVerifier,
  UnionAuthorizer,
  type UserInfo,
  bootstrapPolicy,
  createAuthenticator,
  formatTokenFileLine,
  generateKeyPairPem,
  issueServiceAccountToken,
} from '../src/auth';
import { REVIEW_RESOURCES, type ReviewResource, type ReviewSecurity } from '../src/reviews';
import { FakeNodeGraph, FakeRbacSource, FakeServiceAccountSource, clusterRole, clusterRoleBinding, pod, roleBinding, user } from './auth/fakes';

export const jane = user('jane', 'devs');
export const node1 = user('system:node:n1', 'system:nodes');
export const admin = user('admin', 'system:masters');
export const broken = user('broken');
export const anonymous: UserInfo = { name: 'system:anonymous', groups: ['system:unauthenticated'] };

export const STATIC_TOKEN = 'static-token-of-alice-0123456789abcdef';

/** The default policy, plus: jane views "dev" (RoleBinding to view), devs read nodes, broken is bound to a missing role. */
export function rbacSource(): FakeRbacSource {
  const policy = bootstrapPolicy();
  const src = new FakeRbacSource(policy.roles, policy.clusterRoles, policy.roleBindings, policy.clusterRoleBindings);
  src.clusterRoleList.push(clusterRole('node-reader', [{ verbs: ['get', 'list'], apiGroups: [''], resources: ['nodes'] }]));
  src.roleBindingList.push(roleBinding('dev', 'jane-views', { kind: 'ClusterRole', name: 'view' }, [{ kind: 'User', name: 'jane' }]));
  src.clusterRoleBindingList.push(
    clusterRoleBinding('devs-read-nodes', 'node-reader', [{ kind: 'Group', name: 'devs' }]),
    clusterRoleBinding('broken-binding', 'gone', [{ kind: 'User', name: 'broken' }]),
  );
  return src;
}

export interface World {
  security: ReviewSecurity;
  issuer: TokenIssuer;
  serviceAccounts: FakeServiceAccountSource;
  rbac: FakeRbacSource;
}

export function world(): World {
  const { privateKeyPem } = generateKeyPairPem();
  const issuer = new TokenIssuer({ key: privateKeyPem, issuer: 'k8ts', audiences: ['k8ts'] });
  const verifier = new TokenVerifier({ keys: privateKeyPem, issuers: ['k8ts'], audiences: ['k8ts'] });
  const serviceAccounts = new FakeServiceAccountSource();
  serviceAccounts.addAccount('dev', 'builder', 'uid-builder');
  const tokenFile = TokenFileAuthenticator.parse(formatTokenFileLine(STATIC_TOKEN, 'alice', 'uid-alice', ['team-a']));
  const rbac = rbacSource();
  const graph = new FakeNodeGraph([pod('dev', 'web', 'n1')]);
  const authorizer = new UnionAuthorizer([new NodeAuthorizer(graph, { serviceAccounts }), new RbacAuthorizer(rbac)]);
  const authenticator = createAuthenticator({ tokenFile, verifier, serviceAccounts });
  return { security: { authenticator, authorizer, issuer }, issuer, serviceAccounts, rbac };
}

export function serviceAccountToken(w: World, audiences?: string[]): string {
  return issueServiceAccountToken(w.issuer, { namespace: 'dev', name: 'builder', uid: 'uid-builder', ...(audiences ? { audiences } : {}) });
}

export function resource(name: string): ReviewResource {
  const r = REVIEW_RESOURCES.find((x) => x.resource === name);
  if (!r) throw new Error(`no review resource ${name}`);
  return r;
}

/** POSTs a body to a review as `caller`. */
export function post(
  w: World,
  name: string,
  body: unknown,
  caller: UserInfo = jane,
  namespace?: string,
): Promise<Record<string, unknown>> {
  return resource(name).create({ security: w.security, user: caller, namespace, body });
}

/** The error a promise rejects with. */
export async function failure(p: Promise<unknown>): Promise<{ httpCode: number; reason: string; message: string; causes: { field: string }[] }> {
  try {
    await p;
  } catch (e) {
    return e as { httpCode: number; reason: string; message: string; causes: { field: string }[] };
  }
  throw new Error('expected a failure');
}

export type Rule = rbacv1.PolicyRule;
