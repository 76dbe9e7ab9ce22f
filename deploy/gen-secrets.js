#!/usr/bin/env node
// Writes the keys and tokens of a k8ts cluster deployed on Kubernetes, and a kustomization that
// turns them into Secrets, into deploy/k8s/secrets/ (gitignored; the overlays include it).
// Run through scripts/gen-secrets.sh; see deploy/README.md ("Secrets").
//
//   node deploy/gen-secrets.js [--out DIR] [--nodes n1,n2,...] [--rotate] [--namespace NS] [--issuer ISS]
//
// It uses the apiserver's own helpers (services/apiserver/dist/auth: generateKeyPairPem,
// generateToken, formatTokenFileLine, TokenIssuer, issueNodeToken), so `make build` comes first.
//
//   sa.key, sa.pub        the service-account signing key (ES256): verifies service-account and
//                         node tokens, signs the tokens the apiserver issues
//   admin.token           the administrator's token (system:masters), for the k8ts CLI
//   scheduler.token, controller-manager.token, proxy.token
//                         the components' tokens (users system:kube-scheduler, ...)
//   tokens.csv            the apiserver's --token-auth-file: the four static tokens above
//   node-tokens/<n>.token one node token (a JWT for system:node:<n>) per node
//   kustomization.yaml    secretGenerator: apiserver-credentials, scheduler-token,
//                         controller-manager-token, proxy-token, node-tokens
//
// What exists is kept: a second run only adds what is missing (the tokens of new nodes, say) and
// re-issues node tokens that the current key does not verify. --rotate makes everything anew.
'use strict';
const fs = require('fs');
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
    '',
  ].join('\n');
}

function parseArgs(argv) {
  const opts = { out: path.join(root, 'deploy', 'k8s', 'secrets'), nodes: undefined, rotate: false, namespace: 'k8ts-system', issuer: 'k8ts' };
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

  writeSecret(path.join(out, 'kustomization.yaml'), kustomization(opts.namespace, nodes));
  fs.chmodSync(path.join(out, 'kustomization.yaml'), 0o644);

  const rel = path.relative(process.cwd(), out).startsWith('..') ? out : path.relative(process.cwd(), out) || '.';
  process.stdout.write(
    `gen-secrets: ${rel}: ${made.length ? `made ${made.join(', ')}` : 'everything was there already'}; nodes: ${nodes.join(', ')}\n` +
      `gen-secrets: the administrator's token is in ${path.join(rel, 'admin.token')}; apply an overlay to use them: kubectl apply -k deploy/k8s/overlays/dev\n`,
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
    '  # the apiserver: --service-account-key-file and --token-auth-file',
    '  - name: apiserver-credentials',
    '    files:',
    '      - sa.key',
    '      - tokens.csv',
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
