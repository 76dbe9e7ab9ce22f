// Delegated authentication and authorization for k8ts servers other than the apiserver (the
// kubelet's API, the proxy's admin API): callers are authenticated by client certificate or by
// a TokenReview of their bearer token, and each call is authorized by a SubjectAccessReview,
// both asked of the apiserver and cached briefly, as Kubernetes' kubelet does. See README.md
// of @k8ts/client ("Delegated authentication and authorization").
export * from './types';
export { TtlCache } from './ttlcache';
export { ANONYMOUS, TokenReviewAuthenticator, bearerToken, delegatingAuthenticator, x509Authenticator } from './authenticators';
export type { DelegatingAuthenticatorOptions, TokenReviewAuthenticatorOptions } from './authenticators';
export { WebhookAuthorizer, accessReviewSpec, alwaysAllow } from './authorizers';
export type { WebhookAuthorizerOptions } from './authorizers';
export { HEALTH_METHODS, callGuard, forbiddenMessage } from './guard';
export type { CallGuardOptions } from './guard';
export { AUTHORIZATION_MODES, apiserverHttpsUrl, delegatedAuthFlags, delegatedAuthFromConfig } from './config';
export type { DelegatedAuth, DelegatedAuthConfig, DelegatedAuthOptions } from './config';
