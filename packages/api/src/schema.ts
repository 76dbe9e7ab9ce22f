// The API schema at run time, from what `make gen` puts into packages/api/proto: the compiled
// descriptor set (descriptors.binpb, served by server reflection) and the .proto files
// (loaded once into a protobufjs Root that keeps the .proto field names, for the Kubernetes
// JSON codec; and, only when asked, into a second Root that also keeps the comments, for
// generated documentation such as the OpenAPI descriptions).
import * as path from 'path';
import * as fs from 'fs';
import * as protobuf from 'protobufjs';

/** Directory holding the .proto files of the API (a copy of the repository's proto/). */
export function protoDir(): string {
  const candidates = [path.resolve(__dirname, '..', 'proto'), path.resolve(__dirname, '..', '..', '..', 'proto')];
  for (const c of candidates) if (fs.existsSync(path.join(c, 'k8ts'))) return c;
  throw new Error(`k8ts API protos not found (looked in ${candidates.join(', ')}); run 'make gen'`);
}

/** Every .proto file of the API, relative to protoDir(). */
export function protoFiles(): string[] {
  const root = protoDir();
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.proto')) out.push(path.relative(root, p));
    }
  };
  walk(root);
  return out.sort();
}

/** One compiled .proto file: its name, package, services and encoded FileDescriptorProto. */
export interface CompiledFile {
  /** The file name as imports spell it ("k8ts/core/v1/pod.proto"). */
  name: string;
  package: string;
  /** Fully-qualified names of the services it declares. */
  services: string[];
  /** The encoded google.protobuf.FileDescriptorProto, as protoc writes it (no source info). */
  descriptor: Buffer;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const descriptorTypes: { FileDescriptorProto: protobuf.Type } = require('protobufjs/ext/descriptor');

let compiled: CompiledFile[] | undefined;
/**
 * Every file of the compiled descriptor set: the API, its imports, and the protos of the
 * health and reflection services. Read once; each file's bytes are kept as compiled.
 */
export function compiledFiles(): CompiledFile[] {
  if (compiled) return compiled;
  const file = path.join(protoDir(), 'descriptors.binpb');
  if (!fs.existsSync(file)) throw new Error(`${file} not found: run 'make gen'`);
  const set = fs.readFileSync(file);
  const out = new Map<string, CompiledFile>();
  // FileDescriptorSet { repeated FileDescriptorProto file = 1; }: slice each file's bytes.
  const reader = protobuf.Reader.create(set);
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    if (tag >>> 3 !== 1 || (tag & 7) !== 2) {
      reader.skipType(tag & 7);
      continue;
    }
    const bytes = Buffer.from(reader.bytes());
    const fd = descriptorTypes.FileDescriptorProto.decode(bytes) as unknown as { name?: string; package?: string; service?: { name?: string }[] };
    const name = fd.name ?? '';
    if (out.has(name)) continue;
    const pkg = fd.package ?? '';
    out.set(name, { name, package: pkg, services: (fd.service ?? []).map((x) => (pkg ? `${pkg}.${x.name}` : (x.name ?? ''))), descriptor: bytes });
  }
  compiled = [...out.values()];
  return compiled;
}

/** Loads every .proto file of the API into a fresh Root, with the .proto field names kept. */
function loadRoot(options: protobuf.IParseOptions): protobuf.Root {
  const dir = protoDir();
  const r = new protobuf.Root();
  // Well-known types (google/protobuf/*) come bundled with protobufjs; descriptor.proto
  // (imported by k8ts/meta/v1/schema.proto for its field options) ships as a file there.
  r.resolvePath = (_origin, target) => {
    if (target === 'google/protobuf/descriptor.proto') return require.resolve('protobufjs/google/protobuf/descriptor.proto');
    return target.startsWith('google/protobuf/') ? target : path.join(dir, target);
  };
  r.loadSync(protoFiles(), options);
  r.resolveAll();
  return r;
}

let root: protobuf.Root | undefined;
/** A protobufjs Root of the whole API with the .proto field names kept (snake_case). */
export function protoRoot(): protobuf.Root {
  root ??= loadRoot({ keepCase: true });
  return root;
}

let docRoot: protobuf.Root | undefined;
/**
 * The same API as protoRoot(), with every type's and field's `//` comment kept in its
 * `comment` (protobufjs' alternate comment mode), for generated documentation. A separate
 * Root, loaded on first use, so that processes which never document the API do not pay for
 * the comments.
 */
export function protoDocRoot(): protobuf.Root {
  docRoot ??= loadRoot({ keepCase: true, alternateCommentMode: true });
  return docRoot;
}
