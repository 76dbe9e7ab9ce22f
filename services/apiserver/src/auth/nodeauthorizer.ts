// The node authorizer: what a kubelet ("system:node:<n>" in group "system:nodes") may do,
// decided from the pods bound to its node (Kubernetes' Node authorizer, in k8ts' terms).
//
// Allowed:
// - get, list, watch nodes, pods (and pods/status), services, endpoints: what a kubelet and a
//   proxy read;
// - get (and list/watch of one named object) secrets, configmaps and serviceaccounts referenced
//   by a pod bound to this node: env valueFrom, envFrom, volumes (projected included), image
//   pull secrets, the pod's service account, and the token secrets that account lists when
//   its token is mounted;
// - create, update, patch, get its own Node and its own Node's status;
// - get, create, update, patch, delete its own Lease (namespace kube-node-lease, name = node);
// - update, patch the status of pods bound to it, and delete pods bound to it (the kubelet ends
//   a graceful deletion once the pod's containers are stopped);
// - create, update, patch events (the event recorder deduplicates by updating counts).
// Denied outright (not left to RBAC), naming the node and the object: writing another node's
// Node or Node status, another node's Lease, the status of a pod bound elsewhere, deleting a
// pod bound elsewhere. No binding to system:nodes or system:authenticated can let one node
// write as another.
// Everything else (non-resource requests included): no opinion, so that RBAC may still decide.
// A node's permissions depend on the pods bound to it, so it cannot list them: for a node,
// resolveRules answers "incomplete" with Kubernetes' error, as the Node authorizer does.
import type { corev1 } from '@k8ts/api';
import { nodeIdentity } from './node';
import type { Attributes, Authorizer, Decision, NodeGraphSource, RuleResolution, RuleResolver, ServiceAccountSource, UserInfo } from './types';

export const NODE_LEASE_NAMESPACE = 'kube-node-lease';

/** The objects a pod refers to, by name, in its namespace. */
export interface PodReferences {
  secrets: Set<string>;
  configMaps: Set<string>;
  serviceAccounts: Set<string>;
}

/** Collects the secrets, config maps and service account a pod refers to. */
export function podReferences(pod: corev1.Pod): PodReferences {
  const refs: PodReferences = { secrets: new Set(), configMaps: new Set(), serviceAccounts: new Set() };
  const add = (set: Set<string>, name: string | undefined) => {
    if (name) set.add(name);
  };
  const spec = pod.spec;
  if (!spec) return refs;
  for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
    for (const e of c.env ?? []) {
      add(refs.secrets, e.valueFrom?.secretKeyRef?.name);
      add(refs.configMaps, e.valueFrom?.configMapKeyRef?.name);
    }
    for (const e of c.envFrom ?? []) {
      add(refs.secrets, e.secretRef?.name);
      add(refs.configMaps, e.configMapRef?.name);
    }
  }
  for (const v of spec.volumes ?? []) {
    add(refs.secrets, v.secret?.secretName);
    add(refs.configMaps, v.configMap?.name);
    for (const p of v.projected?.sources ?? []) {
      add(refs.secrets, p.secret?.name);
      add(refs.configMaps, p.configMap?.name);
    }
  }
  for (const s of spec.imagePullSecrets ?? []) add(refs.secrets, s.name);
  add(refs.serviceAccounts, spec.serviceAccountName || spec.serviceAccount);
  return refs;
}

export interface NodeAuthorizerOptions {
  /**
   * When given, a node may also read the token secrets listed in the `secrets` of the service
   * account of a pod bound to it, unless the pod or the account turns token mounting off.
   */
  serviceAccounts?: ServiceAccountSource;
}

const READ = new Set(['get', 'list', 'watch']);
const NODE_WRITE = new Set(['create', 'update', 'patch']);
const LEASE_VERBS = new Set(['get', 'create', 'update', 'patch', 'delete']);
const EVENT_WRITE = new Set(['create', 'update', 'patch']);
const NO = (reason = ''): Decision => ({ decision: 'noopinion', reason });
const ALLOW = (reason: string): Decision => ({ decision: 'allow', reason: `Node: ${reason}` });
const DENY = (reason: string): Decision => ({ decision: 'deny', reason });

export class NodeAuthorizer implements Authorizer, RuleResolver {
  constructor(
    private readonly graph: NodeGraphSource,
    private readonly opts: NodeAuthorizerOptions = {},
  ) {}

  resolveRules(user: UserInfo): RuleResolution {
    const none: RuleResolution = { resourceRules: [], nonResourceRules: [], incomplete: false, errors: [] };
    if (!nodeIdentity(user).isNode) return none;
    return { ...none, incomplete: true, errors: ['node authorizer does not support user rule resolution'] };
  }

  authorize(a: Attributes): Decision {
    const id = nodeIdentity(a.user);
    if (!id.isNode) return NO();
    if (id.nodeName === undefined) return NO(`unknown node for user ${JSON.stringify(a.user.name)}`);
    if (a.nonResourcePath !== undefined) return NO();
    const node = id.nodeName;
    const sub = a.subresource ?? '';

    if (a.apiGroup === 'coordination.k8s.io' && a.resource === 'leases') return this.lease(node, a);
    if (a.apiGroup !== '') return NO();
    switch (a.resource) {
      case 'nodes':
        return this.node(node, a, sub);
      case 'pods':
        return this.pod(node, a, sub);
      case 'services':
      case 'endpoints':
        return sub === '' && READ.has(a.verb) ? ALLOW(`nodes may read ${a.resource}`) : NO();
      case 'secrets':
      case 'configmaps':
      case 'serviceaccounts':
        return this.referenced(node, a, sub);
      case 'events':
        return sub === '' && EVENT_WRITE.has(a.verb) ? ALLOW('nodes may record events') : NO();
      default:
        return NO();
    }
  }

  private node(node: string, a: Attributes, sub: string): Decision {
    if (sub !== '' && sub !== 'status') return NO();
    if (READ.has(a.verb)) return ALLOW('nodes may read nodes');
    if (!NODE_WRITE.has(a.verb)) return NO();
    const what = sub === 'status' ? 'the status of node' : 'node';
    if (!a.name) return NO(`node '${node}' can only ${a.verb} its own Node object, and this request names none`);
    if (a.name !== node) {
      return DENY(`node '${node}' cannot ${a.verb} ${what} '${a.name}': a node may only write its own Node object`);
    }
    return ALLOW(`node '${node}' may ${a.verb} ${what} '${node}'`);
  }

  private pod(node: string, a: Attributes, sub: string): Decision {
    if ((sub === '' || sub === 'status') && READ.has(a.verb)) return ALLOW('nodes may read pods');
    const statusWrite = sub === 'status' && (a.verb === 'update' || a.verb === 'patch');
    const deletion = sub === '' && a.verb === 'delete';
    if (!statusWrite && !deletion) return NO();
    const action = statusWrite ? `${a.verb} the status of pod` : 'delete pod';
    if (!a.namespace || !a.name) return NO(`node '${node}' can only ${action} of individual pods`);
    const pod = this.graph.getPod(a.namespace, a.name);
    const ref = `${a.namespace}/${a.name}`;
    if (!pod) return NO(`node '${node}' cannot ${action} ${ref}: no such pod`);
    const boundTo = pod.spec?.nodeName ?? '';
    if (boundTo !== node) {
      const where = boundTo === '' ? 'it is not bound to any node' : `it is bound to node '${boundTo}'`;
      return DENY(`node '${node}' cannot ${action} ${ref}: ${where}`);
    }
    return ALLOW(`pod ${ref} is bound to node '${node}'`);
  }

  private lease(node: string, a: Attributes): Decision {
    if (!LEASE_VERBS.has(a.verb) || (a.subresource ?? '') !== '') {
      return NO(`node '${node}' can only get, create, update, patch or delete its own lease`);
    }
    if (a.namespace !== NODE_LEASE_NAMESPACE) {
      return NO(`node '${node}' can only access leases in the "${NODE_LEASE_NAMESPACE}" namespace`);
    }
    if (!a.name) return NO(`node '${node}' can only ${a.verb} its own lease, and this request names none`);
    if (a.name !== node) {
      return DENY(`node '${node}' cannot ${a.verb} lease ${NODE_LEASE_NAMESPACE}/${a.name}: a node may only access its own lease`);
    }
    return ALLOW(`node '${node}' may ${a.verb} its own lease`);
  }

  private referenced(node: string, a: Attributes, sub: string): Decision {
    if (!READ.has(a.verb)) return NO(`node '${node}' can only read ${a.resource}`);
    if (sub !== '') return NO(`node '${node}' cannot read a subresource of ${a.resource}`);
    if (!a.namespace || !a.name) return NO(`node '${node}' can only read individual ${a.resource}, by namespace and name`);
    const kind = a.resource === 'secrets' ? 'secrets' : a.resource === 'configmaps' ? 'configMaps' : 'serviceAccounts';
    for (const pod of this.graph.podsOnNode(node)) {
      if ((pod.metadata?.namespace ?? '') !== a.namespace || (pod.spec?.nodeName ?? '') !== node) continue;
      const refs = podReferences(pod);
      if (refs[kind].has(a.name)) {
        return ALLOW(`${a.resource} ${a.namespace}/${a.name} is referenced by pod ${a.namespace}/${pod.metadata?.name ?? ''} on node '${node}'`);
      }
      if (kind === 'secrets' && this.tokenSecretOf(pod, a.name)) {
        return ALLOW(`secret ${a.namespace}/${a.name} holds the service account token of pod ${a.namespace}/${pod.metadata?.name ?? ''} on node '${node}'`);
      }
    }
    return NO(`no relationship found between node '${node}' and ${a.resource} ${a.namespace}/${a.name}`);
  }

  /** Whether `secret` is a token secret of the pod's service account that the pod mounts. */
  private tokenSecretOf(pod: corev1.Pod, secret: string): boolean {
    const source = this.opts.serviceAccounts;
    const saName = pod.spec?.serviceAccountName || pod.spec?.serviceAccount;
    if (!source || !saName) return false;
    const sa = source.getServiceAccount(pod.metadata?.namespace ?? '', saName);
    if (!sa) return false;
    const automount = pod.spec?.automountServiceAccountToken ?? sa.automountServiceAccountToken ?? true;
    return automount && (sa.secrets ?? []).some((ref) => ref.name === secret);
  }
}
