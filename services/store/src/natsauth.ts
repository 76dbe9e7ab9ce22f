// The store's NATS credentials as nats.js connection options: a user and password, an NKey
// (the client signs the server's nonce with its seed), or a credentials file (JWT + seed).
// The flags and the reading of the files are the kit's (natsAuthFlags); the NATS server
// lets the store's user write and manage only the store's stream and bucket.
import { type ConnectionOptions, credsAuthenticator, nkeyAuthenticator } from 'nats';
import type { NatsCredentials } from '@k8ts/kit';

export type NatsConnectAuth = Pick<ConnectionOptions, 'user' | 'pass' | 'authenticator'>;

/** Connection options for these credentials; none: anonymous. */
export function natsConnectAuth(creds: NatsCredentials | undefined): NatsConnectAuth {
  const encode = (text: string) => new TextEncoder().encode(text);
  switch (creds?.kind) {
    case 'password':
      return { user: creds.user, pass: creds.password };
    case 'nkey':
      return { authenticator: nkeyAuthenticator(encode(creds.seed)) };
    case 'creds':
      return { authenticator: credsAuthenticator(encode(creds.creds)) };
    default:
      return {};
  }
}
