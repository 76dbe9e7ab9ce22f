// Who may call the kubelet API, and as what: the kubelet's calls are authorized as Kubernetes
// authorizes requests to the kubelet (pkg/kubelet/server/auth.go): resource "nodes", the
// node's name, a subresource by endpoint, and the verb of the HTTP method (GET → get,
// POST → create).
//
// Mapping of k8ts.kubelet.v1 (and the kit's services on the same port):
// - GetContainerLogs → get nodes/proxy. Kubernetes' `kubectl logs` reaches the kubelet's
//   /containerLogs/… endpoint, which the kubelet authorizes as nodes/proxy (nodes/log is its
//   /logs/ endpoint: the node's own log files, which k8ts' kubelet does not serve). So the
//   apiserver's system:kubelet-api-admin, and anyone granted nodes/proxy, may read pod logs
//   straight from the kubelet, as in Kubernetes.
// - InfoService/GetInfo and server reflection → get nodes/proxy (reads of the kubelet, as
//   /configz is).
// - Any other method → create nodes/proxy (gRPC calls are POSTs).
// - grpc.health.v1 is open to anyone (the kubelet's healthz).
// With --sim-nodes one server answers for several nodes: a call about a pod is authorized
// against the pod's node, anything else against the process's first node.
import type { ResourceRequest } from '@k8ts/client';

export const GET_CONTAINER_LOGS = '/k8ts.kubelet.v1.KubeletService/GetContainerLogs';

/** Methods that only read: verb get. */
const READ_METHODS = new Set([
  GET_CONTAINER_LOGS,
  '/k8ts.system.v1.InfoService/GetInfo',
  '/grpc.reflection.v1.ServerReflection/ServerReflectionInfo',
  '/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo',
]);

/** The node a call is about: its request names a pod (namespace, podName) or nothing. */
export type NodeOfRequest = (method: string, request: unknown) => string;

/** The attributes of a kubelet API call (see the top of this file). */
export function kubeletRequestAttributes(nodeOf: NodeOfRequest): (method: string, request: unknown) => ResourceRequest {
  return (method, request) => ({
    kind: 'resource',
    verb: READ_METHODS.has(method) ? 'get' : 'create',
    apiGroup: '',
    apiVersion: 'v1',
    resource: 'nodes',
    subresource: 'proxy',
    name: nodeOf(method, request),
    namespace: '',
  });
}

/** The pod a GetContainerLogs request names, if it names one. */
export function podOfRequest(method: string, request: unknown): { namespace: string; name: string } | undefined {
  if (method !== GET_CONTAINER_LOGS || !request || typeof request !== 'object') return undefined;
  const r = request as { namespace?: unknown; podName?: unknown };
  return typeof r.namespace === 'string' && typeof r.podName === 'string' && r.namespace && r.podName ? { namespace: r.namespace, name: r.podName } : undefined;
}
