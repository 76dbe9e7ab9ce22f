// @k8ts/api: the public entry point of the generated API, the run-time schema, the
// Kubernetes JSON codec and the table of kinds.
export * from './gen';
export { compiledFiles, protoRoot, protoDocRoot, protoDir, protoFiles } from './schema';
export type { CompiledFile } from './schema';
export { fromK8sJson, toK8sJson, jsonName, DecodeError } from './json';
export type { FieldProblem, DecodeOptions } from './json';
export { messageFns } from './registry';
export type { MessageFns } from './registry';
export { KINDS, kindFor, kindByName, parseManifests, parseYaml, ManifestError } from './kinds';
export type { KindInfo, ManifestObject } from './kinds';
