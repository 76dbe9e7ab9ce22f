// Reflection serves what protoc would: for every .proto file of the k8ts API, the descriptor
// the sample server returns through reflection matches the one protoc compiles from proto/
// (real file names, imports, fully-qualified type names, map entries, proto3 optional), so
// strict reflection clients such as grpcurl can link every file.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { killAll, REPO, requireBuild, startSample } from './helpers';
import { decodeFiles, decodeFileSet, reflect } from './reflect';

const PROTO = path.join(REPO, 'proto');

function k8tsProtoFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.proto')) out.push(path.relative(PROTO, p).split(path.sep).join('/'));
    }
  };
  walk(path.join(PROTO, 'k8ts'));
  return out.sort();
}

/** Drops what reflection does not carry (options, source info) and orders nested declarations by name. */
function normalize(node: any): any {
  if (Array.isArray(node)) return node.map(normalize);
  if (node === null || typeof node !== 'object') return node;
  const out: any = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === 'options' || k === 'sourceCodeInfo') continue;
    out[k] = normalize(v);
  }
  for (const k of ['nestedType', 'enumType']) {
    if (Array.isArray(out[k])) out[k] = [...out[k]].sort((a, b) => a.name.localeCompare(b.name));
  }
  return out;
}

beforeAll(() => requireBuild());
afterEach(killAll);

it('returns, for every k8ts .proto file, the descriptor protoc compiles', async () => {
  const files = k8tsProtoFiles();
  expect(files).toContain('k8ts/system/v1/system.proto');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k8ts-kit-descriptors-'));
  try {
    const out = path.join(dir, 'set.binpb');
    execFileSync('protoc', ['-I', PROTO, '--include_imports', `--descriptor_set_out=${out}`, ...files], { stdio: 'pipe' });
    const expected = new Map(decodeFileSet(fs.readFileSync(out)).map((f) => [f.name, f]));

    const sample = await startSample([]);
    const responses = await reflect(
      sample.address,
      files.map((f) => ({ fileByFilename: f })),
    );
    const seenDeps = new Set<string>();
    responses.forEach((res, i) => {
      expect(res.errorResponse).toBeUndefined();
      const [mine, ...deps] = decodeFiles(res.fileDescriptorResponse.fileDescriptorProto);
      expect(mine.name).toBe(files[i]);
      expect(normalize(mine)).toEqual(normalize(expected.get(files[i])));
      for (const d of deps) seenDeps.add(d.name);
      // Every import of the file comes along in the same response.
      for (const dep of mine.dependency ?? []) expect(deps.map((d) => d.name)).toContain(dep);
    });
    // Well-known types are served under their canonical names.
    for (const d of seenDeps) expect(expected.has(d) || d.startsWith('google/protobuf/')).toBe(true);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
