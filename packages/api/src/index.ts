// @k8ts/api: the public entry point of the generated API.
export * from './gen';
export { packageDefinition, protoRoot, protoDir, protoFiles } from './schema';
