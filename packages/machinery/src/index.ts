// @k8ts/machinery: the Kubernetes API rules that more than one component needs, kept once
// (the role of k8s.io/apimachinery and k8s.io/component-helpers). Each rule lives in its own
// folder and is re-exported here; components import '@k8ts/machinery', never a file inside.
export {};
export { messageSchema, fieldOf, effectiveListType } from './schema';
export type { FieldSchema, MessageSchema, ValueKind, ListType } from './schema';
