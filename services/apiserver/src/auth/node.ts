// Node credentials for kubelets. A kubelet authenticates as user "system:node:<nodeName>" in
// group "system:nodes"; the node authorizer (nodeauthorizer.ts) then limits it to its own
// node's objects.
//
// The credential is a node token: a JWT signed by the apiserver's key (the same key as
// service-account tokens) with
//   iss the apiserver's issuer, sub system:node:<nodeName>, aud the apiserver's audience(s),
//   iat, nbf, jti, exp (optional), and k8ts { node: { name: <nodeName> } }.
// issueNodeToken is @k8ts/kit's (re-exported here), so that `k8ts up` mints exactly this format.
// `k8ts up` and the deploy scripts issue one per node with issueNodeToken and hand it to that
// node's kubelet. Unlike a token-file line, adding a node needs no apiserver restart, and a
// token only ever names one node. Revocation: issue tokens with an expiry and re-issue them,
// reject token ids with `isRevoked`, or rotate the key.
//
// A token-file line works too, for operators who prefer static tokens:
//   <token>,system:node:<nodeName>,,system:nodes
import { NODE_USER_PREFIX, nodeUsername } from '@k8ts/kit';
import { AuthError, type Authenticator, GROUP_AUTHENTICATED, GROUP_NODES, type UserInfo } from './types';
import { JwtError } from './jwt';
import { k8tsClaim, type TokenVerifier } from './tokens';
import { EXTRA_CREDENTIAL_ID } from './serviceaccount';

export { NODE_USER_PREFIX, issueNodeToken, nodeUsername } from '@k8ts/kit';
export type { NodeTokenOptions } from '@k8ts/kit';

/**
 * Whether a user is a node, and which: a node is any user in group system:nodes; its name is
 * the part after "system:node:" of the user name (undefined when the name has another form,
 * which the node authorizer refuses).
 */
export function nodeIdentity(user: UserInfo): { isNode: false } | { isNode: true; nodeName: string | undefined } {
  if (!user.groups.includes(GROUP_NODES)) return { isNode: false };
  if (!user.name.startsWith(NODE_USER_PREFIX)) return { isNode: true, nodeName: undefined };
  const nodeName = user.name.slice(NODE_USER_PREFIX.length);
  return { isNode: true, nodeName: nodeName === '' ? undefined : nodeName };
}

export interface NodeTokenAuthenticatorOptions {
  /** Rejects tokens by id (the jti claim) and node, for revoking a leaked token without rotating the key. */
  isRevoked?: (tokenId: string, nodeName: string) => boolean;
}

/**
 * Authenticates node tokens. Returns null for tokens that are not node tokens from our issuer;
 * throws AuthError for node tokens that fail a check.
 */
export class NodeTokenAuthenticator implements Authenticator {
  constructor(
    private readonly verifier: TokenVerifier,
    private readonly opts: NodeTokenAuthenticatorOptions = {},
  ) {}

  async authenticate(token: string | undefined): Promise<UserInfo | null> {
    if (!token) return null;
    const jwt = this.verifier.decodeIfOurs(token);
    if (!jwt) return null;
    const node = k8tsClaim(jwt.claims)?.node;
    if (node === undefined) return null;

    try {
      this.verifier.verify(token, jwt);
    } catch (e) {
      if (e instanceof JwtError) throw new AuthError(`invalid node token: ${e.message}`, { cause: e });
      throw e;
    }
    const nodeName = typeof node === 'object' && node !== null ? (node as { name?: unknown }).name : undefined;
    if (typeof nodeName !== 'string' || nodeName === '') {
      throw new AuthError('invalid node token: the k8ts claim must hold node { name }');
    }
    if (jwt.claims.sub !== nodeUsername(nodeName)) {
      throw new AuthError(`invalid node token: the subject does not match node ${nodeName}`);
    }
    const jti = typeof jwt.claims.jti === 'string' ? jwt.claims.jti : '';
    if (this.opts.isRevoked?.(jti, nodeName)) {
      throw new AuthError(`the node token of ${nodeName} has been revoked`);
    }
    const user: UserInfo = { name: nodeUsername(nodeName), groups: [GROUP_NODES, GROUP_AUTHENTICATED] };
    if (jti !== '') user.extra = { [EXTRA_CREDENTIAL_ID]: [`JTI=${jti}`] };
    return user;
  }
}
