// The vocabulary of delegated authentication and authorization (Kubernetes'
// k8s.io/apiserver authenticator and authorizer interfaces, in k8ts' terms): who a caller is
// (UserInfo), what a call asks to do (RequestAttributes: a resource request such as get
// nodes/proxy, or a non-resource request on a path), and the pieces that decide.
import type { PeerCertificate } from 'tls';

/** The user a call is made by. */
export interface UserInfo {
  name: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

export const ANONYMOUS_USER = 'system:anonymous';
export const GROUP_UNAUTHENTICATED = 'system:unauthenticated';
export const GROUP_AUTHENTICATED = 'system:authenticated';

/** What a call presents: a client certificate TLS verified against the client CA, and its metadata. */
export interface CallCredentials {
  /** Only a certificate the client CA signed (grpc-js reports no other). */
  peerCertificate?: PeerCertificate;
  /** The "authorization" metadata value, e.g. "Bearer <token>". */
  authorization?: string;
}

/** Credentials that were presented but are not good: the call is UNAUTHENTICATED, with this reason. */
export class AuthenticationError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AuthenticationError';
  }
}

/**
 * Finds the user of a call's credentials: undefined when the credentials it understands are
 * absent (another authenticator may know the caller), AuthenticationError when they are
 * present but not good.
 */
export interface RequestAuthenticator {
  authenticate(creds: CallCredentials): Promise<UserInfo | undefined>;
}

/** A request about an API resource: the kubelet API is authorized as get nodes/proxy and the like. */
export interface ResourceRequest {
  kind: 'resource';
  verb: string;
  apiGroup: string;
  apiVersion: string;
  resource: string;
  subresource: string;
  name: string;
  namespace: string;
}

/** A request on a path that is no API resource (as GET /metrics is). */
export interface NonResourceRequest {
  kind: 'nonResource';
  verb: string;
  path: string;
}

export type RequestAttributes = ResourceRequest | NonResourceRequest;

export interface AuthorizationDecision {
  allowed: boolean;
  /** Why, when the authorizer said (logged; not sent to callers). */
  reason: string;
}

/** Decides whether a user may do what the attributes say; throws when it cannot tell (the review failed). */
export interface RequestAuthorizer {
  authorize(user: UserInfo, attrs: RequestAttributes): Promise<AuthorizationDecision>;
}
