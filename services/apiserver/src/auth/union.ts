// The apiserver's authenticator: tries each authenticator in order (token file, service-account
// tokens, node tokens); the first that recognises the token decides. No token at all gives
// null, and the server then answers UNAUTHENTICATED on every RPC except health. A token that
// no authenticator recognises, or that the recognising one rejects, gives AuthError.
import { AuthError, type Authenticator, GROUP_AUTHENTICATED, type UserInfo } from './types';

export class UnionAuthenticator implements Authenticator {
  private readonly authenticators: readonly Authenticator[];

  constructor(authenticators: readonly Authenticator[]) {
    this.authenticators = authenticators;
  }

  async authenticate(token: string | undefined): Promise<UserInfo | null> {
    if (token === undefined || token === '') return null;
    for (const a of this.authenticators) {
      // A rejection (AuthError) ends the search: the token was of that authenticator's kind.
      const user = await a.authenticate(token);
      if (user) {
        return user.groups.includes(GROUP_AUTHENTICATED)
          ? user
          : { ...user, groups: [...user.groups, GROUP_AUTHENTICATED] };
      }
    }
    throw new AuthError('invalid bearer token: not a known static token, service account token or node token');
  }
}

/**
 * The token of an "authorization" metadata value: "Bearer <token>" (the scheme in any case).
 * undefined when there is no value; AuthError when the value is not a bearer token.
 */
export function bearerToken(authorization: string | undefined): string | undefined {
  if (authorization === undefined || authorization === '') return undefined;
  const m = /^\s*bearer\s+(\S+)\s*$/i.exec(authorization);
  if (!m) {
    throw new AuthError('the authorization metadata must be "Bearer <token>"');
  }
  return m[1];
}
