// Authentication and authorization of the apiserver: the public surface the gRPC interceptor
// and the start-up code use. See README.md in this folder for the walk of a request.
import { UnionAuthorizer } from './chain';
import { NodeTokenAuthenticator, type NodeTokenAuthenticatorOptions } from './node';
import { NodeAuthorizer } from './nodeauthorizer';
import { RbacAuthorizer, type RbacAuthorizerOptions } from './rbac';
import { ServiceAccountAuthenticator } from './serviceaccount';
import type { TokenFileAuthenticator } from './tokenfile';
import type { TokenVerifier } from './tokens';
import type { Authenticator, NodeGraphSource, RbacSource, ServiceAccountSource } from './types';
import { UnionAuthenticator } from './union';

export * from './types';
export * from './jwt';
export * from './tokens';
export * from './tokenfile';
export * from './serviceaccount';
export * from './node';
export * from './union';
export * from './messages';
export * from './rbac';
export * from './nodeauthorizer';
export * from './chain';
export * from './escalation';
export * from './bootstrap';

export interface AuthenticatorConfig {
  /** Static tokens (TokenFileAuthenticator.fromFile(path)). */
  tokenFile?: TokenFileAuthenticator;
  /** Verifier of tokens signed by the apiserver's key; enables service-account and node tokens. */
  verifier?: TokenVerifier;
  /** Service accounts (required with a verifier). */
  serviceAccounts?: ServiceAccountSource;
  node?: NodeTokenAuthenticatorOptions;
}

/** The apiserver's authenticator: token file, then service-account tokens, then node tokens. */
export function createAuthenticator(config: AuthenticatorConfig): UnionAuthenticator {
  const list: Authenticator[] = [];
  if (config.tokenFile) list.push(config.tokenFile);
  if (config.verifier) {
    if (!config.serviceAccounts) throw new Error('service-account tokens need a ServiceAccountSource');
    list.push(new ServiceAccountAuthenticator(config.verifier, config.serviceAccounts));
    list.push(new NodeTokenAuthenticator(config.verifier, config.node));
  }
  return new UnionAuthenticator(list);
}

export interface AuthorizerConfig {
  rbac: RbacSource;
  nodeGraph: NodeGraphSource;
  /** Lets nodes read the token secrets of their pods' service accounts. */
  serviceAccounts?: ServiceAccountSource;
  rbacOptions?: RbacAuthorizerOptions;
}

/** The apiserver's authorizer: Node, then RBAC; denied when neither allows. */
export function createAuthorizer(config: AuthorizerConfig): {
  authorizer: UnionAuthorizer;
  rbac: RbacAuthorizer;
  node: NodeAuthorizer;
} {
  const node = new NodeAuthorizer(config.nodeGraph, { serviceAccounts: config.serviceAccounts });
  const rbac = new RbacAuthorizer(config.rbac, config.rbacOptions);
  return { authorizer: new UnionAuthorizer([node, rbac]), rbac, node };
}
