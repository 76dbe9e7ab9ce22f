// The one error of Kubernetes protobuf decoding: the path of the field concerned in Kubernetes'
// JSON form ("spec.template.spec.containers[0].ports[1]", empty for the body itself) and why.

export class K8sProtoError extends Error {
  constructor(
    /** The JSON path of the field concerned; empty for the body or the envelope. */
    readonly path: string,
    /** What is wrong, without the path. */
    readonly reason: string,
  ) {
    super(path ? `${path}: ${reason}` : reason);
    this.name = 'K8sProtoError';
  }
}
