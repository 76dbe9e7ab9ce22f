// The ways a client may PATCH a Kubernetes object, but server-side apply (which lives beside
// them): JSON patch (RFC 6902), JSON merge patch (RFC 7386) and strategic merge patch, plus
// the creation of strategic merge patches as kubectl computes them (two-way, and the
// three-way patch of kubectl apply). All work on Kubernetes JSON (plain objects, as
// toK8sJson returns them), never change their arguments, and throw PatchError carrying the
// HTTP code Kubernetes answers with (errors.ts).
//
// Where the result or the error can differ from Kubernetes':
//  - strategic merge patch: a field the schema does not know merges as in a JSON merge patch
//    (Kubernetes fails with "unable to find api field" when both sides hold an object or
//    list there, and drops unknown fields when decoding); a merging list whose first element
//    is null fails with "a list element is null" (Kubernetes' code panics); numbers are not
//    told apart as int64 and float64;
//  - elements with equal sort keys (duplicate merge keys) may come out in another order, as
//    Go sorts them unstably;
//  - a three-way conflict is reported with the patches as JSON, not YAML;
//  - the apiserver's limit of 10000 JSON patch operations (413) is the HTTP layer's to check.
export { applyJsonPatch } from './json-patch';
export { applyMergePatch } from './merge-patch';
export { applyStrategicMergePatch } from './smp-apply';
export { createStrategicMergePatch, createThreeWayMergePatch, requireKeyUnchanged, requireMetadataKeyUnchanged } from './smp-diff';
export type { PatchPrecondition, ThreeWayOptions } from './smp-diff';
export { PatchError } from './errors';
export type { PatchErrorReason } from './errors';
export type { JsonObject, JsonValue } from './json';
