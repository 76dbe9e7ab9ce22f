// Kubernetes' protobuf request bodies (application/vnd.kubernetes.protobuf, what kubectl's
// typed commands and client-go send) read into Kubernetes JSON, driven by the k8s_tag of every
// field of proto/: the envelope (envelope.ts), the walk of an object's fields (decode.ts), the
// types with their own wire shape (values.ts).
export { K8S_PROTOBUF_MAGIC, K8S_PROTOBUF_MEDIA_TYPE, decodeK8sEnvelope } from './envelope';
export type { K8sEnvelope } from './envelope';
export { decodeK8sProto, decodeK8sProtoBody, describeUnknownField, k8sProtoToJson } from './decode';
export type { K8sProtoBody, K8sProtoDecoded, UnknownK8sField } from './decode';
export { K8sProtoError } from './errors';
