// What an HTTP request is about, as Kubernetes' RequestInfoFactory reads it from the path and
// method: a resource request (/api/v1/namespaces/default/pods/web-1/status, with its verb:
// get, list, watch, create, update, patch, delete, deletecollection) or a non-resource one
// (/version, /healthz, /api, /openapi/v3, ...).
//
//   /api/v1/[namespaces/{ns}/]{resource}[/{name}[/{subresource}]]
//   /apis/{group}/{version}/[namespaces/{ns}/]{resource}[/{name}[/{subresource}]]
//   /api/v1/watch/... and /apis/{g}/{v}/watch/...  (the deprecated watch prefix)
//   /api/v1/namespaces/{name}[/{subresource}]      (the namespace object itself)
import type { Verb } from '../auth/types';

export interface ResourceRequest {
  isResource: true;
  verb: Verb;
  /** '' for the core group. */
  group: string;
  version: string;
  /** Empty for cluster-scoped resources and for lists and watches across all namespaces. */
  namespace: string;
  resource: string;
  name: string;
  subresource: string;
  path: string;
}

export interface NonResourceRequest {
  isResource: false;
  /** The lower-case HTTP method, as Kubernetes authorizes non-resource requests. */
  verb: string;
  path: string;
}

export type RequestInfo = ResourceRequest | NonResourceRequest;

const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);

const METHOD_VERBS: Record<string, string> = { POST: 'create', PUT: 'update', PATCH: 'patch', DELETE: 'delete', GET: 'get', HEAD: 'get' };

function isTrue(v: string | null): boolean {
  return v !== null && (v === '1' || v.toLowerCase() === 'true');
}

/** Reads a request's target. `query` is the parsed query string (watch=true turns a get into a watch). */
export function requestInfo(method: string, path: string, query: URLSearchParams): RequestInfo {
  const parts = path.split('/').filter((p) => p !== '');
  const nonResource: NonResourceRequest = { isResource: false, verb: method.toLowerCase(), path };
  let rest: string[];
  let group: string;
  let version: string;
  if (parts[0] === 'api' && parts.length >= 3) {
    group = '';
    version = parts[1];
    rest = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 4) {
    group = parts[1];
    version = parts[2];
    rest = parts.slice(3);
  } else {
    return nonResource;
  }
  let verb = METHOD_VERBS[method] ?? method.toLowerCase();
  let watchPrefix = false;
  if (rest[0] === 'watch') {
    watchPrefix = true;
    rest = rest.slice(1);
  }
  let namespace = '';
  if (rest[0] === 'namespaces' && rest.length >= 2) {
    namespace = rest[1];
    // /namespaces/{ns}/{resource}/...; but /namespaces/{name}[/status|/finalize] is the Namespace.
    if (rest.length > 2 && !NAMESPACE_SUBRESOURCES.has(rest[2])) rest = rest.slice(2);
  }
  const resource = rest[0] ?? '';
  let name = rest[1] ?? '';
  const subresource = rest.slice(2).join('/');
  if (name === '' && verb === 'get') verb = 'list';
  if (name === '' && verb === 'delete') verb = 'deletecollection';
  if (watchPrefix || ((verb === 'list' || verb === 'get') && isTrue(query.get('watch')))) {
    verb = 'watch';
    // A watch of one object: /watch/namespaces/ns/pods/name, or ?fieldSelector=metadata.name=x.
  }
  if (resource === '') return nonResource;
  name = decodeURIComponent(name);
  return { isResource: true, verb: verb as Verb, group, version, namespace: decodeURIComponent(namespace), resource, name, subresource, path };
}
