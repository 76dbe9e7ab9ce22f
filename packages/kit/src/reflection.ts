// Server reflection (grpc.reflection.v1 and v1alpha, through @grpc/reflection) over the k8ts
// API schema plus the protos of the standard services the kit adds (grpc.health.v1 and the
// reflection service itself), limited to the services a server actually serves.
import type * as grpc from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import { compiledFiles } from '@k8ts/api';

export const HEALTH_SERVICE = 'grpc.health.v1.Health';
export const REFLECTION_SERVICES = ['grpc.reflection.v1.ServerReflection', 'grpc.reflection.v1alpha.ServerReflection'];

/** Fully-qualified service names of a service definition, from its method paths. */
export function serviceNames(definition: grpc.ServiceDefinition): string[] {
  const names = new Set<string>();
  for (const m of Object.values(definition)) {
    const match = /^\/([^/]+)\/[^/]+$/.exec(m.path);
    if (match) names.add(match[1]);
  }
  return [...names];
}

/**
 * Adds grpc.reflection.v1 and v1alpha to `server`, describing `served` (fully-qualified names
 * of the application services) plus health and reflection. Returns the served names that the
 * API schema does not describe (served, but invisible to reflection).
 */
export function addReflection(server: grpc.Server, served: string[]): string[] {
  // The descriptors `make gen` compiled with buf (packages/api/proto/descriptors.binpb): real
  // file names, imports, fully-qualified type names and map entries, exactly as protoc
  // writes them, so strict reflection clients (grpcurl, protobuf-go, Python's descriptor
  // pool) can link every file.
  const files = compiledFiles();
  const services = new Set(files.flatMap((f) => f.services));
  // @grpc/reflection reads only `fileDescriptorProtos` from the package definition's entries.
  const definition = { 'k8ts.reflection.schema': { fileDescriptorProtos: files.map((f) => f.descriptor) } };
  const visible = [...served, HEALTH_SERVICE, ...REFLECTION_SERVICES];
  new ReflectionService(definition as any, { services: visible }).addToServer(server);
  return served.filter((s) => !services.has(s));
}
