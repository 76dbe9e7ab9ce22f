// The cluster's credentials, made by `k8ts up` on first start and kept in <data-dir>/pki:
//   sa.key / sa.pub     the apiserver's signing key (ES256, P-256): it signs and verifies
//                       service-account and node tokens
//   credentials.json    the bearer tokens: admin, scheduler, controller-manager, proxy, and
//                       one node token (a JWT signed with sa.key) per kubelet
//   tokens.csv          the apiserver's --token-auth-file (admin and component users)
//   tokens/<name>.token the token each component reads with --token-file
//
// Node tokens follow the apiserver's format (services/apiserver/src/auth/README.md): a
// compact JWS, header {alg: ES256, kid: base64url(SHA-256(SPKI DER)), typ: JWT}, claims
// iss/aud "k8ts", sub "system:node:<node>", k8ts: {node: {name}}. The CLI signs them with
// Node's crypto: components never import each other's sources.
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';

export interface Credentials {
  admin: string;
  scheduler: string;
  controllerManager: string;
  proxy: string;
  /**
   * The kubelet of simulated nodes (--sim-nodes): it writes many Nodes, which no node token
   * allows, so it is a static user in system:masters (simulation only).
   */
  simKubelet?: string;
  /** Node name -> node token (JWT). */
  nodes: Record<string, string>;
}

/** A random bearer token: 32 bytes, base64url. */
export function generateToken(): string {
  return crypto.randomBytes(32).toString('base64url');
}

/** An ES256 signing key pair as PEM (private PKCS#8, public SPKI). */
export function generateKeyPairPem(): { privateKeyPem: string; publicKeyPem: string } {
  const pair = crypto.generateKeyPairSync('ec', {
    namedCurve: 'P-256',
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return { privateKeyPem: pair.privateKey, publicKeyPem: pair.publicKey };
}

/** The key id of a public key: base64url(SHA-256(SPKI DER)). */
export function keyId(publicKey: crypto.KeyObject): string {
  return crypto.createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('base64url');
}

const b64json = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

/** Signs claims as an ES256 compact JWS with the PEM private key. */
export function signJwt(privateKeyPem: string, claims: Record<string, unknown>): string {
  const key = crypto.createPrivateKey(privateKeyPem);
  if (key.asymmetricKeyType !== 'ec') throw new Error('the signing key must be an EC P-256 key');
  const kid = keyId(crypto.createPublicKey(key));
  const input = `${b64json({ alg: 'ES256', kid, typ: 'JWT' })}.${b64json(claims)}`;
  const sig = crypto.sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
  return `${input}.${sig.toString('base64url')}`;
}

/** A node token for the kubelet of `nodeName`, without expiry. */
export function issueNodeToken(privateKeyPem: string, nodeName: string, now = Date.now()): string {
  const iat = Math.floor(now / 1000);
  return signJwt(privateKeyPem, {
    iss: 'k8ts',
    sub: `system:node:${nodeName}`,
    aud: ['k8ts'],
    iat,
    nbf: iat,
    jti: crypto.randomUUID(),
    k8ts: { node: { name: nodeName } },
  });
}

/** One line of Kubernetes' token file format: token,user,uid,"group1,group2". */
export function tokenFileLine(token: string, user: string, uid = '', groups: string[] = []): string {
  const g = groups.length === 0 ? '' : groups.length === 1 ? groups[0] : `"${groups.join(',')}"`;
  return groups.length === 0 ? `${token},${user},${uid}` : `${token},${user},${uid},${g}`;
}

export interface PkiPaths {
  dir: string;
  key: string;
  pub: string;
  credentials: string;
  tokenFile: string;
  tokensDir: string;
}

export function pkiPaths(dataDir: string): PkiPaths {
  const dir = path.join(dataDir, 'pki');
  return {
    dir,
    key: path.join(dir, 'sa.key'),
    pub: path.join(dir, 'sa.pub'),
    credentials: path.join(dir, 'credentials.json'),
    tokenFile: path.join(dir, 'tokens.csv'),
    tokensDir: path.join(dir, 'tokens'),
  };
}

function writeSecret(file: string, text: string): void {
  fs.writeFileSync(file, text, { mode: 0o600 });
  fs.chmodSync(file, 0o600);
}

/**
 * Makes sure the key, the tokens of every component and of each node exist (creating what is
 * missing, keeping what is there), writes the token file and the per-component token files,
 * and returns the credentials. Running it again on the same directory changes nothing
 * except adding tokens for new nodes. The simulated nodes' kubelet gets its token only when
 * `simKubelet` is set.
 */
export function ensureCredentials(dataDir: string, nodeNames: string[], opts: { simKubelet?: boolean } = {}): Credentials {
  const p = pkiPaths(dataDir);
  fs.mkdirSync(p.tokensDir, { recursive: true, mode: 0o700 });
  fs.chmodSync(p.dir, 0o700);
  if (!fs.existsSync(p.key)) {
    const { privateKeyPem, publicKeyPem } = generateKeyPairPem();
    writeSecret(p.key, privateKeyPem);
    fs.writeFileSync(p.pub, publicKeyPem);
  }
  const keyPem = fs.readFileSync(p.key, 'utf8');
  let creds: Credentials;
  if (fs.existsSync(p.credentials)) {
    creds = JSON.parse(fs.readFileSync(p.credentials, 'utf8')) as Credentials;
    creds.nodes ??= {};
    creds.simKubelet ??= generateToken();
  } else {
    creds = {
      admin: generateToken(),
      scheduler: generateToken(),
      controllerManager: generateToken(),
      proxy: generateToken(),
      simKubelet: generateToken(),
      nodes: {},
    };
  }
  for (const n of nodeNames) creds.nodes[n] ??= issueNodeToken(keyPem, n);
  writeSecret(p.credentials, `${JSON.stringify(creds, null, 2)}\n`);
  const lines = [
    '# Written by k8ts up: the static tokens of the administrator and the components.',
    tokenFileLine(creds.admin, 'admin', 'admin', ['system:masters']),
    tokenFileLine(creds.scheduler, 'system:kube-scheduler', 'system:kube-scheduler'),
    tokenFileLine(creds.controllerManager, 'system:kube-controller-manager', 'system:kube-controller-manager'),
    tokenFileLine(creds.proxy, 'system:kube-proxy', 'system:kube-proxy'),
  ];
  // Only while simulated nodes are in use: this user may do anything.
  if (opts.simKubelet) lines.push(tokenFileLine(creds.simKubelet as string, 'system:k8ts-sim-kubelet', 'system:k8ts-sim-kubelet', ['system:masters']));
  writeSecret(p.tokenFile, `${lines.join('\n')}\n`);
  writeSecret(path.join(p.tokensDir, 'scheduler.token'), creds.scheduler);
  writeSecret(path.join(p.tokensDir, 'controller-manager.token'), creds.controllerManager);
  writeSecret(path.join(p.tokensDir, 'proxy.token'), creds.proxy);
  writeSecret(path.join(p.tokensDir, 'admin.token'), creds.admin);
  writeSecret(path.join(p.tokensDir, 'kubelet-sim.token'), creds.simKubelet as string);
  for (const [n, t] of Object.entries(creds.nodes)) writeSecret(path.join(p.tokensDir, `kubelet-${n}.token`), t);
  return creds;
}
