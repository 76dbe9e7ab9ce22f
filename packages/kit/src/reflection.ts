// Server reflection (grpc.reflection.v1 and v1alpha, through @grpc/reflection) over the k8ts
// API schema plus the protos of the standard services the kit adds (grpc.health.v1 and the
// reflection service itself), limited to the services a server actually serves.
import * as fs from 'fs';
import * as path from 'path';
import * as grpc from '@grpc/grpc-js';
import * as protobuf from 'protobufjs';
import { ReflectionService } from '@grpc/reflection';
import type { Logger } from 'pino';
import { packageDefinition, protoDir, protoFiles } from '@k8ts/api';
import { buildFileDescriptors, importsOf } from './descriptors';

export const HEALTH_SERVICE = 'grpc.health.v1.Health';
export const REFLECTION_SERVICES = ['grpc.reflection.v1.ServerReflection', 'grpc.reflection.v1alpha.ServerReflection'];

/** The descriptors served by reflection and the services they describe, computed once per process. */
let schema: { descriptors: Buffer[]; services: Set<string> } | undefined;

function loadSchema(): { descriptors: Buffer[]; services: Set<string> } {
  if (schema) return schema;
  const apiDir = protoDir();
  const healthDir = path.resolve(path.dirname(require.resolve('grpc-health-check/package.json')), 'proto');
  const reflectionDir = path.resolve(path.dirname(require.resolve('@grpc/reflection/package.json')), 'build', 'proto');
  // Canonical name -> file on disk for the protos that ship inside npm packages.
  const external = new Map<string, string>([
    ['grpc/health/v1/health.proto', path.join(healthDir, 'health', 'v1', 'health.proto')],
    ['grpc/reflection/v1/reflection.proto', path.join(reflectionDir, 'grpc', 'reflection', 'v1', 'reflection.proto')],
    ['grpc/reflection/v1alpha/reflection.proto', path.join(reflectionDir, 'grpc', 'reflection', 'v1alpha', 'reflection.proto')],
  ]);
  const canonical = new Map<string, string>([...external].map(([name, file]) => [file, name]));
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => external.get(target) ?? (path.isAbsolute(target) ? target : path.join(apiDir, target));
  root.loadSync([...protoFiles(), ...external.keys()], { keepCase: true });
  root.resolveAll();
  const nameOf = (loaded: string) => canonical.get(loaded) ?? path.relative(apiDir, loaded).split(path.sep).join('/');
  const importsByFile = new Map<string, string[]>();
  for (const loaded of root.files) {
    if (!path.isAbsolute(loaded)) continue; // bundled google/protobuf files
    importsByFile.set(nameOf(loaded), importsOf(fs.readFileSync(loaded, 'utf8')));
  }
  const descriptors = buildFileDescriptors(root, nameOf, (file) => importsByFile.get(file) ?? []);

  const services = new Set<string>();
  const walk = (ns: protobuf.NamespaceBase) => {
    for (const o of ns.nestedArray) {
      if (o instanceof protobuf.Service) services.add(o.fullName.slice(1));
      else if (o instanceof protobuf.Namespace && !(o instanceof protobuf.Type)) walk(o);
    }
  };
  walk(root);
  schema = { descriptors, services };
  return schema;
}

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
export function addReflection(server: grpc.Server, served: string[], logger?: Logger): string[] {
  let descriptors: Buffer[];
  let services: Set<string>;
  try {
    ({ descriptors, services } = loadSchema());
  } catch (err) {
    // Never let reflection keep a server from starting: fall back to proto-loader's
    // descriptors of the API (one merged file per package, which strict clients may not link).
    logger?.error({ err }, 'building reflection descriptors failed; serving proto-loader descriptors instead');
    const fallback = packageDefinition();
    descriptors = [];
    services = new Set();
    for (const [name, value] of Object.entries(fallback)) {
      if ('fileDescriptorProtos' in value) descriptors.push(...(value.fileDescriptorProtos as Buffer[]));
      else if (!('format' in value)) services.add(name);
    }
  }
  // @grpc/reflection reads only `fileDescriptorProtos` from the package definition's entries.
  const definition = { 'k8ts.reflection.schema': { fileDescriptorProtos: descriptors } };
  const visible = [...served, HEALTH_SERVICE, ...REFLECTION_SERVICES];
  new ReflectionService(definition as any, { services: visible }).addToServer(server);
  return served.filter((s) => !services.has(s));
}
