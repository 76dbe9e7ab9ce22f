// NATS credentials: NKeys made here are the ones the nats client library (nkeys.js, through the
// `nats` package) reads and signs with; the flags refuse contradictory or unreadable settings;
// the authorization block lists exactly each user's subjects. (That the real nats-server
// accepts the block and enforces it is checked by integration/store/security.test.ts.)
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { nkeys } from 'nats';
import {
  apiserverNatsPermissions,
  generateNatsUserKey,
  natsAuthorizationConf,
  natsConnectAuth,
  natsCredentialsFromConfig,
  natsPublicKey,
  storeNatsPermissions,
} from '../src/natsauth';

const decode = (b: Uint8Array) => new TextDecoder().decode(b);

describe('NKeys', () => {
  test('a generated seed is a user seed nkeys.js reads, with the same public key', () => {
    const k = generateNatsUserKey();
    expect(k.seed).toMatch(/^SU[A-Z2-7]{56}$/);
    expect(k.publicKey).toMatch(/^U[A-Z2-7]{55}$/);
    const kp = nkeys.fromSeed(new TextEncoder().encode(k.seed));
    expect(kp.getPublicKey()).toBe(k.publicKey);
    // And it signs: nkeys.js verifies a signature with the public key alone.
    const sig = kp.sign(new TextEncoder().encode('nonce'));
    expect(nkeys.fromPublic(k.publicKey).verify(new TextEncoder().encode('nonce'), sig)).toBe(true);
  });

  test('the public key of a seed made by nkeys.js', () => {
    for (let i = 0; i < 5; i++) {
      const kp = nkeys.createUser();
      expect(natsPublicKey(decode(kp.getSeed()))).toBe(kp.getPublicKey());
    }
  });

  test('two keys differ', () => {
    expect(generateNatsUserKey().seed).not.toBe(generateNatsUserKey().seed);
  });

  test('refuses what is not a user seed', () => {
    const seed = generateNatsUserKey().seed;
    const flipped = `${seed.slice(0, 10)}${seed[10] === 'A' ? 'B' : 'A'}${seed.slice(11)}`;
    expect(() => natsPublicKey(flipped)).toThrow(/bad checksum/);
    expect(() => natsPublicKey(seed.slice(0, 40))).toThrow(/wrong length/);
    expect(() => natsPublicKey(decode(nkeys.createAccount().getSeed()))).toThrow(/not a user NKey seed/);
    expect(() => natsPublicKey(generateNatsUserKey().publicKey)).toThrow(/not an NKey seed/);
    expect(() => natsPublicKey('SU1!')).toThrow(/not an NKey seed \(expected base32/);
  });
});

describe('natsCredentialsFromConfig', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k8ts-kit-natsauth-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string) => {
    const f = path.join(dir, name);
    fs.writeFileSync(f, text);
    return f;
  };

  test('none: anonymous', () => {
    expect(natsCredentialsFromConfig({ natsUser: '', natsPassword: '' })).toBeUndefined();
  });

  test('a user and password', () => {
    expect(natsCredentialsFromConfig({ natsUser: 'store', natsPassword: 's3cret' })).toEqual({ kind: 'password', user: 'store', password: 's3cret' });
    expect(() => natsCredentialsFromConfig({ natsUser: 'store' })).toThrow('--nats-user and --nats-password must be given together');
    expect(() => natsCredentialsFromConfig({ natsPassword: 'x' })).toThrow('--nats-user and --nats-password must be given together');
  });

  test('an NKey seed file, its public key derived', () => {
    const k = generateNatsUserKey();
    expect(natsCredentialsFromConfig({ natsNkey: file('store.nk', `${k.seed}\n`) })).toEqual({ kind: 'nkey', seed: k.seed, publicKey: k.publicKey });
    expect(() => natsCredentialsFromConfig({ natsNkey: file('bad.nk', 'hello') })).toThrow(/^invalid --nats-nkey ".*bad\.nk": not an NKey seed/);
    expect(() => natsCredentialsFromConfig({ natsNkey: path.join(dir, 'missing.nk') })).toThrow(/^cannot read --nats-nkey/);
  });

  test('a credentials file', () => {
    const creds = `-----BEGIN NATS USER JWT-----\neyJ0\n------END NATS USER JWT------\n\n-----BEGIN USER NKEY SEED-----\n${generateNatsUserKey().seed}\n------END USER NKEY SEED------\n`;
    expect(natsCredentialsFromConfig({ natsCreds: file('u.creds', creds) })).toEqual({ kind: 'creds', creds: creds.trim() });
    expect(() => natsCredentialsFromConfig({ natsCreds: file('x.creds', 'nope') })).toThrow(/expected a NATS credentials file/);
  });

  test('two ways at once are refused', () => {
    const nk = file('two.nk', generateNatsUserKey().seed);
    expect(() => natsCredentialsFromConfig({ natsUser: 'a', natsPassword: 'b', natsNkey: nk })).toThrow('--nats-user and --nats-nkey exclude each other');
  });
});

describe('permissions', () => {
  test('the store writes and manages only its stream and bucket', () => {
    const p = storeNatsPermissions({ stream: 'K8TS' });
    expect(p.publish).toContain('k8ts.>');
    expect(p.publish).toContain('$KV.K8TS-meta.>');
    expect(p.publish).toContain('$JS.API.STREAM.*.K8TS');
    expect(p.publish).toContain('$JS.API.STREAM.*.KV_K8TS-meta');
    expect(p.publish.filter((s) => s.includes('>') && !/K8TS|k8ts/.test(s))).toEqual([]);
    expect(p.subscribe).toEqual(['_INBOX.>']);
    expect(storeNatsPermissions({ stream: 'S2', subjectPrefix: 'a.b' }).publish[0]).toBe('a.b.>');
  });

  test('the apiserver may not publish to the stream, nor create, change or delete streams', () => {
    const p = apiserverNatsPermissions({ stream: 'K8TS' });
    for (const s of p.publish) {
      expect(s).not.toMatch(/^k8ts\./);
      expect(s).not.toMatch(/\$JS\.API\.STREAM\.(CREATE|UPDATE|DELETE|PURGE)|MSG\.DELETE|\$KV\./);
      expect(s).not.toBe('$JS.API.>');
    }
    expect(p.publish).toContain('$JS.API.CONSUMER.CREATE.K8TS.*');
    expect(p.publish).toContain('$JS.API.CONSUMER.MSG.NEXT.K8TS.*');
  });
});

describe('natsAuthorizationConf', () => {
  test('one NKey user per entry, subjects quoted, nothing anonymous', () => {
    const store = generateNatsUserKey();
    const conf = natsAuthorizationConf([{ name: 'store', publicKey: store.publicKey, permissions: { publish: ['$JS.API.INFO', 'k8ts.>'], subscribe: ['_INBOX.>'] } }]);
    expect(conf).toContain(`nkey: ${store.publicKey}`);
    expect(conf).toContain('publish: { allow: ["$JS.API.INFO", "k8ts.>"] }');
    expect(conf).toContain('subscribe: { allow: ["_INBOX.>"] }');
    expect(conf).not.toMatch(/no_auth_user/);
    expect(conf).not.toContain(store.seed);
  });

  test('refuses no users and keys that are not public user keys', () => {
    expect(() => natsAuthorizationConf([])).toThrow(/anonymous/);
    expect(() => natsAuthorizationConf([{ name: 'x', publicKey: generateNatsUserKey().seed, permissions: { publish: [], subscribe: [] } }])).toThrow(
      'natsAuthorizationConf: user x',
    );
  });
});

describe('natsConnectAuth', () => {
  it('turns each kind of credentials into nats.js options, and none into anonymous', () => {
    expect(natsConnectAuth(undefined)).toEqual({});
    expect(natsConnectAuth({ kind: 'password', user: 'store', password: 'p' })).toEqual({ user: 'store', pass: 'p' });
    const key = generateNatsUserKey();
    const auth = natsConnectAuth({ kind: 'nkey', seed: key.seed, publicKey: key.publicKey });
    expect(typeof auth.authenticator).toBe('function');
    // The authenticator signs the server's nonce with the seed: the signature verifies with the public key.
    const nonce = 'server-nonce';
    const answer = (auth.authenticator as (nonce?: string) => { nkey: string; sig: string })(nonce);
    expect(answer.nkey).toBe(key.publicKey);
    const sig = Buffer.from(answer.sig, 'base64url');
    expect(nkeys.fromPublic(key.publicKey).verify(new TextEncoder().encode(nonce), sig)).toBe(true);
  });
});
