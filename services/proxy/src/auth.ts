// Who may call the proxy's admin API, and as what. kube-proxy has no such API, so the proxy
// is authorized as Kubernetes components authorize their own endpoints with delegated
// authorization (kube-scheduler's /metrics, /configz): as a non-resource request whose path is
// the gRPC method ('/k8ts.proxy.v1.ProxyService/ListRules') and whose verb is get for the
// reads (ListRules, GetRules, InfoService/GetInfo, reflection) and create for anything else
// (gRPC calls are POSTs). A refusal reads as the apiserver's: forbidden: User "jane" cannot get
// path "/k8ts.proxy.v1.ProxyService/ListRules". To let someone read the rules, bind a
// ClusterRole with `nonResourceURLs: ["/k8ts.proxy.v1.ProxyService/*"], verbs: ["get"]`
// (cluster-admin has them). grpc.health.v1 is open to anyone.
import type { NonResourceRequest } from '@k8ts/client';

/** Methods that only read: verb get. */
const READ_METHODS = new Set([
  '/k8ts.proxy.v1.ProxyService/ListRules',
  '/k8ts.proxy.v1.ProxyService/GetRules',
  '/k8ts.system.v1.InfoService/GetInfo',
  '/grpc.reflection.v1.ServerReflection/ServerReflectionInfo',
  '/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo',
]);

/** The attributes of an admin API call. */
export function proxyRequestAttributes(method: string): NonResourceRequest {
  return { kind: 'nonResource', verb: READ_METHODS.has(method) ? 'get' : 'create', path: method };
}
