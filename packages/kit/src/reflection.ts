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
  const reflection = new ReflectionService(definition as any, { services: visible });
  addImportDependencies(reflection);
  reflection.addToServer(server);
  return served.filter((s) => !services.has(s));
}

/** The parts of @grpc/reflection's implementations that the import fix-up touches. */
interface ReflectionImplementation {
  files: Record<string, { name?: string; dependency?: string[] }>;
  fileDependencies: Map<object, object[]>;
}

/**
 * @grpc/reflection sends a file's dependencies found through type references only, so a
 * file whose import is used for options alone (k8ts/meta/v1/schema.proto: Kubernetes'
 * markers as field options, and google/protobuf/descriptor.proto under it) would come without
 * that import, and strict clients could not link it. Every import a file declares is added
 * to its dependencies, as protoc's reflection server sends them.
 */
function addImportDependencies(reflection: ReflectionService): void {
  const impls = [(reflection as unknown as { v1?: ReflectionImplementation }).v1, (reflection as unknown as { v1Alpha?: ReflectionImplementation }).v1Alpha];
  for (const impl of impls) {
    if (!impl?.files || !(impl.fileDependencies instanceof Map)) continue;
    for (const file of Object.values(impl.files)) {
      const deps = impl.fileDependencies.get(file) ?? [];
      for (const name of file.dependency ?? []) {
        const dep = impl.files[name];
        if (dep && !deps.includes(dep)) deps.push(dep);
      }
      if (deps.length > 0) impl.fileDependencies.set(file, deps);
    }
  }
}
