// Who is calling and may they: the bearer token of every call is authenticated (token file,
// service-account JWTs, node JWTs; ../auth), then the request's attributes are authorized
// (Node and RBAC authorizers, or AlwaysAllow for tests). Writes of RBAC objects also pass the
// escalation checks. Failures are ApiErrors: UNAUTHENTICATED, PERMISSION_DENIED.
import * as fs from 'fs';
import * as grpc from '@grpc/grpc-js';
import { ConfigError } from '@k8ts/kit';
import {
  AuthError,
  type Attributes,
  type Authenticator,
  type Authorizer,
  NodeAuthorizer,
  RbacAuthorizer,
  TokenFileAuthenticator,
  TokenIssuer,
  TokenVerifier,
  UnionAuthorizer,
  type UserInfo,
  bearerToken,
  checkBindingEscalation,
  checkRoleEscalation,
  createAuthenticator,
  DEFAULT_AUDIENCE,
} from '../auth';
import type { CacheHub } from '../cache/hub';
import { ApiError, forbidden, unauthorized } from '../errors';
import type { ApiObject } from '../strategies/types';
import { nodeGraphSource, rbacSource, serviceAccountSource } from './sources';

export type AuthorizationMode = 'AlwaysAllow' | 'RBAC' | 'Node';
export const AUTHORIZATION_MODES: readonly AuthorizationMode[] = ['AlwaysAllow', 'RBAC', 'Node'];

export interface SecurityConfig {
  tokenAuthFile?: string;
  serviceAccountKeyFile?: string;
  serviceAccountIssuer: string;
  authorizationModes: string[];
  /** Calls without a token run as system:anonymous (for tests and local play only). */
  anonymousAuth: boolean;
}

export const ANONYMOUS: UserInfo = { name: 'system:anonymous', groups: ['system:unauthenticated'] };

export type AttributesWithoutUser = Omit<Attributes, 'user'>;

export class Security {
  readonly authenticator: Authenticator;
  readonly authorizer: Authorizer;
  /** The RBAC authorizer, when RBAC is a mode (escalation checks need it). */
  readonly rbac?: RbacAuthorizer;
  /** Signs service-account tokens (CreateServiceAccountToken), when a key is configured. */
  readonly issuer?: TokenIssuer;
  private readonly anonymous: boolean;

  constructor(config: SecurityConfig, hub: CacheHub) {
    const modes = config.authorizationModes.length > 0 ? config.authorizationModes : ['RBAC', 'Node'];
    for (const m of modes) {
      if (!(AUTHORIZATION_MODES as readonly string[]).includes(m)) {
        throw new ConfigError(`invalid --authorization-mode ${JSON.stringify(m)}: must be a list of ${AUTHORIZATION_MODES.join(', ')}`, {
          flag: 'authorization-mode',
          value: m,
        });
      }
    }
    if (modes.includes('AlwaysAllow') && modes.length > 1) {
      throw new ConfigError('--authorization-mode AlwaysAllow cannot be combined with other modes', { flag: 'authorization-mode' });
    }
    const serviceAccounts = serviceAccountSource(hub);
    let tokenFile: TokenFileAuthenticator | undefined;
    if (config.tokenAuthFile) {
      try {
        tokenFile = TokenFileAuthenticator.fromFile(config.tokenAuthFile);
      } catch (err) {
        throw new ConfigError(`--token-auth-file: ${(err as Error).message}`, { flag: 'token-auth-file', value: config.tokenAuthFile, cause: err });
      }
    }
    let verifier: TokenVerifier | undefined;
    if (config.serviceAccountKeyFile) {
      try {
        const pem = fs.readFileSync(config.serviceAccountKeyFile, 'utf8');
        const audiences = [...new Set([config.serviceAccountIssuer, DEFAULT_AUDIENCE])];
        verifier = new TokenVerifier({ keys: pem, issuers: [config.serviceAccountIssuer], audiences });
        this.issuer = new TokenIssuer({ key: pem, issuer: config.serviceAccountIssuer, audiences: [DEFAULT_AUDIENCE] });
      } catch (err) {
        throw new ConfigError(`--service-account-key-file: ${(err as Error).message}`, {
          flag: 'service-account-key-file',
          value: config.serviceAccountKeyFile,
          cause: err,
        });
      }
    }
    this.authenticator = createAuthenticator({ tokenFile, verifier, serviceAccounts });
    this.anonymous = config.anonymousAuth;
    if (modes.includes('AlwaysAllow')) {
      this.authorizer = { authorize: () => ({ decision: 'allow', reason: 'AlwaysAllow' }) };
      return;
    }
    const chain: Authorizer[] = [];
    for (const m of modes) {
      if (m === 'Node') chain.push(new NodeAuthorizer(nodeGraphSource(hub), { serviceAccounts }));
      if (m === 'RBAC') {
        this.rbac = new RbacAuthorizer(rbacSource(hub));
        chain.push(this.rbac);
      }
    }
    this.authorizer = new UnionAuthorizer(chain);
  }

  /** The caller of a gRPC call, from its "authorization: Bearer <token>" metadata. */
  async authenticate(md: grpc.Metadata): Promise<UserInfo> {
    const raw = md.get('authorization')[0];
    const user = await this.authenticateBearer(typeof raw === 'string' ? raw : raw?.toString());
    if (user) return user;
    if (this.anonymous) return ANONYMOUS;
    throw unauthorized('Unauthorized: no bearer token: send "authorization: Bearer <token>" metadata');
  }

  /**
   * The user of an "authorization" header value ("Bearer <token>"), for both transports;
   * undefined when there is none. A token that no authenticator accepts is UNAUTHENTICATED.
   */
  async authenticateBearer(header: string | undefined): Promise<UserInfo | undefined> {
    try {
      const token = bearerToken(header);
      const user = await this.authenticator.authenticate(token);
      if (user) return user;
    } catch (err) {
      if (err instanceof AuthError) throw unauthorized(`Unauthorized: ${err.message}`);
      throw err;
    }
    return undefined;
  }

  /** Whether callers without credentials act as system:anonymous (--anonymous-auth). */
  get anonymousAllowed(): boolean {
    return this.anonymous;
  }

  /** Throws PERMISSION_DENIED unless the user may do what the attributes say. */
  async authorize(user: UserInfo, a: AttributesWithoutUser): Promise<void> {
    const attrs: Attributes = { ...a, user };
    const d = await this.authorizer.authorize(attrs);
    if (d.decision === 'allow') return;
    throw forbidden(a.resource, a.apiGroup, a.name ?? '', d.reason);
  }

  /**
   * Authorizes a non-resource request (GET /healthz, /version, /apis, /openapi/v3, ...)
   * against the nonResourceURLs of RBAC rules, as Kubernetes; FORBIDDEN otherwise, with
   * Kubernetes' message (`forbidden: User "x" cannot get path "/api"`).
   */
  async authorizeNonResource(user: UserInfo, method: string, path: string): Promise<void> {
    // Kubernetes authorizes a non-resource request with the lower-case HTTP method as the verb.
    const d = await this.authorizer.authorize({ user, verb: method, apiGroup: '', resource: '', nonResourcePath: path });
    if (d.decision === 'allow') return;
    throw new ApiError(grpc.status.PERMISSION_DENIED, 'Forbidden', 403, `forbidden: User "${user.name}" cannot ${method} path "${path.slice(0, 200)}"`, { subject: {} });
  }

  /** Nobody grants permissions they do not hold: the checks of RBAC writes (a no-op without RBAC). */
  checkEscalation(user: UserInfo, resource: string, obj: ApiObject | undefined): void {
    if (!this.rbac || !obj) return;
    const meta = obj.metadata ?? {};
    let refusal: string | undefined;
    if (resource === 'roles' || resource === 'clusterroles') {
      refusal = checkRoleEscalation(this.rbac, user, {
        namespace: resource === 'roles' ? meta.namespace || 'default' : undefined,
        name: meta.name,
        rules: obj.rules,
        aggregationRule: obj.aggregationRule,
      });
    } else if (resource === 'rolebindings' || resource === 'clusterrolebindings') {
      refusal = checkBindingEscalation(this.rbac, user, {
        namespace: resource === 'rolebindings' ? meta.namespace || 'default' : undefined,
        roleRef: obj.roleRef,
      });
    }
    if (refusal) throw forbidden(resource, 'rbac.authorization.k8s.io', meta.name ?? '', refusal);
  }
}
