// pods/log: PodService.GetPodLogs streamed from the kubelet of the pod's node. The apiserver
// finds the node's kubelet (its InternalIP and status.daemonEndpoints.kubeletEndpoint.Port),
// calls k8ts.kubelet.v1.KubeletService/GetContainerLogs there, and relays every chunk, until
// the kubelet ends the stream or the client cancels (which cancels the kubelet call).
//
// Kubelets serve TLS and check their callers: the apiserver dials them over TLS presenting its
// kubelet client certificate (--kubelet-client-certificate, user kube-apiserver-kubelet-client,
// which the bootstrap policy binds to system:kubelet-api-admin) and verifies their serving
// certificates with --kubelet-ca; without it, as kube-apiserver without
// --kubelet-certificate-authority, the kubelet's certificate is not verified.
import * as fs from 'fs';
import * as grpc from '@grpc/grpc-js';
import { type corev1, kindFor, kubeletv1 } from '@k8ts/api';
import { ApiError, badRequest, unavailable } from '../errors';
import type { Registry } from '../registry/registry';

const PODS = kindFor('v1', 'Pod')!;
const NODES = kindFor('v1', 'Node')!;

export interface KubeletDialer {
  /** A client for the kubelet at host:port (cached per address). */
  client(address: string): kubeletv1.KubeletServiceClient;
  close(): void;
}

/** How the apiserver reaches kubelets: the flags' files (PEM paths). */
export interface KubeletClientTls {
  /** --kubelet-ca: the CA of kubelet serving certificates; absent: they are not verified. */
  ca?: string;
  /** --kubelet-client-certificate and --kubelet-client-key: the apiserver's identity to kubelets. */
  cert?: string;
  key?: string;
}

/** TLS credentials for kubelets: verified with `ca` when given, presenting the client certificate when given. */
export function kubeletCredentials(tls: KubeletClientTls): grpc.ChannelCredentials {
  const read = (file: string | undefined) => (file ? fs.readFileSync(file) : null);
  return grpc.credentials.createSsl(read(tls.ca), read(tls.key), read(tls.cert), tls.ca ? {} : { rejectUnauthorized: false });
}

export function kubeletDialer(credentials: grpc.ChannelCredentials): KubeletDialer {
  const clients = new Map<string, kubeletv1.KubeletServiceClient>();
  return {
    client(address) {
      let c = clients.get(address);
      if (!c) {
        c = new kubeletv1.KubeletServiceClient(address, credentials);
        clients.set(address, c);
      }
      return c;
    },
    close() {
      for (const c of clients.values()) c.close();
      clients.clear();
    },
  };
}

/** The kubelet address of a node: its first InternalIP (else any address) and its kubelet port. */
export function kubeletAddress(node: corev1.Node): string {
  const addrs = node.status?.addresses ?? [];
  const ip = addrs.find((a) => a.type === 'InternalIP')?.address ?? addrs.find((a) => a.type === 'ExternalIP')?.address ?? addrs[0]?.address;
  const port = node.status?.daemonEndpoints?.kubeletEndpoint?.Port ?? 0;
  const name = node.metadata?.name ?? '';
  if (!ip) throw unavailable(`node ${name} reports no address: its kubelet cannot be reached`);
  if (!port) throw unavailable(`node ${name} reports no kubelet port (status.daemonEndpoints.kubeletEndpoint.Port)`);
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/** Picks the container a log request is about, as Kubernetes does. */
export function logContainer(pod: corev1.Pod, requested: string): string {
  const name = pod.metadata?.name ?? '';
  const regular = (pod.spec?.containers ?? []).map((c) => c.name ?? '');
  const init = (pod.spec?.initContainers ?? []).map((c) => c.name ?? '');
  if (!requested) {
    if (regular.length === 1) return regular[0];
    throw badRequest(`a container name must be specified for pod ${name}, choose one of: [${regular.join(' ')}]${init.length > 0 ? ` or one of the init containers: [${init.join(' ')}]` : ''}`);
  }
  if (!regular.includes(requested) && !init.includes(requested)) throw badRequest(`container ${requested} is not valid for pod ${name}`);
  return requested;
}

/**
 * Opens the kubelet stream for a GetPodLogs request; the caller relays its data and ends or
 * cancels it. Resolves once the pod and node are found (errors before any data are ApiErrors).
 */
export async function openPodLogs(
  registry: Registry,
  dialer: KubeletDialer,
  req: corev1.GetPodLogsRequest,
): Promise<grpc.ClientReadableStream<kubeletv1.GetContainerLogsResponse>> {
  const namespace = req.namespace || 'default';
  const pod = (await registry.get(PODS, namespace, req.name ?? '')) as corev1.Pod;
  const container = logContainer(pod, req.container ?? '');
  const nodeName = pod.spec?.nodeName;
  if (!nodeName) throw badRequest(`pod ${req.name} does not have a host assigned`);
  let node: corev1.Node;
  try {
    node = (await registry.get(NODES, '', nodeName)) as corev1.Node;
  } catch (err) {
    if (err instanceof ApiError && err.code === grpc.status.NOT_FOUND) throw unavailable(`node ${nodeName} of pod ${req.name} not found`);
    throw err;
  }
  const client = dialer.client(kubeletAddress(node));
  return client.getContainerLogs({
    namespace,
    podName: pod.metadata?.name,
    podUid: pod.metadata?.uid,
    container,
    follow: req.follow,
    tailLines: req.tailLines,
    previous: req.previous,
    timestamps: req.timestamps,
    sinceSeconds: req.sinceSeconds,
  });
}
