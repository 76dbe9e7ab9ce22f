// DefaultTolerationSeconds: every new pod tolerates the NoExecute taints of a not-ready and of
// an unreachable node for a while (300 s by default), unless it already says how long, so
// that a short node hiccup does not evict everything at once.
import type { corev1 } from '@k8ts/api';
import type { AdmissionPlugin, AdmissionRequest } from './index';

export const NOT_READY_TAINT = 'node.kubernetes.io/not-ready';
export const UNREACHABLE_TAINT = 'node.kubernetes.io/unreachable';

export class DefaultTolerationSeconds implements AdmissionPlugin {
  readonly name = 'DefaultTolerationSeconds';
  constructor(
    private readonly notReadySeconds: number,
    private readonly unreachableSeconds: number,
  ) {}

  admit(req: AdmissionRequest): void {
    if (req.operation !== 'CREATE' || req.kind.resource !== 'pods' || req.subresource !== '') return;
    const pod = req.object as corev1.Pod;
    pod.spec ??= {} as corev1.PodSpec;
    const tols = (pod.spec.tolerations ??= []);
    const tolerates = (key: string) =>
      tols.some((t) => (t.key === key || !t.key) && (t.effect === 'NoExecute' || !t.effect));
    if (!tolerates(NOT_READY_TAINT)) {
      tols.push({ key: NOT_READY_TAINT, operator: 'Exists', value: '', effect: 'NoExecute', tolerationSeconds: this.notReadySeconds });
    }
    if (!tolerates(UNREACHABLE_TAINT)) {
      tols.push({ key: UNREACHABLE_TAINT, operator: 'Exists', value: '', effect: 'NoExecute', tolerationSeconds: this.unreachableSeconds });
    }
  }
}
