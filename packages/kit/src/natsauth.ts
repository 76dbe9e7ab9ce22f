// NATS credentials and permissions of the store's NATS, both sides of them.
//
// The store's log lives on NATS JetStream, so whoever may publish to NATS may rewrite or
// delete the cluster's state. NATS servers that k8ts configures therefore refuse anonymous
// connections and give each client only what it needs:
//   - the store: publish to its stream's subjects and its metadata bucket, and manage that
//     stream and bucket (create, info, purge, delete messages, consumers);
//   - the apiserver: read them only: stream info, ordered consumers on the stream (create,
//     fetch, delete its own), and reads of the metadata bucket; no publish to the stream,
//     no stream create, update, purge or delete.
// Both receive their replies on `_INBOX.>`. Clients authenticate with NKeys: the server's
// configuration holds only public keys, each client signs the server's nonce with its seed.
//
// The client side (flags, reading the credentials) is shared by the store and the apiserver;
// the server side (NKeys, the authorization block of nats-server's configuration) by `k8ts up`
// and the deployment's secret generator. NKeys are Ed25519 keys in the NATS encoding (a prefix
// byte, the raw key, a CRC-16/XMODEM, base32 without padding), made with Node's crypto.
import * as crypto from 'crypto';
import * as fs from 'fs';
import type { FlagSpec } from './config';
import { ConfigError } from './errors';

// ---- the client side: flags and credentials ----------------------------------------------

/** The NATS credential flags of a NATS client (the store, the apiserver). */
export const natsAuthFlags: FlagSpec[] = [
  { name: 'nats-user', type: 'string', default: '', description: 'NATS user name (with --nats-password).' },
  {
    name: 'nats-password',
    type: 'string',
    default: '',
    description: "NATS password of --nats-user; prefer the environment (K8TS_NATS_PASSWORD): a process's arguments are visible to every local user.",
  },
  {
    name: 'nats-nkey',
    type: 'file',
    description: "File holding the NATS user's NKey seed (SU...): the client signs the server's challenge with it; the server knows only the public key.",
  },
  { name: 'nats-creds', type: 'file', description: 'NATS credentials file (a user JWT and its NKey seed: decentralized authentication).' },
];

/** How a client authenticates to NATS; none = anonymous. */
export type NatsCredentials =
  | { kind: 'password'; user: string; password: string }
  | { kind: 'nkey'; seed: string; publicKey: string }
  | { kind: 'creds'; creds: string };

/** The settings natsAuthFlags fill. */
export interface NatsAuthConfig {
  natsUser?: string;
  natsPassword?: string;
  natsNkey?: string;
  natsCreds?: string;
}

function readCredentialFile(file: string, flag: string): string {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch (err) {
    throw new ConfigError(`cannot read --${flag} ${JSON.stringify(file)}: ${(err as Error).message}`, { flag, value: file, cause: err });
  }
}

/**
 * The credentials the flags name: a user and password, an NKey seed file or a credentials file
 * (at most one of the three), or undefined (anonymous). Files are read and checked here, so a
 * bad one is a ConfigError at start rather than a refused connection later.
 */
export function natsCredentialsFromConfig(c: NatsAuthConfig): NatsCredentials | undefined {
  const chosen = [c.natsUser || c.natsPassword ? 'nats-user' : '', c.natsNkey ? 'nats-nkey' : '', c.natsCreds ? 'nats-creds' : ''].filter(Boolean);
  if (chosen.length > 1) throw new ConfigError(`--${chosen[0]} and --${chosen[1]} exclude each other: choose one way to authenticate to NATS`, { flag: chosen[1] });
  if (c.natsUser || c.natsPassword) {
    if (!c.natsUser || !c.natsPassword) {
      throw new ConfigError('--nats-user and --nats-password must be given together (env K8TS_NATS_USER, K8TS_NATS_PASSWORD)', { flag: c.natsUser ? 'nats-password' : 'nats-user' });
    }
    return { kind: 'password', user: c.natsUser, password: c.natsPassword };
  }
  if (c.natsNkey) {
    const seed = readCredentialFile(c.natsNkey, 'nats-nkey');
    try {
      return { kind: 'nkey', seed, publicKey: natsPublicKey(seed) };
    } catch (err) {
      throw new ConfigError(`invalid --nats-nkey ${JSON.stringify(c.natsNkey)}: ${(err as Error).message}`, { flag: 'nats-nkey', value: c.natsNkey });
    }
  }
  if (c.natsCreds) {
    const creds = readCredentialFile(c.natsCreds, 'nats-creds');
    if (!/-----BEGIN NATS USER JWT-----/.test(creds) || !/-----BEGIN USER NKEY SEED-----/.test(creds)) {
      throw new ConfigError(`invalid --nats-creds ${JSON.stringify(c.natsCreds)}: expected a NATS credentials file (a user JWT and a user NKey seed)`, {
        flag: 'nats-creds',
        value: c.natsCreds,
      });
    }
    return { kind: 'creds', creds };
  }
  return undefined;
}

// ---- NKeys ----------------------------------------------------------------------------

const PREFIX_SEED = 18 << 3; // 'S'
const PREFIX_USER = 20 << 3; // 'U'
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
/** PKCS#8 DER of an Ed25519 private key, before its 32-byte seed (RFC 8410). */
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

function crc16(bytes: Uint8Array): number {
  let crc = 0;
  for (const b of bytes) {
    crc ^= b << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

function base32Encode(bytes: Uint8Array): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

function base32Decode(text: string): Buffer {
  const out: number[] = [];
  let bits = 0;
  let value = 0;
  for (const ch of text) {
    const v = BASE32.indexOf(ch);
    if (v < 0) throw new Error(`not base32: ${JSON.stringify(ch)}`);
    value = ((value << 5) | v) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 255);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** The NATS encoding: header bytes, payload, CRC-16 little-endian, base32. */
function encodeKey(header: number[], payload: Buffer): string {
  const raw = Buffer.concat([Buffer.from(header), payload, Buffer.alloc(2)]);
  raw.writeUInt16LE(crc16(raw.subarray(0, raw.length - 2)), raw.length - 2);
  return base32Encode(raw);
}

/** The 32-byte Ed25519 seed of a user seed "SU...", checked. */
function decodeUserSeed(seed: string): Buffer {
  if (!/^[A-Z2-7]+$/.test(seed.trim())) throw new Error('not an NKey seed (expected base32 text such as SUAB...)');
  const raw = base32Decode(seed.trim());
  if (raw.length !== 36) throw new Error('not an NKey seed (wrong length)');
  if (crc16(raw.subarray(0, 34)) !== raw.readUInt16LE(34)) throw new Error('not an NKey seed (bad checksum)');
  if ((raw[0] & 0xf8) !== PREFIX_SEED) throw new Error('not an NKey seed (it does not start with S)');
  const role = ((raw[0] & 7) << 5) | ((raw[1] & 0xf8) >> 3);
  if (role !== PREFIX_USER) throw new Error('not a user NKey seed (it does not start with SU)');
  return raw.subarray(2, 34);
}

function publicKeyOfSeed(raw: Buffer): Buffer {
  const key = crypto.createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, raw]), format: 'der', type: 'pkcs8' });
  const jwk = crypto.createPublicKey(key).export({ format: 'jwk' });
  return Buffer.from(jwk.x as string, 'base64url');
}

/** The public key "U..." of a user NKey seed "SU..."; throws naming what is wrong with the seed. */
export function natsPublicKey(seed: string): string {
  return encodeKey([PREFIX_USER], publicKeyOfSeed(decodeUserSeed(seed)));
}

/** A new user NKey: its seed (the secret, "SU...") and its public key ("U..."). */
export function generateNatsUserKey(): { seed: string; publicKey: string } {
  const raw = crypto.randomBytes(32);
  const seed = encodeKey([PREFIX_SEED | (PREFIX_USER >> 5), (PREFIX_USER & 31) << 3], raw);
  return { seed, publicKey: encodeKey([PREFIX_USER], publicKeyOfSeed(raw)) };
}

// ---- the server side: permissions and nats-server's authorization block -------------------

/** The subjects a NATS user may publish to and subscribe to (nothing else). */
export interface NatsPermissions {
  publish: string[];
  subscribe: string[];
}

/** The store's log: its stream, its subject prefix, and the metadata bucket "<stream>-meta". */
export interface StoreStreamNames {
  stream: string;
  /** Default: the stream name in lower case (the store's default). */
  subjectPrefix?: string;
}

const INBOX = '_INBOX.>';

/** The JetStream API subjects that manage one stream: its own API, its messages, its consumers, flow control. */
function manageStream(s: string): string[] {
  return [
    `$JS.API.STREAM.*.${s}`,
    `$JS.API.STREAM.MSG.*.${s}`,
    `$JS.API.DIRECT.GET.${s}`,
    `$JS.API.DIRECT.GET.${s}.>`,
    `$JS.API.CONSUMER.*.${s}`,
    `$JS.API.CONSUMER.*.${s}.>`,
    `$JS.API.CONSUMER.*.*.${s}.>`,
    `$JS.FC.${s}.>`,
  ];
}

/** The store: writes its stream and bucket and manages both. */
export function storeNatsPermissions(names: StoreStreamNames): NatsPermissions {
  const prefix = names.subjectPrefix || names.stream.toLowerCase();
  const bucket = `${names.stream}-meta`;
  return {
    publish: [`${prefix}.>`, `$KV.${bucket}.>`, '$JS.API.INFO', ...manageStream(names.stream), ...manageStream(`KV_${bucket}`)],
    subscribe: [INBOX],
  };
}

/**
 * The apiserver: reads the stream through ordered consumers (JetStream's
 * `$JS.API.CONSUMER.CREATE.<stream>.<name>`, `...MSG.NEXT...`, and `...DELETE...` of a
 * consumer it replaces) and reads the bucket's compaction record; nothing else.
 */
export function apiserverNatsPermissions(names: StoreStreamNames): NatsPermissions {
  const s = names.stream;
  const kv = `KV_${s}-meta`;
  return {
    publish: [
      '$JS.API.INFO',
      `$JS.API.STREAM.INFO.${s}`,
      `$JS.API.CONSUMER.CREATE.${s}.*`,
      `$JS.API.CONSUMER.MSG.NEXT.${s}.*`,
      `$JS.API.CONSUMER.DELETE.${s}.*`,
      `$JS.API.STREAM.INFO.${kv}`,
      `$JS.API.STREAM.MSG.GET.${kv}`,
      `$JS.API.DIRECT.GET.${kv}`,
      `$JS.API.DIRECT.GET.${kv}.>`,
    ],
    subscribe: [INBOX],
  };
}

/** One NKey user of nats-server's configuration. */
export interface NatsNkeyUser {
  /** Written as a comment: who this is. */
  name: string;
  publicKey: string;
  permissions: NatsPermissions;
}

const PUBLIC_USER_KEY = /^U[A-Z2-7]{55}$/;

/** A subject list of nats-server's configuration: quoted, so that "$JS..." is not read as a variable. */
function subjectList(subjects: string[]): string {
  return `[${subjects.map((s) => JSON.stringify(s)).join(', ')}]`;
}

/**
 * nats-server's `authorization` block for these users: NKey users, each allowed exactly its
 * publish and subscribe subjects. With users and no `no_auth_user`, anonymous connections are
 * refused.
 */
export function natsAuthorizationConf(users: NatsNkeyUser[]): string {
  if (users.length === 0) throw new Error('natsAuthorizationConf: no users: nats-server would accept anonymous connections');
  const lines = ['authorization {', '  users: ['];
  for (const u of users) {
    if (!PUBLIC_USER_KEY.test(u.publicKey)) throw new Error(`natsAuthorizationConf: user ${u.name}: ${JSON.stringify(u.publicKey)} is not a public user NKey (U...)`);
    lines.push(
      `    # ${u.name}`,
      '    {',
      `      nkey: ${u.publicKey}`,
      '      permissions: {',
      `        publish: { allow: ${subjectList(u.permissions.publish)} }`,
      `        subscribe: { allow: ${subjectList(u.permissions.subscribe)} }`,
      '      }',
      '    }',
    );
  }
  lines.push('  ]', '}', '');
  return lines.join('\n');
}

/** nats.js connection options carrying credentials. */
export type NatsConnectAuth = Pick<import('nats').ConnectionOptions, 'user' | 'pass' | 'authenticator'>;

/**
 * NATS credentials as nats.js connection options: a user and password, an NKey (the client
 * signs the server's nonce with its seed), or a credentials file (JWT + seed); none:
 * anonymous. nats.js is loaded only by the processes that connect to NATS.
 */
export function natsConnectAuth(creds: NatsCredentials | undefined): NatsConnectAuth {
  if (!creds) return {};
  const nats = require('nats') as typeof import('nats');
  const encode = (text: string) => new TextEncoder().encode(text);
  switch (creds.kind) {
    case 'password':
      return { user: creds.user, pass: creds.password };
    case 'nkey':
      return { authenticator: nats.nkeyAuthenticator(encode(creds.seed)) };
    case 'creds':
      return { authenticator: nats.credsAuthenticator(encode(creds.creds)) };
    default:
      return {};
  }
}
