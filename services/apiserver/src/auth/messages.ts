// Kubernetes' wording of an authorization refusal, so that a k8ts PERMISSION_DENIED reads like
// a kubectl "Forbidden" error:
//   User "jane" cannot list resource "pods" in API group "" in the namespace "default"
//   User "jane" cannot get resource "pods/log" in API group "" in the namespace "default"
//   User "jane" cannot delete resource "nodes" in API group "" at the cluster scope
//   User "jane" cannot get path "/healthz"                  (a non-resource request)
import type { Attributes } from './types';

/** The resource as RBAC rules name it: "pods" or "pods/status". */
export function resourceWithSubresource(a: Pick<Attributes, 'resource' | 'subresource'>): string {
  return a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
}

/** Kubernetes' forbidden message for a request: names the user, the verb, the resource and the scope. */
export function forbiddenMessage(a: Attributes): string {
  if (a.nonResourcePath !== undefined) return `User ${JSON.stringify(a.user.name)} cannot ${a.verb} path ${JSON.stringify(a.nonResourcePath)}`;
  const who = `User ${JSON.stringify(a.user.name)} cannot ${a.verb} resource ${JSON.stringify(resourceWithSubresource(a))} in API group ${JSON.stringify(a.apiGroup)}`;
  return a.namespace ? `${who} in the namespace ${JSON.stringify(a.namespace)}` : `${who} at the cluster scope`;
}

/** Kubernetes' text of several errors as one (utilerrors.NewAggregate): one message alone, several in brackets. */
export function aggregateMessage(messages: readonly string[]): string {
  const unique = [...new Set(messages)];
  return unique.length === 1 ? unique[0] : `[${unique.join(', ')}]`;
}
