// The cluster's credentials, made by `k8ts up` on first start and kept in <data-dir>/pki:
//   sa.key / sa.pub     the apiserver's signing key (ES256, P-256): it signs and verifies
//                       service-account and node tokens
//   credentials.json    the bearer tokens: admin, scheduler, controller-manager, proxy, and
//                       one node token (a JWT signed with sa.key) per kubelet
//   tokens.csv          the apiserver's --token-auth-file (admin and component users)
//   tokens/<name>.token the token each component reads with --token-file
//   ca.crt / ca.key     the cluster CA (ECDSA P-256, 10 years): it signs the certificates
//                       below, and the apiserver trusts client certificates it signed
//                       (--client-ca-file)
//   apiserver.crt/.key  the apiserver's HTTPS serving certificate (1 year); its SANs are
//                       those of kube-apiserver's: localhost, 127.0.0.1, the listen IP, the
//                       kubernetes Service's names and its ClusterIP (the first address of the
//                       service range)
//   admin.crt / .key    the administrator's client certificate (1 year), CN kubernetes-admin,
//                       O system:masters, as kubeadm's admin.conf; it goes into the kubeconfig
//   store.crt / .key    the store's serving certificate (1 year): localhost, 127.0.0.1; the
//                       store requires client certificates of the CA (mutual TLS)
//   apiserver-etcd-client.crt / .key
//                       the apiserver's client certificate to the store (1 year), CN
//                       kube-apiserver-etcd-client as kubeadm's; one of the two identities
//                       the store lets in (--allowed-client)
//   store-admin.crt / .key
//                       the other: an administrator's, for etcdctl (CN k8ts-store-admin,
//                       O system:masters); also what `k8ts up` and `status` check the store's
//                       health with
//   nats/store.nk, nats/apiserver.nk
//                       the NKey seeds the store and the apiserver authenticate to NATS with
//                       (natsusers.ts); nats.conf holds only their public keys
//
// Every `up` checks the certificates: one that is missing, not signed by the CA, about to
// expire (30 days) or, for the serving certificate, with other SANs than the cluster needs
// now, is issued again; the others are kept.
//
// Node tokens are minted by @k8ts/kit's issueNodeToken, the code the apiserver issues them
// with (one token format: packages/kit/src/jwt.ts and tokens.ts): a compact JWS, header
// {alg: ES256, kid: base64url(SHA-256(SPKI DER)), typ: JWT}, claims iss/aud "k8ts",
// sub "system:node:<node>", k8ts: {node: {name}}.
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { TokenIssuer, certificateInfo, createCA, generateKeyPairPem, isIssuedBy, issueCertificate, issueNodeToken as issueNodeTokenWith } from '@k8ts/kit';
import type { CertificateAndKey, CertificateUsage } from '@k8ts/kit';
import { CliError } from '../errors';

export interface Credentials {
  admin: string;
  scheduler: string;
  controllerManager: string;
  proxy: string;
  /**
   * The kubelet of simulated nodes (--sim-nodes): it writes many Nodes, which no node token
   * allows, so it is the static user system:k8ts-sim-kubelet, in no group: the apiserver's
   * default policy grants that user a kubelet's rules over every node (ClusterRole
   * system:k8ts:sim-kubelet), nothing more.
   */
  simKubelet?: string;
  /** Node name -> node token (JWT). */
  nodes: Record<string, string>;
}

/** The user of the simulated nodes' kubelet (the apiserver's USER_SIM_KUBELET, bound by its default policy). */
export const SIM_KUBELET_USER = 'system:k8ts-sim-kubelet';

/** A random bearer token: 32 bytes, base64url. */
export function generateToken(): string {
  return crypto.randomBytes(32).toString('base64url');
}

/** A node token for the kubelet of `nodeName`, without expiry, signed with the PEM private key. */
export function issueNodeToken(privateKeyPem: string, nodeName: string, now = Date.now()): string {
  return issueNodeTokenWith(new TokenIssuer({ key: privateKeyPem, now: () => now }), { nodeName });
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
  caCert: string;
  caKey: string;
  apiserverCert: string;
  apiserverKey: string;
  adminCert: string;
  adminKey: string;
  storeCert: string;
  storeKey: string;
  apiserverEtcdClientCert: string;
  apiserverEtcdClientKey: string;
  storeAdminCert: string;
  storeAdminKey: string;
  /** The NKey seeds of the NATS users (natsusers.ts). */
  natsDir: string;
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
    caCert: path.join(dir, 'ca.crt'),
    caKey: path.join(dir, 'ca.key'),
    apiserverCert: path.join(dir, 'apiserver.crt'),
    apiserverKey: path.join(dir, 'apiserver.key'),
    adminCert: path.join(dir, 'admin.crt'),
    adminKey: path.join(dir, 'admin.key'),
    storeCert: path.join(dir, 'store.crt'),
    storeKey: path.join(dir, 'store.key'),
    apiserverEtcdClientCert: path.join(dir, 'apiserver-etcd-client.crt'),
    apiserverEtcdClientKey: path.join(dir, 'apiserver-etcd-client.key'),
    storeAdminCert: path.join(dir, 'store-admin.crt'),
    storeAdminKey: path.join(dir, 'store-admin.key'),
    natsDir: path.join(dir, 'nats'),
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
    const { privateKeyPem, publicKeyPem } = generateKeyPairPem('ES256');
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
  // Only while simulated nodes are in use; its rights are the apiserver's bootstrap policy's.
  if (opts.simKubelet) lines.push(tokenFileLine(creds.simKubelet as string, SIM_KUBELET_USER, SIM_KUBELET_USER));
  writeSecret(p.tokenFile, `${lines.join('\n')}\n`);
  writeSecret(path.join(p.tokensDir, 'scheduler.token'), creds.scheduler);
  writeSecret(path.join(p.tokensDir, 'controller-manager.token'), creds.controllerManager);
  writeSecret(path.join(p.tokensDir, 'proxy.token'), creds.proxy);
  writeSecret(path.join(p.tokensDir, 'admin.token'), creds.admin);
  writeSecret(path.join(p.tokensDir, 'kubelet-sim.token'), creds.simKubelet as string);
  for (const [n, t] of Object.entries(creds.nodes)) writeSecret(path.join(p.tokensDir, `kubelet-${n}.token`), t);
  return creds;
}

// ---- certificates ---------------------------------------------------------------------

export const CA_COMMON_NAME = 'k8ts-ca';
export const CA_DAYS = 3650;
export const LEAF_DAYS = 365;
/** A certificate with less than this left is issued again. */
export const RENEW_BEFORE_DAYS = 30;
/** The administrator's client certificate, as kubeadm's admin.conf: any system:masters member may do anything. */
export const ADMIN_USER = 'kubernetes-admin';
export const ADMIN_GROUP = 'system:masters';
export const APISERVER_COMMON_NAME = 'kube-apiserver';
/** The store's serving certificate. */
export const STORE_COMMON_NAME = 'k8ts-store';
/** The apiserver's client certificate to the store: kubeadm's apiserver-etcd-client. */
export const APISERVER_ETCD_CLIENT_USER = 'kube-apiserver-etcd-client';
/** An administrator's client certificate to the store (etcdctl). */
export const STORE_ADMIN_USER = 'k8ts-store-admin';
/** The store's --allowed-client in a `k8ts up` cluster: these two certificates and no other. */
export const STORE_ALLOWED_CLIENTS = [`CN=${APISERVER_ETCD_CLIENT_USER}`, `CN=${STORE_ADMIN_USER}`];
/** The store listens on loopback: its serving certificate names it so. */
export const STORE_SANS: SubjectAltNames = { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] };

/** The names of the `kubernetes` Service in the default namespace (kube-apiserver's serving certificate has them all). */
export const KUBERNETES_SERVICE_NAMES = ['kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local'];

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * The first address of an IPv4 service range: the ClusterIP of the `kubernetes` Service
 * (Kubernetes reserves it for the API's own Service). The range need not be written with its
 * network address: 127.96.3.4/16 is 127.96.0.0/16.
 */
export function firstServiceIP(serviceCidr: string): string {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(serviceCidr);
  const octets = m ? m.slice(1, 5).map(Number) : [];
  const bits = m ? Number(m[5]) : NaN;
  if (!m || octets.some((o) => o > 255) || !(bits >= 1 && bits <= 30)) {
    throw new CliError(`invalid --service-cidr "${serviceCidr}": must be an IPv4 CIDR with a prefix of 1 to 30 bits, e.g. 127.96.0.0/16`);
  }
  const ip = ((octets[0] << 24) | (octets[1] << 16) | (octets[2] << 8) | octets[3]) >>> 0;
  const mask = (0xffffffff << (32 - bits)) >>> 0;
  const first = ((ip & mask) >>> 0) + 1;
  return [first >>> 24, (first >>> 16) & 255, (first >>> 8) & 255, first & 255].join('.');
}

export interface SubjectAltNames {
  dnsNames: string[];
  ipAddresses: string[];
}

/** The serving certificate's SANs for an apiserver listening on `listenIP` with this service range. */
export function apiserverSans(listenIP: string, serviceCidr: string): SubjectAltNames {
  return {
    dnsNames: ['localhost', ...KUBERNETES_SERVICE_NAMES],
    ipAddresses: [...new Set(['127.0.0.1', listenIP, firstServiceIP(serviceCidr)])],
  };
}

/** What a leaf certificate must be; anything else and it is issued again. */
interface LeafSpec {
  /** What it is called in messages. */
  what: string;
  certFile: string;
  keyFile: string;
  commonName: string;
  organizations: string[];
  usages: CertificateUsage[];
  sans?: SubjectAltNames;
}

const sameSet = (a: string[], b: string[]) => a.length === b.length && [...a].sort().join('\n') === [...b].sort().join('\n');

function readIfExists(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** Why a certificate must be issued again, or undefined when it can stay. */
function renewalReason(certPem: string | undefined, keyPresent: boolean, caCertPem: string, spec: LeafSpec, now: Date): string | undefined {
  if (!certPem || !keyPresent) return 'missing';
  if (!isIssuedBy(certPem, caCertPem)) return 'not signed by the cluster CA';
  const info = certificateInfo(certPem);
  if (info.notAfter.getTime() - now.getTime() < RENEW_BEFORE_DAYS * DAY_MS) return `expires ${info.notAfter.toISOString()}`;
  if (info.commonName !== spec.commonName || !sameSet(info.organizations, spec.organizations)) return 'other subject';
  if (!sameSet(info.usages, spec.usages)) return 'other usages';
  if (spec.sans && !(sameSet(info.dnsNames, spec.sans.dnsNames) && sameSet(info.ipAddresses, spec.sans.ipAddresses))) return 'other SANs';
  return undefined;
}

function writePair(certFile: string, keyFile: string, pair: CertificateAndKey): void {
  writeSecret(keyFile, pair.keyPem);
  fs.writeFileSync(certFile, pair.certPem, { mode: 0o644 });
}

/** The CA, created when missing or about to expire (then every certificate it signed is issued again). */
async function ensureCA(p: PkiPaths, now: Date, made: string[]): Promise<CertificateAndKey> {
  const certPem = readIfExists(p.caCert);
  const keyPem = readIfExists(p.caKey);
  if (certPem && keyPem && certificateInfo(certPem).notAfter.getTime() - now.getTime() >= RENEW_BEFORE_DAYS * DAY_MS) {
    return { certPem, keyPem };
  }
  const ca = await createCA({ commonName: CA_COMMON_NAME, days: CA_DAYS, now });
  writePair(p.caCert, p.caKey, ca);
  made.push(`ca (${certPem && keyPem ? 'expiring' : 'missing'})`);
  return ca;
}

async function ensureLeaf(ca: CertificateAndKey, spec: LeafSpec, now: Date, made: string[]): Promise<void> {
  const reason = renewalReason(readIfExists(spec.certFile), fs.existsSync(spec.keyFile), ca.certPem, spec, now);
  if (!reason) return;
  const pair = await issueCertificate({
    ca,
    commonName: spec.commonName,
    organizations: spec.organizations,
    dnsNames: spec.sans?.dnsNames,
    ipAddresses: spec.sans?.ipAddresses,
    usages: spec.usages,
    days: LEAF_DAYS,
    now,
  });
  writePair(spec.certFile, spec.keyFile, pair);
  made.push(`${spec.what} (${reason})`);
}

export interface CertificatesResult {
  paths: PkiPaths;
  /** What was (re)issued and why, e.g. "apiserver (other SANs)"; empty when everything was kept. */
  issued: string[];
}

/**
 * Makes sure the cluster CA, the apiserver's serving certificate (with `sans`), the
 * administrator's client certificate, and the store's serving and client certificates exist
 * and are current, issuing only what is missing or no longer right. Running it again with the
 * same SANs changes nothing.
 */
export async function ensureCertificates(dataDir: string, sans: SubjectAltNames, now = new Date()): Promise<CertificatesResult> {
  const p = pkiPaths(dataDir);
  fs.mkdirSync(p.dir, { recursive: true, mode: 0o700 });
  fs.chmodSync(p.dir, 0o700);
  const issued: string[] = [];
  const ca = await ensureCA(p, now, issued);
  await ensureLeaf(
    ca,
    { what: 'apiserver', certFile: p.apiserverCert, keyFile: p.apiserverKey, commonName: APISERVER_COMMON_NAME, organizations: [], usages: ['server'], sans },
    now,
    issued,
  );
  await ensureLeaf(
    ca,
    { what: 'admin', certFile: p.adminCert, keyFile: p.adminKey, commonName: ADMIN_USER, organizations: [ADMIN_GROUP], usages: ['client'] },
    now,
    issued,
  );
  await ensureStoreCertificates(p, ca, now, issued);
  return { paths: p, issued };
}

/** The store's serving certificate and the two client certificates it lets in. */
async function ensureStoreCertificates(p: PkiPaths, ca: CertificateAndKey, now: Date, issued: string[]): Promise<void> {
  const leaves: LeafSpec[] = [
    { what: 'store', certFile: p.storeCert, keyFile: p.storeKey, commonName: STORE_COMMON_NAME, organizations: [], usages: ['server'], sans: STORE_SANS },
    {
      what: 'apiserver-etcd-client',
      certFile: p.apiserverEtcdClientCert,
      keyFile: p.apiserverEtcdClientKey,
      commonName: APISERVER_ETCD_CLIENT_USER,
      organizations: [],
      usages: ['client'],
    },
    { what: 'store-admin', certFile: p.storeAdminCert, keyFile: p.storeAdminKey, commonName: STORE_ADMIN_USER, organizations: [ADMIN_GROUP], usages: ['client'] },
  ];
  for (const leaf of leaves) await ensureLeaf(ca, leaf, now, issued);
}

// ---- the kubelet API and the proxies' admin API ----------------------------------------
//
//   apiserver-kubelet-client.crt / .key
//                       the apiserver's client certificate to kubelets (1 year), CN
//                       kube-apiserver-kubelet-client as kubeadm's; the apiserver's default
//                       policy binds that user to system:kubelet-api-admin
//   nodes/kubelet-<node>.crt / .key, nodes/proxy-<node>.crt / .key
//                       the serving certificates of each node's kubelet API and proxy admin
//                       API (1 year), for the node's IP and name; kubelets and proxies verify
//                       their callers' client certificates against ca.crt (--client-ca-file)

/** The apiserver's client certificate to kubelets: kubeadm's apiserver-kubelet-client. */
export const APISERVER_KUBELET_CLIENT_USER = 'kube-apiserver-kubelet-client';

/** A server on a node whose callers must verify it: a kubelet or a proxy. */
export interface NodeServer {
  component: 'kubelet' | 'proxy';
  /** The node's name ('sim' for the simulated nodes' kubelet). */
  node: string;
  /** The address it serves on: the node's IP. */
  ip: string;
}

/** The files of a node server's serving certificate. */
export function nodeServerPaths(dataDir: string, s: Pick<NodeServer, 'component' | 'node'>): { cert: string; key: string } {
  const dir = path.join(pkiPaths(dataDir).dir, 'nodes');
  return { cert: path.join(dir, `${s.component}-${s.node}.crt`), key: path.join(dir, `${s.component}-${s.node}.key`) };
}

/** The files of the apiserver's client certificate to kubelets. */
export function apiserverKubeletClientPaths(dataDir: string): { cert: string; key: string } {
  const dir = pkiPaths(dataDir).dir;
  return { cert: path.join(dir, 'apiserver-kubelet-client.crt'), key: path.join(dir, 'apiserver-kubelet-client.key') };
}

/** The serving certificate a node server must have: CN names it, SANs its IP and its node. */
function nodeServerSpec(dataDir: string, s: NodeServer): LeafSpec {
  const files = nodeServerPaths(dataDir, s);
  return {
    what: `${s.component}-${s.node}`,
    certFile: files.cert,
    keyFile: files.key,
    // as a kubelet's serving certificate (kubelet-serving CSRs): the node's identity
    commonName: s.component === 'kubelet' ? `system:node:${s.node}` : `kube-proxy:${s.node}`,
    organizations: s.component === 'kubelet' ? ['system:nodes'] : [],
    usages: ['server'],
    sans: { dnsNames: [s.node, 'localhost'], ipAddresses: [...new Set([s.ip, '127.0.0.1'])] },
  };
}

/**
 * Makes sure the apiserver's kubelet client certificate and the serving certificate of every
 * node server exist and are current (the cluster CA of ensureCertificates signs them), issuing
 * only what is missing or no longer right (a node whose IP changed gets a new one). Returns
 * what was issued and why.
 */
export async function ensureNodeCertificates(dataDir: string, servers: NodeServer[], now = new Date()): Promise<string[]> {
  const p = pkiPaths(dataDir);
  fs.mkdirSync(path.join(p.dir, 'nodes'), { recursive: true, mode: 0o700 });
  const issued: string[] = [];
  const ca = await ensureCA(p, now, issued);
  const client = apiserverKubeletClientPaths(dataDir);
  await ensureLeaf(
    ca,
    { what: 'apiserver-kubelet-client', certFile: client.cert, keyFile: client.key, commonName: APISERVER_KUBELET_CLIENT_USER, organizations: [], usages: ['client'] },
    now,
    issued,
  );
  for (const s of servers) await ensureLeaf(ca, nodeServerSpec(dataDir, s), now, issued);
  return issued;
}
