// NamespaceLifecycle: nothing is created in a namespace that does not exist or is being
// deleted, and the system namespaces (default, kube-system, kube-public) cannot be deleted.
// The namespace is looked up in the watch cache first and, when missing there (it may have
// been created a moment ago through another apiserver replica), read from the store.
import { forbiddenByPolicy, notFound } from '../errors';
import type { AdmissionPlugin, AdmissionRequest } from './index';

/** Namespaces that may never be deleted, as in Kubernetes. */
export const IMMORTAL_NAMESPACES = ['default', 'kube-system', 'kube-public'];

export interface NamespaceLookup {
  /** The namespace's state: undefined when it does not exist. */
  getNamespace(name: string): Promise<{ terminating: boolean } | undefined>;
}

export class NamespaceLifecycle implements AdmissionPlugin {
  readonly name = 'NamespaceLifecycle';
  constructor(private readonly lookup: NamespaceLookup) {}

  async admit(req: AdmissionRequest): Promise<void> {
    const { kind } = req;
    if (req.operation === 'DELETE' && kind.resource === 'namespaces' && IMMORTAL_NAMESPACES.includes(req.name)) {
      throw forbiddenByPolicy('namespaces', '', req.name, 'this namespace may not be deleted');
    }
    if (req.operation !== 'CREATE' || !kind.namespaced || req.subresource !== '') return;
    const ns = await this.lookup.getNamespace(req.namespace);
    if (!ns) throw notFound('namespaces', '', req.namespace);
    if (ns.terminating) {
      throw forbiddenByPolicy(
        kind.resource,
        kind.group,
        req.name,
        `unable to create new content in namespace ${req.namespace} because it is being terminated`,
      );
    }
  }
}
