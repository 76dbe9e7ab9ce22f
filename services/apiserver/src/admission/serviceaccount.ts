// ServiceAccount admission: a pod that names no service account gets "default"; a pod that
// names another one is refused unless that account exists.
//
// The "default" account of each namespace is created by the controller-manager's service
// account controller, a moment after the namespace. Until it exists, a pod using "default"
// is admitted anyway (Kubernetes would refuse it and let its controller retry): refusing
// would make every pod created right after its namespace fail, and k8ts issues tokens on
// request rather than from secrets, so nothing here depends on the account's content.
import type { corev1 } from '@k8ts/api';
import { forbiddenByPolicy } from '../errors';
import type { AdmissionPlugin, AdmissionRequest } from './index';

export const DEFAULT_SERVICE_ACCOUNT = 'default';

export interface ServiceAccountLookup {
  serviceAccountExists(namespace: string, name: string): Promise<boolean>;
}

export class ServiceAccountAdmission implements AdmissionPlugin {
  readonly name = 'ServiceAccount';
  constructor(private readonly lookup: ServiceAccountLookup) {}

  async admit(req: AdmissionRequest): Promise<void> {
    if (req.operation !== 'CREATE' || req.kind.resource !== 'pods' || req.subresource !== '') return;
    const pod = req.object as corev1.Pod;
    pod.spec ??= {} as corev1.PodSpec;
    const spec = pod.spec;
    if (!spec.serviceAccountName) spec.serviceAccountName = spec.serviceAccount || DEFAULT_SERVICE_ACCOUNT;
    spec.serviceAccount = spec.serviceAccountName;
    const name = spec.serviceAccountName;
    if (name === DEFAULT_SERVICE_ACCOUNT) return;
    if (!(await this.lookup.serviceAccountExists(req.namespace, name))) {
      throw forbiddenByPolicy(
        'pods',
        '',
        req.name,
        `error looking up service account ${req.namespace}/${name}: serviceaccount "${name}" not found`,
      );
    }
  }
}
