#!/usr/bin/env node
// Writes the keys and tokens of a k8ts cluster deployed on Kubernetes, and a kustomization that
// turns them into Secrets, into deploy/k8s/secrets/ (gitignored; the overlays include it).
// Run through scripts/gen-secrets.sh; see deploy/README.md ("Secrets").
//
//   node deploy/gen-secrets.js [--out DIR] [--nodes n1,n2,...] [--rotate] [--namespace NS] [--issuer ISS]
//                              [--service-cidr CIDR] [--kubeconfig-server URL]
//
// It uses the apiserver's own helpers (services/apiserver/dist/auth: generateKeyPairPem,
// generateToken, formatTokenFileLine, TokenIssuer, issueNodeToken), so `make build` comes first,
// and openssl for the certificates (ECDSA P-256 keys, as `k8ts up` makes them).
//
//   sa.key, sa.pub        the service-account signing key (ES256): verifies service-account and
//                         node tokens, signs the tokens the apiserver issues
//   admin.token           the administrator's token (system:masters), for the k8ts CLI
//   scheduler.token, controller-manager.token, proxy.token
//                         the components' tokens (users system:kube-scheduler, ...)
//   tokens.csv            the apiserver's --token-auth-file: the four static tokens above
//   node-tokens/<n>.token one node token (a JWT for system:node:<n>) per node
//   ca.crt, ca.key        the cluster CA (10 years): the apiserver's --client-ca-file
//   apiserver.crt/.key    the HTTPS serving certificate (1 year), SANs: localhost, 127.0.0.1
//                         (a port-forward), the Service apiserver.<ns>[.svc[.cluster.local]],
//                         the kubernetes Service's names and its ClusterIP (the first address
//                         of --service-cidr, the apiserver's --service-cluster-ip-range)
//   admin.crt, admin.key  the administrator's client certificate (1 year): CN kubernetes-admin,
//                         O system:masters, as kubeadm's admin.conf
//   apiserver-kubelet-client.crt/.key
//                         the apiserver's client certificate to kubelets (1 year): CN
//                         kube-apiserver-kubelet-client, as kubeadm's (bound to
//                         system:kubelet-api-admin by the apiserver's default policy)
//   store.crt, store.key  the store's serving certificate (1 year), SANs: the Service
//                         store.<ns>[.svc[.cluster.local]], localhost and 127.0.0.1 (etcdctl
//                         through a port-forward); the store requires client certificates
//   apiserver-etcd-client.crt/.key
//                         the apiserver's client certificate to the store: CN
//                         kube-apiserver-etcd-client, as kubeadm's
//   store-admin.crt/.key  an administrator's client certificate to the store, for etcdctl:
//                         CN k8ts-store-admin, O system:masters (the only other identity the
//                         store lets in)
//   nats-store.nk, nats-apiserver.nk
//                         the NKey seeds the store and the apiserver authenticate to NATS with
//   nats-auth.conf        nats-server's authorization block (included by its nats.conf): the
//                         two users' public keys and subjects (the store writes its stream,
//                         the apiserver reads it); no anonymous clients
//   kubeconfig            for kubectl: server --kubeconfig-server (a port-forward of the
//                         Service's https port), the CA and the admin certificate inline
//   kustomization.yaml    secretGenerator: apiserver-credentials, scheduler-token,
//                         controller-manager-token, proxy-token, node-tokens, cluster-ca (ca.crt
//                         only: kubelets and proxies verify client certificates and the
//                         apiserver's HTTPS API with it), store-credentials, nats-auth
//
// What exists is kept: a second run only adds what is missing (the tokens of new nodes, say),
// re-issues node tokens that the current key does not verify, and re-issues certificates that
// the CA did not sign, that expire within 30 days, or (the serving one) whose SANs are not
// those wanted now. --rotate makes everything anew.
'use strict';
const { execFileSync } = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');

const root = path.resolve(__dirname, '..');
const NODE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** The node names of the kind cluster deploy/kind/cluster.yaml describes. */
const KIND_NODES = ['k8ts-control-plane', 'k8ts-worker', 'k8ts-worker2'];

function fail(message) {
  process.stderr.write(`gen-secrets: ${message}\n`);
  process.exit(2);
}

function usage() {
  return [
    'Usage: node deploy/gen-secrets.js [flags]  (or scripts/gen-secrets.sh [flags])',
    '',
    '  --out DIR        where to write (default deploy/k8s/secrets, which the overlays include)',
    '  --nodes a,b,c    the nodes that get a node token (default: $K8TS_NODES, else the nodes',
    '                   that already have one, else the kind nodes: ' + KIND_NODES.join(', ') + ')',
    '  --rotate         new signing key and new tokens for everything',
    '  --namespace NS   the namespace of the Secrets (default k8ts-system)',
    '  --issuer ISS     the "iss" of node tokens; must match the apiserver\'s --service-account-issuer (default k8ts)',
    '  --service-cidr CIDR  the apiserver\'s --service-cluster-ip-range: its first address is in the',
    '                   serving certificate (default 127.96.0.0/16, the apiserver\'s default)',
    '  --kubeconfig-server URL  the server of the kubeconfig written here (default https://127.0.0.1:16444,',
    '                   for: kubectl -n k8ts-system port-forward svc/apiserver 16444:443)',
    '',
  ].join('\n');
}

function parseArgs(argv) {
  const opts = {
    out: path.join(root, 'deploy', 'k8s', 'secrets'),
    nodes: undefined,
    rotate: false,
    namespace: 'k8ts-system',
    issuer: 'k8ts',
    serviceCidr: '127.96.0.0/16',
    kubeconfigServer: 'https://127.0.0.1:16444',
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    const value = () => {
      if (eq > 0) return arg.slice(eq + 1);
      if (i + 1 >= argv.length) fail(`${name} needs a value\n\n${usage()}`);
      return argv[++i];
    };
    switch (name) {
      case '--out':
        opts.out = path.resolve(value());
        break;
      case '--nodes':
        opts.nodes = value();
        break;
      case '--rotate':
        opts.rotate = true;
        break;
      case '--namespace':
        opts.namespace = value();
        break;
      case '--issuer':
        opts.issuer = value();
        break;
      case '--service-cidr':
        opts.serviceCidr = value();
        break;
      case '--kubeconfig-server':
        opts.kubeconfigServer = value();
        break;
      case '--help':
      case '-h':
        process.stdout.write(usage());
        process.exit(0);
        break;
      default:
        fail(`unknown argument ${JSON.stringify(arg)}\n\n${usage()}`);
    }
  }
  return opts;
}

/** The kit's NATS helpers (packages/kit/dist/natsauth.js): NKeys and the authorization block. */
function loadNatsAuth() {
  const dist = path.join(root, 'packages', 'kit', 'dist', 'natsauth.js');
  if (!fs.existsSync(dist)) fail(`${path.relative(process.cwd(), dist) || dist} is missing: run \`make build\` first (this script uses the kit's NATS key helpers)`);
  return require(dist);
}

function loadAuth() {
  const dist = path.join(root, 'services', 'apiserver', 'dist', 'auth', 'index.js');
  if (!fs.existsSync(dist)) fail(`${path.relative(process.cwd(), dist) || dist} is missing: run \`make build\` first (this script uses the apiserver's key and token helpers)`);
  return require(dist);
}

function read(file) {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** Writes a secret file: 0600, via a temporary file so that a reader never sees half of it. */
function writeSecret(file, text) {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, text.endsWith('\n') ? text : `${text}\n`, { mode: 0o600 });
  fs.renameSync(tmp, file);
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  const auth = loadAuth();
  const out = opts.out;
  fs.mkdirSync(out, { recursive: true, mode: 0o700 });
  const nodeDir = path.join(out, 'node-tokens');
  const existingNodes = fs.existsSync(nodeDir)
    ? fs
        .readdirSync(nodeDir)
        .filter((f) => f.endsWith('.token'))
        .map((f) => f.slice(0, -'.token'.length))
        .sort()
    : [];
  const nodeList = opts.nodes ?? process.env.K8TS_NODES ?? '';
  const asked = nodeList
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean);
  for (const n of asked) {
    if (!NODE_NAME.test(n) || n.length > 253) fail(`invalid node name ${JSON.stringify(n)}: must be a lower-case DNS subdomain`);
  }
  // Asked-for nodes are added to those that already have a token (a token is removed by
  // deleting its file); with none at all, the kind cluster's nodes.
  const nodes = [...new Set([...existingNodes, ...asked])].sort();
  if (nodes.length === 0) nodes.push(...KIND_NODES);

  const made = [];
  const keyFile = path.join(out, 'sa.key');
  let keyPem = opts.rotate ? undefined : read(keyFile);
  if (!keyPem) {
    const { privateKeyPem, publicKeyPem } = auth.generateKeyPairPem('ES256');
    writeSecret(keyFile, privateKeyPem);
    writeSecret(path.join(out, 'sa.pub'), publicKeyPem);
    keyPem = privateKeyPem.trim();
    made.push('sa.key');
  }

  const tokens = {};
  for (const name of ['admin', 'scheduler', 'controller-manager', 'proxy']) {
    const file = path.join(out, `${name}.token`);
    let token = opts.rotate ? undefined : read(file);
    if (!token) {
      token = auth.generateToken();
      writeSecret(file, token);
      made.push(`${name}.token`);
    }
    tokens[name] = token;
  }
  const lines = [
    '# Written by scripts/gen-secrets.sh: the static tokens of the administrator and the components',
    '# (the apiserver\'s --token-auth-file; token,user,uid,"groups").',
    auth.formatTokenFileLine(tokens.admin, 'admin', 'admin', ['system:masters']),
    auth.formatTokenFileLine(tokens.scheduler, 'system:kube-scheduler', 'system:kube-scheduler'),
    auth.formatTokenFileLine(tokens['controller-manager'], 'system:kube-controller-manager', 'system:kube-controller-manager'),
    auth.formatTokenFileLine(tokens.proxy, 'system:kube-proxy', 'system:kube-proxy'),
  ];
  writeSecret(path.join(out, 'tokens.csv'), `${lines.join('\n')}\n`);

  const issuer = new auth.TokenIssuer({ key: keyPem, issuer: opts.issuer });
  const verifier = new auth.TokenVerifier({ keys: keyPem, issuers: [opts.issuer], audiences: ['k8ts'] });
  for (const n of nodes) {
    const file = path.join(nodeDir, `${n}.token`);
    const old = opts.rotate ? undefined : read(file);
    if (old && verifies(verifier, old, n)) continue;
    writeSecret(file, auth.issueNodeToken(issuer, { nodeName: n }));
    made.push(`node-tokens/${n}.token`);
  }

  const pki = ensureCertificates(out, opts, made);
  writeSecret(path.join(out, 'kubeconfig'), kubeconfig(opts.kubeconfigServer, pki));
  ensureNatsUsers(out, opts, made);

  writeSecret(path.join(out, 'kustomization.yaml'), kustomization(opts.namespace, nodes));
  fs.chmodSync(path.join(out, 'kustomization.yaml'), 0o644);

  const rel = path.relative(process.cwd(), out).startsWith('..') ? out : path.relative(process.cwd(), out) || '.';
  process.stdout.write(
    `gen-secrets: ${rel}: ${made.length ? `made ${made.join(', ')}` : 'everything was there already'}; nodes: ${nodes.join(', ')}\n` +
      `gen-secrets: the administrator's token is in ${path.join(rel, 'admin.token')}, a kubeconfig (HTTPS, ${opts.kubeconfigServer}) in ${path.join(rel, 'kubeconfig')}; apply an overlay to use them: kubectl apply -k deploy/k8s/overlays/dev\n`,
  );
}

/** Whether a node token is ours: signed by the current key, for this node. */
function verifies(verifier, token, node) {
  try {
    const jwt = verifier.decodeIfOurs(token);
    return jwt !== null && verifier.verify(token, jwt).sub === `system:node:${node}`;
  } catch {
    return false;
  }
}

// ---- certificates (openssl) ------------------------------------------------------------

const CA_DAYS = 3650;
const LEAF_DAYS = 365;
const RENEW_BEFORE_MS = 30 * 24 * 60 * 60 * 1000;

/** Runs openssl; a failure ends the script naming the command and openssl's message. */
function openssl(args, input) {
  try {
    return execFileSync('openssl', args, { input, stdio: ['pipe', 'pipe', 'pipe'], encoding: 'utf8' });
  } catch (e) {
    if (e.code === 'ENOENT') fail('openssl is not installed: it makes the cluster\'s certificates (apt-get install openssl)');
    fail(`openssl ${args[0]} failed: ${(e.stderr || e.message).trim()}`);
  }
}

/** A new ECDSA P-256 private key, PKCS#8 PEM (ecparam + pkcs8: in OpenSSL 1.1, 3 and LibreSSL). */
function newKey() {
  return openssl(['pkcs8', '-topk8', '-nocrypt'], openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout']));
}

/** The first address of an IPv4 range: the kubernetes Service's ClusterIP. */
function firstServiceIP(cidr) {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  const octets = m ? m.slice(1, 5).map(Number) : [];
  const bits = m ? Number(m[5]) : NaN;
  if (!m || octets.some((o) => o > 255) || !(bits >= 1 && bits <= 30)) fail(`invalid --service-cidr ${JSON.stringify(cidr)}: must be an IPv4 CIDR such as 127.96.0.0/16`);
  const ip = ((octets[0] << 24) | (octets[1] << 16) | (octets[2] << 8) | octets[3]) >>> 0;
  const first = ((ip & ((0xffffffff << (32 - bits)) >>> 0)) >>> 0) + 1;
  return [first >>> 24, (first >>> 16) & 255, (first >>> 8) & 255, first & 255].join('.');
}

/** The serving certificate's SANs, as X509Certificate.subjectAltName lists them. */
function apiserverSans(namespace, serviceCidr) {
  const svc = ['apiserver', `apiserver.${namespace}`, `apiserver.${namespace}.svc`, `apiserver.${namespace}.svc.cluster.local`];
  const kubernetes = ['kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local'];
  return [...['localhost', ...svc, ...kubernetes].map((d) => `DNS:${d}`), 'IP Address:127.0.0.1', `IP Address:${firstServiceIP(serviceCidr)}`];
}

/** The store's serving certificate's SANs: its Service (the apiserver dials store:2379) and loopback (a port-forward). */
function storeSans(namespace) {
  const svc = ['store', `store.${namespace}`, `store.${namespace}.svc`, `store.${namespace}.svc.cluster.local`];
  return [...['localhost', ...svc].map((d) => `DNS:${d}`), 'IP Address:127.0.0.1'];
}

/** An openssl configuration: the request's (empty) name section and one extension section. */
function opensslConfig(extensions) {
  return ['[req]', 'distinguished_name = dn', 'prompt = no', '[dn]', '[ext]', ...extensions, ''].join('\n');
}

/** A random positive 128-bit serial number for -set_serial. */
function serial() {
  const b = crypto.randomBytes(16);
  b[0] = (b[0] & 0x7f) | 0x40;
  return `0x${b.toString('hex')}`;
}

/** Runs fn(tmpDir) with a private temporary directory, removed afterwards. */
function withTmp(fn) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k8ts-gen-secrets-'));
  try {
    return fn(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function makeCA() {
  const keyPem = newKey();
  const certPem = withTmp((tmp) => {
    const key = path.join(tmp, 'ca.key');
    const conf = path.join(tmp, 'openssl.cnf');
    fs.writeFileSync(key, keyPem, { mode: 0o600 });
    fs.writeFileSync(
      conf,
      opensslConfig(['basicConstraints = critical, CA:TRUE', 'keyUsage = critical, digitalSignature, keyCertSign, cRLSign', 'subjectKeyIdentifier = hash']),
    );
    return openssl(['req', '-x509', '-new', '-key', key, '-sha256', '-days', String(CA_DAYS), '-subj', '/CN=k8ts-ca', '-set_serial', serial(), '-config', conf, '-extensions', 'ext']);
  });
  return { certPem, keyPem };
}

/** A certificate signed by the CA: subject `subject` (/O=.../CN=...), usage serverAuth or clientAuth, SANs in subjectAltName form. */
function issue(ca, subject, usage, sans) {
  const keyPem = newKey();
  const certPem = withTmp((tmp) => {
    const f = (name, text, mode = 0o600) => {
      const file = path.join(tmp, name);
      fs.writeFileSync(file, text.endsWith('\n') ? text : `${text}\n`, { mode });
      return file;
    };
    const key = f('leaf.key', keyPem);
    const ext = ['basicConstraints = critical, CA:FALSE', 'keyUsage = critical, digitalSignature', `extendedKeyUsage = ${usage}`, 'subjectKeyIdentifier = hash', 'authorityKeyIdentifier = keyid'];
    if (sans.length > 0) ext.push(`subjectAltName = ${sans.map((s) => s.replace(/^IP Address:/, 'IP:')).join(', ')}`);
    const conf = f('openssl.cnf', opensslConfig(ext), 0o644);
    const csr = f('leaf.csr', openssl(['req', '-new', '-key', key, '-subj', subject, '-config', conf]));
    const args = ['x509', '-req', '-in', csr, '-CA', f('ca.crt', ca.certPem), '-CAkey', f('ca.key', ca.keyPem), '-set_serial', serial()];
    return openssl([...args, '-days', String(LEAF_DAYS), '-sha256', '-extfile', conf, '-extensions', 'ext']);
  });
  return { certPem, keyPem };
}

/** Why an existing certificate must be issued again, or undefined when it is right. */
function reissueReason(certPem, keyPem, ca, subject, sans) {
  if (!certPem || !keyPem) return 'missing';
  let cert;
  try {
    cert = new crypto.X509Certificate(certPem);
  } catch {
    return 'unreadable';
  }
  const caCert = new crypto.X509Certificate(ca.certPem);
  if (!cert.checkIssued(caCert) || !cert.verify(caCert.publicKey)) return 'not signed by the CA';
  if (Date.parse(cert.validTo) - Date.now() < RENEW_BEFORE_MS) return 'expiring';
  const wantSubject = subject.split('/').filter(Boolean).join('\n');
  if (cert.subject !== wantSubject) return 'other subject';
  const have = (cert.subjectAltName ?? '').split(', ').filter(Boolean).sort().join(',');
  if (have !== [...sans].sort().join(',')) return 'other SANs';
  return undefined;
}

/**
 * The CA, the apiserver's serving certificate, the admin's client certificate, the
 * apiserver's client certificate to kubelets, and the store's serving certificate with its
 * two client certificates (the apiserver's, an administrator's) in `out`:
 * kept when right, made when missing or wrong (or all anew with --rotate).
 */
function ensureCertificates(out, opts, made) {
  const file = (name) => path.join(out, name);
  const pair = (name) => ({ certPem: opts.rotate ? undefined : read(file(`${name}.crt`)), keyPem: opts.rotate ? undefined : read(file(`${name}.key`)) });
  const save = (name, p, why) => {
    writeSecret(file(`${name}.key`), p.keyPem);
    writeSecret(file(`${name}.crt`), p.certPem);
    made.push(`${name}.crt (${why})`);
  };
  let ca = pair('ca');
  if (!ca.certPem || !ca.keyPem || Date.parse(new crypto.X509Certificate(ca.certPem).validTo) - Date.now() < RENEW_BEFORE_MS) {
    const why = opts.rotate ? 'rotated' : ca.certPem && ca.keyPem ? 'expiring' : 'missing';
    ca = makeCA();
    save('ca', ca, why);
  }
  const leaves = [
    { name: 'apiserver', subject: '/CN=kube-apiserver', usage: 'serverAuth', sans: apiserverSans(opts.namespace, opts.serviceCidr) },
    { name: 'admin', subject: '/O=system:masters/CN=kubernetes-admin', usage: 'clientAuth', sans: [] },
    { name: 'apiserver-kubelet-client', subject: '/CN=kube-apiserver-kubelet-client', usage: 'clientAuth', sans: [] },
    { name: 'store', subject: '/CN=k8ts-store', usage: 'serverAuth', sans: storeSans(opts.namespace) },
    { name: 'apiserver-etcd-client', subject: '/CN=kube-apiserver-etcd-client', usage: 'clientAuth', sans: [] },
    { name: 'store-admin', subject: '/O=system:masters/CN=k8ts-store-admin', usage: 'clientAuth', sans: [] },
  ];
  const result = { ca };
  for (const leaf of leaves) {
    let p = pair(leaf.name);
    const why = opts.rotate ? 'rotated' : reissueReason(p.certPem, p.keyPem, ca, leaf.subject, leaf.sans);
    if (why) {
      p = issue(ca, leaf.subject, leaf.usage, leaf.sans);
      save(leaf.name, p, why);
    }
    result[leaf.name] = p;
  }
  return result;
}

// ---- NATS users (NKeys) ----------------------------------------------------------------

/** The store's stream (the store's and the apiserver's --stream / --nats-stream default). */
const STORE_STREAM = 'K8TS';

/**
 * The NKey seeds of the store and the apiserver (kept, or made; anew with --rotate) and
 * nats-auth.conf, the authorization block nats-server includes: written on every run from the
 * seeds' public keys.
 */
function ensureNatsUsers(out, opts, made) {
  const nats = loadNatsAuth();
  const publicKey = {};
  for (const user of ['store', 'apiserver']) {
    const file = path.join(out, `nats-${user}.nk`);
    const old = opts.rotate ? undefined : read(file);
    let key;
    try {
      key = old ? nats.natsPublicKey(old) : undefined;
    } catch (e) {
      fail(`${file}: ${e.message}; remove it (or run with --rotate) to make a new NATS key`);
    }
    if (!key) {
      const k = nats.generateNatsUserKey();
      writeSecret(file, k.seed);
      made.push(`nats-${user}.nk`);
      key = k.publicKey;
    }
    publicKey[user] = key;
  }
  const conf = nats.natsAuthorizationConf([
    { name: 'the store: writes and manages its stream and metadata bucket', publicKey: publicKey.store, permissions: nats.storeNatsPermissions({ stream: STORE_STREAM }) },
    { name: 'the apiserver: reads the stream and the bucket', publicKey: publicKey.apiserver, permissions: nats.apiserverNatsPermissions({ stream: STORE_STREAM }) },
  ]);
  writeSecret(path.join(out, 'nats-auth.conf'), `# Written by scripts/gen-secrets.sh: NATS's users (included by nats.conf). Public keys only.\n${conf}`);
}

/** A kubeconfig with everything inline: cluster k8ts, user k8ts-admin, context k8ts (as `k8ts up` writes). */
function kubeconfig(server, pki) {
  const b64 = (pem) => Buffer.from(pem.endsWith('\n') ? pem : `${pem}\n`).toString('base64');
  return [
    '# Written by scripts/gen-secrets.sh: kubectl to the k8ts apiserver\'s HTTPS API as kubernetes-admin',
    '# (system:masters). First: kubectl -n k8ts-system port-forward svc/apiserver 16444:443',
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '  - name: k8ts',
    '    cluster:',
    `      server: ${JSON.stringify(server)}`,
    `      certificate-authority-data: ${b64(pki.ca.certPem)}`,
    'users:',
    '  - name: k8ts-admin',
    '    user:',
    `      client-certificate-data: ${b64(pki.admin.certPem)}`,
    `      client-key-data: ${b64(pki.admin.keyPem)}`,
    'contexts:',
    '  - name: k8ts',
    '    context:',
    '      cluster: k8ts',
    '      user: k8ts-admin',
    'current-context: k8ts',
    '',
  ].join('\n');
}

function kustomization(namespace, nodes) {
  const y = [
    '# Generated by scripts/gen-secrets.sh (deploy/gen-secrets.js): the keys and tokens of this',
    '# k8ts cluster as Secrets. Never committed (see .gitignore); re-run the script instead of',
    '# editing. Each Secret name gets a hash of its content, so a rotation rolls the pods that',
    '# mount it when the overlay is applied again.',
    'apiVersion: kustomize.config.k8s.io/v1beta1',
    'kind: Kustomization',
    `namespace: ${namespace}`,
    'labels:',
    '  - pairs:',
    '      app.kubernetes.io/part-of: k8ts',
    'secretGenerator:',
    '  # the apiserver: --service-account-key-file, --token-auth-file, for HTTPS --client-ca-file,',
    '  # --http-tls-cert, --http-tls-key, to kubelets --kubelet-client-certificate,',
    '  # --kubelet-client-key, to the store --etcd-cafile, --etcd-certfile, --etcd-keyfile,',
    '  # and to NATS --nats-nkey (the CA key stays here)',
    '  - name: apiserver-credentials',
    '    files:',
    '      - sa.key',
    '      - tokens.csv',
    '      - ca.crt',
    '      - apiserver.crt',
    '      - apiserver.key',
    '      - apiserver-kubelet-client.crt',
    '      - apiserver-kubelet-client.key',
    '      - apiserver-etcd-client.crt',
    '      - apiserver-etcd-client.key',
    '      - nats-apiserver.nk',
    '  # the store: --tls-cert, --tls-key, --tls-client-ca (mutual TLS), --nats-nkey',
    '  - name: store-credentials',
    '    files:',
    '      - ca.crt',
    '      - store.crt',
    '      - store.key',
    '      - nats-store.nk',
    '  # NATS: the authorization block its nats.conf includes (public keys only)',
    '  - name: nats-auth',
    '    files:',
    '      - auth.conf=nats-auth.conf',
    '  # kubelets and proxies: --client-ca-file and --apiserver-https-ca (the certificate only)',
    '  - name: cluster-ca',
    '    files:',
    '      - ca.crt',
    '  # each component: --token-file',
    '  - name: scheduler-token',
    '    files:',
    '      - token=scheduler.token',
    '  - name: controller-manager-token',
    '    files:',
    '      - token=controller-manager.token',
    '  - name: proxy-token',
    '    files:',
    '      - token=proxy.token',
    '  # the kubelets: --token-file /etc/k8ts/node-tokens/$(NODE_NAME).token',
    '  - name: node-tokens',
    '    files:',
    ...nodes.map((n) => `      - ${n}.token=node-tokens/${n}.token`),
  ];
  return `${y.join('\n')}\n`;
}

main();
