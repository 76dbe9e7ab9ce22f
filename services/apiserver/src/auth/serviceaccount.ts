// Service-account tokens: JWTs signed by the apiserver's key that authenticate as
// "system:serviceaccount:<namespace>:<name>". A token is bound to one account by its uid, so it
// stops working when the account is deleted, and a deleted and re-created account (same name,
// new uid) does not revive old tokens. The check runs on every request, against the
// apiserver's watch cache.
//
// Claims:
//   iss  the apiserver's issuer          sub  system:serviceaccount:<ns>:<name>
//   aud  the apiserver's audience(s)     iat, nbf  issue time      jti  a random id
//   exp  optional: absent for long-lived (legacy) tokens, set for bound tokens
//   k8ts { namespace, serviceaccount: { name, uid },
//          secret?: { name, uid }   (a legacy token stored in that Secret)
//          pod?: { name, uid } }    (a token bound to that Pod)
import {
  AuthError,
  type Authenticator,
  GROUP_AUTHENTICATED,
  GROUP_SERVICEACCOUNTS,
  type ServiceAccountSource,
  type UserInfo,
} from './types';
import { JwtError } from './jwt';

// The key-pair helper for `k8ts up` and the deploy scripts lives with the JWT code.
export { generateKeyPairPem } from './jwt';
import { k8tsClaim, type TokenIssuer, type TokenVerifier } from './tokens';

export const SERVICE_ACCOUNT_USER_PREFIX = 'system:serviceaccount:';

/** "system:serviceaccount:<namespace>:<name>". */
export function serviceAccountUsername(namespace: string, name: string): string {
  return `${SERVICE_ACCOUNT_USER_PREFIX}${namespace}:${name}`;
}

/** The namespace and name in a service-account user name, or undefined for other users. */
export function parseServiceAccountUsername(username: string): { namespace: string; name: string } | undefined {
  if (!username.startsWith(SERVICE_ACCOUNT_USER_PREFIX)) return undefined;
  const parts = username.slice(SERVICE_ACCOUNT_USER_PREFIX.length).split(':');
  if (parts.length !== 2 || parts[0] === '' || parts[1] === '') return undefined;
  return { namespace: parts[0], name: parts[1] };
}

/** The groups of a service account: system:serviceaccounts, system:serviceaccounts:<ns>, system:authenticated. */
export function serviceAccountGroups(namespace: string): string[] {
  return [GROUP_SERVICEACCOUNTS, `${GROUP_SERVICEACCOUNTS}:${namespace}`, GROUP_AUTHENTICATED];
}

/** Extra keys on a service account's UserInfo (Kubernetes' names). */
export const EXTRA_CREDENTIAL_ID = 'authentication.kubernetes.io/credential-id';
export const EXTRA_POD_NAME = 'authentication.kubernetes.io/pod-name';
export const EXTRA_POD_UID = 'authentication.kubernetes.io/pod-uid';

/** A reference by name and uid in the k8ts claim. */
export interface NameUid {
  name: string;
  uid: string;
}

export interface ServiceAccountTokenOptions {
  namespace: string;
  /** The service account's name. */
  name: string;
  /** The service account's metadata.uid: the token dies with this exact account. */
  uid: string;
  /** Audiences; default the issuer's. */
  audiences?: string[];
  /** Lifetime in seconds; absent for a long-lived token. */
  expirationSeconds?: number;
  /** Binds the token to a Secret (legacy token secrets): deleting the Secret revokes the token. */
  secret?: NameUid;
  /** Binds the token to a Pod (projected tokens): deleting the Pod revokes the token. */
  pod?: NameUid;
}

function checkName(what: string, value: string): void {
  if (value === '' || value.includes(':')) throw new Error(`${what} must be a non-empty name without ':', got ${JSON.stringify(value)}`);
}

/** Issues a service-account token signed by the issuer's key. */
export function issueServiceAccountToken(issuer: TokenIssuer, opts: ServiceAccountTokenOptions): string {
  checkName('namespace', opts.namespace);
  checkName('service account name', opts.name);
  if (opts.uid === '') throw new Error('the service account uid is required: a token is bound to one account');
  const claim: Record<string, unknown> = {
    namespace: opts.namespace,
    serviceaccount: { name: opts.name, uid: opts.uid },
  };
  if (opts.secret) claim.secret = { name: opts.secret.name, uid: opts.secret.uid };
  if (opts.pod) claim.pod = { name: opts.pod.name, uid: opts.pod.uid };
  return issuer.issue({
    sub: serviceAccountUsername(opts.namespace, opts.name),
    audiences: opts.audiences,
    expirationSeconds: opts.expirationSeconds,
    k8ts: claim,
  });
}

function nameUid(value: unknown): NameUid | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { name, uid } = value as { name?: unknown; uid?: unknown };
  return typeof name === 'string' && name !== '' && typeof uid === 'string' ? { name, uid } : undefined;
}

/**
 * Authenticates service-account tokens. Returns null for tokens that are not ours (not a JWT,
 * another issuer, or a node token); throws AuthError for ours that fail a check.
 */
export class ServiceAccountAuthenticator implements Authenticator {
  constructor(
    private readonly verifier: TokenVerifier,
    private readonly source: ServiceAccountSource,
  ) {}

  async authenticate(token: string | undefined): Promise<UserInfo | null> {
    if (!token) return null;
    const jwt = this.verifier.decodeIfOurs(token);
    if (!jwt) return null;
    const unverified = k8tsClaim(jwt.claims);
    const isServiceAccountToken =
      unverified?.serviceaccount !== undefined ||
      (typeof jwt.claims.sub === 'string' && jwt.claims.sub.startsWith(SERVICE_ACCOUNT_USER_PREFIX));
    if (!isServiceAccountToken) return null;

    try {
      this.verifier.verify(token, jwt);
    } catch (e) {
      if (e instanceof JwtError) throw new AuthError(`invalid service account token: ${e.message}`, { cause: e });
      throw e;
    }

    const claim = unverified;
    const namespace = claim?.namespace;
    const sa = nameUid(claim?.serviceaccount);
    if (typeof namespace !== 'string' || namespace === '' || !sa) {
      throw new AuthError(
        'invalid service account token: the k8ts claim must hold namespace and serviceaccount { name, uid }',
      );
    }
    const username = serviceAccountUsername(namespace, sa.name);
    if (jwt.claims.sub !== username) {
      throw new AuthError(`invalid service account token: the subject does not match the account ${namespace}/${sa.name}`);
    }

    const account = this.source.getServiceAccount(namespace, sa.name);
    if (!account) {
      throw new AuthError(`service account ${namespace}/${sa.name} does not exist: its tokens are no longer valid`);
    }
    const uid = account.metadata?.uid ?? '';
    if (uid !== sa.uid) {
      throw new AuthError(
        `service account ${namespace}/${sa.name} was deleted and re-created (uid ${sa.uid} is now ${uid}): ` +
          'tokens of the old account are no longer valid',
      );
    }
    if (account.metadata?.deletionTimestamp) {
      throw new AuthError(`service account ${namespace}/${sa.name} is being deleted: its tokens are no longer valid`);
    }

    const secret = nameUid(claim?.secret);
    if (secret && this.source.getSecret) {
      const s = this.source.getSecret(namespace, secret.name);
      if (!s || (s.metadata?.uid ?? '') !== secret.uid || s.metadata?.deletionTimestamp) {
        throw new AuthError(`the secret ${namespace}/${secret.name} that held this service account token was deleted`);
      }
    }
    const pod = nameUid(claim?.pod);
    if (pod && this.source.getPod) {
      const p = this.source.getPod(namespace, pod.name);
      // A terminating pod still runs and keeps its token until it is gone.
      if (!p || (p.metadata?.uid ?? '') !== pod.uid) {
        throw new AuthError(`the pod ${namespace}/${pod.name} this service account token was bound to is gone`);
      }
    }

    const extra: Record<string, string[]> = {};
    if (typeof jwt.claims.jti === 'string') extra[EXTRA_CREDENTIAL_ID] = [`JTI=${jwt.claims.jti}`];
    if (pod) {
      extra[EXTRA_POD_NAME] = [pod.name];
      extra[EXTRA_POD_UID] = [pod.uid];
    }
    return { name: username, uid: sa.uid, groups: serviceAccountGroups(namespace), extra };
  }
}
