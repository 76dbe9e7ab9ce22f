// Shared fixtures of the apiserver integration tests: a token file and a signing key, typed
// clients for every kind, and a minimal valid object of every kind.
import * as crypto from 'crypto';
import * as grpc from '@grpc/grpc-js';
import * as api from '@k8ts/api';
import { KINDS, type KindInfo } from '@k8ts/api';
import { tempFile } from './harness';

export const TOKENS = {
  admin: crypto.randomBytes(24).toString('base64url'),
  jane: crypto.randomBytes(24).toString('base64url'),
  node1: crypto.randomBytes(24).toString('base64url'),
  node2: crypto.randomBytes(24).toString('base64url'),
  scheduler: crypto.randomBytes(24).toString('base64url'),
};

/** A token file (Kubernetes' format) and an ES256 service-account key, in temporary files. */
export function authFiles(): { tokenFile: string; keyFile: string } {
  const lines = [
    `${TOKENS.admin},admin,admin-uid,"system:masters"`,
    `${TOKENS.jane},jane,jane-uid`,
    `${TOKENS.node1},system:node:n1,,system:nodes`,
    `${TOKENS.node2},system:node:n2,,system:nodes`,
    `${TOKENS.scheduler},system:kube-scheduler,`,
  ];
  const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    tokenFile: tempFile('tokens.csv', `${lines.join('\n')}\n`),
    keyFile: tempFile('sa.key', privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()),
  };
}

/** The flags giving an apiserver these credentials, with RBAC and Node authorization. */
export function authArgs(files: { tokenFile: string; keyFile: string }): string[] {
  return ['--token-auth-file', files.tokenFile, '--service-account-key-file', files.keyFile, '--authorization-mode', 'RBAC,Node'];
}

export function kind(k: string): KindInfo {
  const info = KINDS.find((x) => x.kind === k);
  if (!info) throw new Error(`no kind ${k}`);
  return info;
}

/** The generated client of a kind's service. */
export function clientFor(k: KindInfo, address: string): grpc.Client {
  const pkg = k.typeName.split('.').slice(1, 3).join('');
  const ns = (api as unknown as Record<string, Record<string, new (a: string, c: grpc.ChannelCredentials) => grpc.Client>>)[pkg];
  return new ns[`${k.kind}ServiceClient`](address, grpc.credentials.createInsecure());
}

/** 'pod', 'replicaSet': the request field and method stem of a kind. */
export function field(k: KindInfo): string {
  return k.kind[0].toLowerCase() + k.kind.slice(1);
}

/** Method names of a kind's service. */
export function methods(k: KindInfo) {
  const plural = k.resource === 'endpoints' ? 'Endpoints' : k.kind.endsWith('s') ? k.kind : `${k.kind}s`;
  return {
    get: `get${k.kind}`,
    list: `list${plural}`,
    watch: `watch${plural}`,
    create: `create${k.kind}`,
    update: `update${k.kind}`,
    updateStatus: `update${k.kind}Status`,
    delete: `delete${k.kind}`,
  };
}

const template = (labels: Record<string, string>) => ({
  metadata: { labels },
  spec: { containers: [{ name: 'app', image: 'k8ts/echo' }] },
});

/** A minimal valid object of every kind, named `name` in namespace `ns` (when namespaced). */
export function sample(k: KindInfo, name: string, ns: string): any {
  const metadata = k.namespaced ? { name, namespace: ns } : { name };
  switch (k.kind) {
    case 'Namespace':
      return { metadata };
    case 'Node':
      return { metadata, status: { addresses: [{ type: 'InternalIP', address: '127.10.0.9' }], capacity: { cpu: { value: '4' }, pods: { value: '110' } } } };
    case 'Pod':
      return { metadata, spec: { containers: [{ name: 'app', image: 'k8ts/echo', ports: [{ containerPort: 8080 }] }] } };
    case 'Service':
      return { metadata, spec: { selector: { app: name }, ports: [{ port: 80, targetPort: { intVal: 8080 } }] } };
    case 'Endpoints':
      return { metadata, subsets: [{ addresses: [{ ip: '127.244.1.5' }], ports: [{ port: 8080 }] }] };
    case 'ServiceAccount':
      return { metadata };
    case 'Secret':
      return { metadata, stringData: { password: 's3cret' } };
    case 'ConfigMap':
      return { metadata, data: { key: 'value' } };
    case 'Event':
      return { metadata, involvedObject: { kind: 'Pod', name: 'web', namespace: ns }, reason: 'Testing', message: 'a test event', type: 'Normal', count: 1 };
    case 'ReplicaSet':
    case 'Deployment':
      return { metadata, spec: { replicas: 2, selector: { matchLabels: { app: name } }, template: template({ app: name }) } };
    case 'Job':
      return { metadata, spec: { completions: 1, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'app', image: 'k8ts/echo' }] } } } };
    case 'Lease':
      return { metadata, spec: { holderIdentity: 'me', leaseDurationSeconds: 15 } };
    case 'Role':
    case 'ClusterRole':
      return { metadata, rules: [{ verbs: ['get', 'list'], apiGroups: [''], resources: ['pods'] }] };
    case 'RoleBinding':
      return { metadata, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' }, subjects: [{ kind: 'User', name: 'jane' }] };
    case 'ClusterRoleBinding':
      return { metadata, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' }, subjects: [{ kind: 'User', name: 'jane' }] };
    default:
      throw new Error(`no sample for ${k.kind}`);
  }
}
