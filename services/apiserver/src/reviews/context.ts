// What a review is computed from: the apiserver's authenticator and authorizer chain (Security),
// the caller (already authenticated and authorized to create the review), the URL's namespace
// and the request body (Kubernetes JSON, already parsed).
import type { UserInfo } from '../auth/types';
import type { Security } from '../server/security';

/** The parts of Security the reviews use (a Security is one). */
export type ReviewSecurity = Pick<Security, 'authenticator' | 'authorizer' | 'issuer'>;

export interface ReviewContext {
  security: ReviewSecurity;
  /** The caller. */
  user: UserInfo;
  /** The namespace of the URL (namespaced reviews only). */
  namespace?: string;
  /** The POST body, JSON-parsed. */
  body: unknown;
}
