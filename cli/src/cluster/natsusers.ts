// The NATS users of a `k8ts up` cluster. The store's log is a JetStream stream, so whoever may
// publish to NATS may rewrite or delete the cluster's state: nats-server refuses anonymous
// connections and knows two NKey users, the store (writes and manages its stream and bucket)
// and the apiserver (reads them), each limited to the subjects @k8ts/kit's
// storeNatsPermissions / apiserverNatsPermissions list.
//
// The seeds are made on the first `up` and kept in <data-dir>/pki/nats/<user>.nk (0600); the
// store and the apiserver read theirs with --nats-nkey. nats.conf, written on every start,
// holds only the public keys.
import * as fs from 'fs';
import * as path from 'path';
import { apiserverNatsPermissions, generateNatsUserKey, natsAuthorizationConf, natsPublicKey, storeNatsPermissions } from '@k8ts/kit';
import { CliError } from '../errors';
import type { PkiPaths } from './pki';

/** The store's stream in a `k8ts up` cluster (the store's and the apiserver's default). */
export const STORE_STREAM = 'K8TS';

export type NatsUserName = 'store' | 'apiserver';

export interface NatsUserKey {
  /** The seed file, for --nats-nkey. */
  seedFile: string;
  publicKey: string;
}

/** The seed file of a NATS user. */
export function natsSeedFile(p: PkiPaths, user: NatsUserName): string {
  return path.join(p.natsDir, `${user}.nk`);
}

/** A user's key: the one kept in its seed file, or a new one written there. A seed file that is not a seed is an error, never replaced silently. */
function ensureUserKey(p: PkiPaths, user: NatsUserName): NatsUserKey {
  const seedFile = natsSeedFile(p, user);
  if (fs.existsSync(seedFile)) {
    try {
      return { seedFile, publicKey: natsPublicKey(fs.readFileSync(seedFile, 'utf8')) };
    } catch (err) {
      throw new CliError(`${seedFile}: ${(err as Error).message}; remove it for k8ts up to make a new NATS key for the ${user}`);
    }
  }
  const key = generateNatsUserKey();
  fs.writeFileSync(seedFile, `${key.seed}\n`, { mode: 0o600 });
  return { seedFile, publicKey: key.publicKey };
}

/** The store's and the apiserver's NATS keys, made when missing, kept otherwise. */
export function ensureNatsUsers(p: PkiPaths): Record<NatsUserName, NatsUserKey> {
  fs.mkdirSync(p.natsDir, { recursive: true, mode: 0o700 });
  fs.chmodSync(p.natsDir, 0o700);
  return { store: ensureUserKey(p, 'store'), apiserver: ensureUserKey(p, 'apiserver') };
}

/** nats-server's authorization block for the two users of the store's stream. */
export function natsAuthorization(users: Record<NatsUserName, NatsUserKey>, stream = STORE_STREAM): string {
  return natsAuthorizationConf([
    { name: 'the store: writes and manages its stream and metadata bucket', publicKey: users.store.publicKey, permissions: storeNatsPermissions({ stream }) },
    { name: 'the apiserver: reads the stream and the bucket', publicKey: users.apiserver.publicKey, permissions: apiserverNatsPermissions({ stream }) },
  ]);
}
