// The kubeconfig of a local cluster (<data-dir>/kubeconfig): what kubectl and every Kubernetes
// client library read to reach the apiserver's HTTPS API. It holds everything inline, as
// kind's and kubeadm's do, so it can be copied anywhere: one cluster `k8ts` (the server URL and
// the CA as certificate-authority-data), one user `k8ts-admin` (the administrator's client
// certificate and key as client-certificate-data / client-key-data), one context `k8ts` joining
// them, set as current. The file carries the admin key: it is written with mode 0600.
import * as fs from 'fs';
import { stringify } from 'yaml';

export const KUBECONFIG_CLUSTER = 'k8ts';
export const KUBECONFIG_USER = 'k8ts-admin';
export const KUBECONFIG_CONTEXT = 'k8ts';

export interface KubeconfigInput {
  /** https://host:port */
  server: string;
  caPem: string;
  clientCertPem: string;
  clientKeyPem: string;
}

/** A kubeconfig (clientcmd v1 Config) with the fields this file uses. */
export interface Kubeconfig {
  apiVersion: 'v1';
  kind: 'Config';
  clusters: { name: string; cluster: { server: string; 'certificate-authority-data': string } }[];
  users: { name: string; user: { 'client-certificate-data': string; 'client-key-data': string } }[];
  contexts: { name: string; context: { cluster: string; user: string } }[];
  'current-context': string;
  preferences: Record<string, never>;
}

const base64 = (pem: string) => Buffer.from(pem, 'utf8').toString('base64');

export function buildKubeconfig(input: KubeconfigInput): Kubeconfig {
  return {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: KUBECONFIG_CLUSTER, cluster: { server: input.server, 'certificate-authority-data': base64(input.caPem) } }],
    users: [{ name: KUBECONFIG_USER, user: { 'client-certificate-data': base64(input.clientCertPem), 'client-key-data': base64(input.clientKeyPem) } }],
    contexts: [{ name: KUBECONFIG_CONTEXT, context: { cluster: KUBECONFIG_CLUSTER, user: KUBECONFIG_USER } }],
    'current-context': KUBECONFIG_CONTEXT,
    preferences: {},
  };
}

export function renderKubeconfig(config: Kubeconfig): string {
  // lineWidth 0: base64 data stays on one line, as kubectl writes it.
  return stringify(config, { lineWidth: 0 });
}

/** Writes the kubeconfig atomically, readable by its owner only. */
export function writeKubeconfig(file: string, input: KubeconfigInput): void {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, renderKubeconfig(buildKubeconfig(input)), { mode: 0o600 });
  fs.chmodSync(tmp, 0o600);
  fs.renameSync(tmp, file);
}
