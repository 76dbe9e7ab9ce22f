// The API schema at run time: the .proto files that `make gen` copies into packages/api/proto,
// loaded once, for server reflection (a proto-loader package definition) and for the
// Kubernetes JSON codec (a protobufjs Root that keeps the .proto field names).
import * as path from 'path';
import * as fs from 'fs';
import * as protoLoader from '@grpc/proto-loader';
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

let pkgDef: protoLoader.PackageDefinition | undefined;
/** The proto-loader package definition of the whole API (used for server reflection). */
export function packageDefinition(): protoLoader.PackageDefinition {
  if (!pkgDef) {
    pkgDef = protoLoader.loadSync(protoFiles(), {
      includeDirs: [protoDir()],
      keepCase: true,
      longs: String,
      enums: String,
      defaults: false,
      oneofs: true,
    });
  }
  return pkgDef;
}

let root: protobuf.Root | undefined;
/** A protobufjs Root of the whole API with the .proto field names kept (snake_case). */
export function protoRoot(): protobuf.Root {
  if (!root) {
    const dir = protoDir();
    const r = new protobuf.Root();
    // Well-known types (google/protobuf/*) come bundled with protobufjs.
    r.resolvePath = (_origin, target) => (target.startsWith('google/protobuf/') ? target : path.join(dir, target));
    r.loadSync(protoFiles(), { keepCase: true });
    r.resolveAll();
    root = r;
  }
  return root;
}
