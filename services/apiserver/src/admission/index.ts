// Admission: the checks and changes every write goes through after authorization and before
// validation and storage, as Kubernetes' admission plugins. Plugins run in order; a plugin
// may change the object (mutating) and may reject the request by throwing an ApiError.
import type { KindInfo } from '@k8ts/api';
import type { ApiObject } from '../strategies/types';

export type Operation = 'CREATE' | 'UPDATE' | 'DELETE';

export interface AdmissionRequest {
  operation: Operation;
  kind: KindInfo;
  /** 'status', 'binding', 'scale' for subresources; '' for the object itself. */
  subresource: string;
  namespace: string;
  name: string;
  /** The object being written (CREATE, UPDATE); plugins may change it. */
  object?: ApiObject;
  /** The stored object (UPDATE, DELETE). */
  oldObject?: ApiObject;
  dryRun: boolean;
}

export interface AdmissionPlugin {
  readonly name: string;
  admit(req: AdmissionRequest): Promise<void> | void;
}

export class AdmissionChain {
  constructor(readonly plugins: AdmissionPlugin[]) {}

  async admit(req: AdmissionRequest): Promise<void> {
    for (const p of this.plugins) await p.admit(req);
  }
}
