// Helpers of the deploy checks (integration/deploy/*.test.ts): rendering the kustomize overlays
// offline, reading Dockerfiles and .dockerignore the way docker does, and the flags each service
// accepts (from its own --help). Everything here works without a cluster or a container engine.
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as YAML from 'yaml';

export const REPO = path.resolve(__dirname, '..', '..');
export const SERVICES = ['store', 'apiserver', 'scheduler', 'controller-manager', 'kubelet', 'proxy'] as const;
export type Service = (typeof SERVICES)[number];
/** The nodes the rendered overlays get node tokens for (gen-secrets --nodes). */
export const SAMPLE_NODES = ['k8ts-control-plane', 'k8ts-worker', 'k8ts-worker2'];

// ---------------------------------------------------------------------------------------------
// Rendering

/** The kubectl to render with: $KUBECTL, else kubectl from PATH. */
const KUBECTL = process.env.KUBECTL || 'kubectl';

/** kubectl with kustomize v5 (kubectl >= 1.27), or why not. */
export function kubectlStatus(): { ok: true } | { ok: false; why: string } {
  const r = spawnSync(KUBECTL, ['version', '--client', '-o', 'json'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return { ok: false, why: `kubectl is not installed (${r.error?.message ?? r.stderr.trim()})` };
  try {
    const v = JSON.parse(r.stdout) as { kustomizeVersion?: string };
    const major = Number(/^v?(\d+)/.exec(v.kustomizeVersion ?? '')?.[1] ?? 0);
    if (major < 5) return { ok: false, why: `kubectl's kustomize is ${v.kustomizeVersion ?? 'unknown'}; the overlays need kustomize v5 (kubectl 1.27 or later)` };
  } catch {
    return { ok: false, why: 'kubectl version --client -o json printed no JSON' };
  }
  return { ok: true };
}

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: any;
}

export interface Rendered {
  overlay: string;
  docs: K8sObject[];
  /** The directory the secrets were generated into (a temporary copy of deploy/k8s). */
  secretsDir: string;
}

let workDir: string | undefined;

/** A temporary copy of deploy/k8s with freshly generated secrets (never the developer's own). */
function renderTree(): string {
  if (workDir) return workDir;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k8ts-deploy-'));
  fs.cpSync(path.join(REPO, 'deploy', 'k8s'), path.join(dir, 'k8s'), {
    recursive: true,
    filter: (src) => !src.startsWith(path.join(REPO, 'deploy', 'k8s', 'secrets') + path.sep),
  });
  execFileSync(process.execPath, [path.join(REPO, 'deploy', 'gen-secrets.js'), '--out', path.join(dir, 'k8s', 'secrets'), '--nodes', SAMPLE_NODES.join(',')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  workDir = dir;
  return dir;
}

/** `kubectl kustomize` of an overlay, parsed (every document must parse). */
export function render(overlay: string): Rendered {
  const dir = renderTree();
  const text = execFileSync(KUBECTL, ['kustomize', path.join(dir, 'k8s', 'overlays', overlay)], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const docs: K8sObject[] = [];
  for (const doc of YAML.parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`${overlay}: a rendered document does not parse: ${doc.errors[0].message}`);
    const value = doc.toJS();
    if (value !== null && value !== undefined) docs.push(value as K8sObject);
  }
  return { overlay, docs, secretsDir: path.join(dir, 'k8s', 'secrets') };
}

export function cleanupRender(): void {
  if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
  workDir = undefined;
}

// ---------------------------------------------------------------------------------------------
// Flags

export interface FlagInfo {
  name: string;
  type: 'string' | 'int' | 'bool' | 'duration' | 'list' | 'address' | 'file';
  required: boolean;
}

const helpCache = new Map<string, FlagInfo[]>();

/** The flags a service accepts, parsed from `node services/<svc>/dist/main.js --help` (the kit prints them all). */
export function serviceFlags(svc: string): FlagInfo[] {
  const cached = helpCache.get(svc);
  if (cached) return cached;
  const main = path.join(REPO, 'services', svc, 'dist', 'main.js');
  if (!fs.existsSync(main)) throw new Error(`${path.relative(REPO, main)} is missing: run make build first`);
  const out = execFileSync(process.execPath, [main, '--help'], { encoding: 'utf8', cwd: REPO });
  const flags: FlagInfo[] = [];
  const lines = out.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^ {2}--([a-z][a-z0-9-]*)(?:\[=<bool>\]| <([a-z]+)>)?$/.exec(lines[i]);
    if (!m || m[1] === 'help') continue;
    const facts = lines.slice(i + 1, i + 4).find((l) => /^\s+\(type: /.test(l)) ?? '';
    const type = (/type: ([a-z]+)/.exec(facts)?.[1] ?? m[2] ?? 'bool') as FlagInfo['type'];
    flags.push({ name: m[1], type, required: /[(,] required[,)]/.test(facts) });
  }
  if (flags.length === 0) throw new Error(`${svc} --help listed no flags:\n${out}`);
  helpCache.set(svc, flags);
  return flags;
}

// ---------------------------------------------------------------------------------------------
// Dockerfiles

export interface Instruction {
  /** Upper-case instruction: FROM, RUN, COPY, ... */
  cmd: string;
  /** Everything after the instruction, continuation lines joined. */
  args: string;
  line: number;
}

/** Parses a Dockerfile into instructions: comments dropped, `\` continuations joined. */
export function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const first = lines[i];
    if (/^\s*(#|$)/.test(first)) continue;
    const line = i + 1;
    let joined = first;
    while (/\\\s*$/.test(joined) && i + 1 < lines.length) {
      joined = joined.replace(/\\\s*$/, ' ');
      i++;
      if (/^\s*#/.test(lines[i])) continue; // comment lines inside a continuation are skipped
      joined += lines[i];
    }
    const m = /^\s*([A-Za-z]+)\s*(.*)$/.exec(joined);
    if (!m) throw new Error(`line ${line}: not an instruction: ${first}`);
    out.push({ cmd: m[1].toUpperCase(), args: m[2].replace(/\s+/g, ' ').trim(), line });
  }
  return out;
}

export interface Stage {
  from: string;
  name?: string;
  instructions: Instruction[];
}

export function stages(instructions: Instruction[]): Stage[] {
  const out: Stage[] = [];
  for (const ins of instructions) {
    if (ins.cmd === 'FROM') {
      const m = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args);
      if (!m) throw new Error(`line ${ins.line}: cannot read FROM ${ins.args}`);
      out.push({ from: m[1], name: m[2], instructions: [] });
    } else if (out.length > 0) {
      out[out.length - 1].instructions.push(ins);
    } else if (ins.cmd !== 'ARG') {
      throw new Error(`line ${ins.line}: ${ins.cmd} before the first FROM`);
    }
  }
  return out;
}

/** The JSON array of an exec-form instruction (ENTRYPOINT, CMD), or undefined for the shell form. */
export function execForm(args: string): string[] | undefined {
  if (!args.startsWith('[')) return undefined;
  try {
    const v = JSON.parse(args);
    return Array.isArray(v) && v.every((x) => typeof x === 'string') ? v : undefined;
  } catch {
    return undefined;
  }
}

export interface CopyInstruction {
  from?: string;
  sources: string[];
  dest: string;
  line: number;
}

export function parseCopy(ins: Instruction): CopyInstruction {
  const words = execForm(ins.args) ?? ins.args.split(' ');
  let from: string | undefined;
  const rest: string[] = [];
  for (const w of words) {
    if (w.startsWith('--from=')) from = w.slice('--from='.length);
    else if (w.startsWith('--')) continue; // --chown, --chmod, --link
    else rest.push(w);
  }
  if (rest.length < 2) throw new Error(`line ${ins.line}: COPY needs a source and a destination`);
  return { from, sources: rest.slice(0, -1), dest: rest[rest.length - 1], line: ins.line };
}

// ---------------------------------------------------------------------------------------------
// .dockerignore, as docker reads it (moby/patternmatcher): patterns relative to the context
// root, `*` and `?` within one path segment, `**` across segments, `!` re-includes, the last
// pattern that matches a path (or one of its parent directories) decides.

export interface IgnoreRule {
  pattern: string;
  exclusion: boolean;
  re: RegExp;
}

function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*') {
      if (glob[i + 1] === '*') {
        i++;
        if (glob[i + 1] === '/') {
          i++;
          re += '(?:.*/)?';
        } else {
          re += '.*';
        }
      } else {
        re += '[^/]*';
      }
    } else if (c === '?') {
      re += '[^/]';
    } else if (c === '[') {
      const end = glob.indexOf(']', i + 1);
      if (end < 0) throw new Error(`bad pattern ${glob}: unterminated [`);
      re += `[${glob.slice(i + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\')}]`;
      i = end;
    } else if (c === '\\' && i + 1 < glob.length) {
      re += glob[++i].replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    } else {
      re += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    }
  }
  return new RegExp(`^${re}$`);
}

export function parseDockerignore(text: string): IgnoreRule[] {
  const rules: IgnoreRule[] = [];
  for (const raw of text.split('\n')) {
    let p = raw.trim();
    if (p === '' || p.startsWith('#')) continue;
    const exclusion = p.startsWith('!');
    if (exclusion) p = p.slice(1).trim();
    p = path.posix.normalize(p).replace(/^\/+/, '').replace(/\/+$/, '');
    if (p === '.' || p === '') continue;
    rules.push({ pattern: p, exclusion, re: globToRegExp(p) });
  }
  return rules;
}

/** Whether docker leaves `rel` (a path relative to the context root) out of the context. */
export function ignored(rules: IgnoreRule[], rel: string): boolean {
  const parts = rel.split('/');
  const parents = parts.slice(0, -1).map((_, i) => parts.slice(0, i + 1).join('/'));
  let out = false;
  for (const r of rules) {
    if (r.re.test(rel) || parents.some((p) => r.re.test(p))) out = !r.exclusion;
  }
  return out;
}

/** Every file of the build context (paths relative to the repository root, '/'-separated). */
export function contextFiles(rules: IgnoreRule[]): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(path.join(REPO, dir), { withFileTypes: true })) {
      const rel = dir ? `${dir}/${e.name}` : e.name;
      // Pruned whole: nothing under them is ever re-included (checked by the context test).
      if (e.isDirectory() && (e.name === 'node_modules' || e.name === '.git')) continue;
      if (e.isDirectory()) walk(rel);
      else if (!ignored(rules, rel)) out.push(rel);
    }
  };
  walk('');
  return out.sort();
}

// ---------------------------------------------------------------------------------------------
// Workspaces

export interface PackageJson {
  name: string;
  version?: string;
  main?: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  workspaces?: string[];
}

export function readJson<T>(file: string): T {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
}

/** Every workspace directory (relative), from the root package.json's globs. */
export function workspaces(): string[] {
  const root = readJson<PackageJson>(path.join(REPO, 'package.json'));
  const out: string[] = [];
  for (const pattern of root.workspaces ?? []) {
    if (pattern.endsWith('/*')) {
      const parent = pattern.slice(0, -2);
      for (const d of fs.readdirSync(path.join(REPO, parent))) {
        if (fs.existsSync(path.join(REPO, parent, d, 'package.json'))) out.push(`${parent}/${d}`);
      }
    } else if (fs.existsSync(path.join(REPO, pattern, 'package.json'))) {
      out.push(pattern);
    }
  }
  return out.sort();
}

/** @k8ts/<name> -> its workspace directory. */
export function workspaceByName(): Map<string, string> {
  const m = new Map<string, string>();
  for (const ws of workspaces()) m.set(readJson<PackageJson>(path.join(REPO, ws, 'package.json')).name, ws);
  return m;
}

/** The @k8ts workspaces a workspace depends on at run time, transitively (itself excluded). */
export function k8tsDependencies(ws: string): string[] {
  const byName = workspaceByName();
  const seen = new Set<string>();
  const visit = (dir: string) => {
    const pkg = readJson<PackageJson>(path.join(REPO, dir, 'package.json'));
    for (const dep of Object.keys(pkg.dependencies ?? {})) {
      const d = byName.get(dep);
      if (d && !seen.has(d)) {
        seen.add(d);
        visit(d);
      }
    }
  };
  visit(ws);
  seen.delete(ws);
  return [...seen].sort();
}

interface LockEntry {
  version?: string;
  resolved?: string;
  link?: boolean;
  dev?: boolean;
  optional?: boolean;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

/**
 * What `npm ci --omit=dev --workspace=<ws>` installs, from package-lock.json alone: the names of
 * the packages reachable from the workspace's production dependencies (workspace links
 * followed, their dependencies taken from their package.json as npm does). Missing entries
 * are reported, not thrown.
 */
export function productionClosure(ws: string): { packages: Set<string>; missing: string[] } {
  const lock = readJson<{ packages: Record<string, LockEntry> }>(path.join(REPO, 'package-lock.json')).packages;
  const packages = new Set<string>();
  const missing: string[] = [];
  const visited = new Set<string>();
  const resolve = (from: string, name: string): string | undefined => {
    // node's lookup: <dir>/node_modules/<name> for <from> and each of its parents, then the root's
    for (let dir = from; dir !== '' && dir !== '.'; dir = path.posix.dirname(dir)) {
      if (dir === 'node_modules' || dir.endsWith('/node_modules')) continue;
      if (lock[`${dir}/node_modules/${name}`]) return `${dir}/node_modules/${name}`;
    }
    return lock[`node_modules/${name}`] ? `node_modules/${name}` : undefined;
  };
  const deps = (key: string): Record<string, string> => {
    const e = lock[key] ?? {};
    const isWorkspace = !key.includes('node_modules/') && key !== '';
    const fromPkg = isWorkspace && fs.existsSync(path.join(REPO, key, 'package.json')) ? readJson<PackageJson>(path.join(REPO, key, 'package.json')) : undefined;
    const prod = fromPkg?.dependencies ?? e.dependencies ?? {};
    const opt = fromPkg?.optionalDependencies ?? e.optionalDependencies ?? {};
    const peer = e.peerDependencies ?? {};
    return { ...peer, ...opt, ...prod };
  };
  const visit = (key: string) => {
    if (visited.has(key)) return;
    visited.add(key);
    for (const name of Object.keys(deps(key))) {
      let target = resolve(key, name);
      if (!target) {
        if (lock[key]?.optionalDependencies?.[name] || lock[key]?.peerDependencies?.[name]) continue;
        missing.push(`${name} (needed by ${key || 'the root'})`);
        continue;
      }
      packages.add(name);
      const entry = lock[target];
      if (entry.link && entry.resolved) target = entry.resolved;
      visit(target);
    }
  };
  visit(ws);
  return { packages, missing };
}

/** Bare module names a directory's .js files require (`require("x")`, `require("@s/x/y")` -> `@s/x`). */
export function requiredModules(dir: string): Set<string> {
  const out = new Set<string>();
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.js')) {
        const text = fs.readFileSync(p, 'utf8');
        for (const m of text.matchAll(/\brequire\(\s*["']([^"'./][^"']*)["']\s*\)/g)) {
          const spec = m[1].replace(/^node:/, '');
          const parts = spec.split('/');
          out.add(spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]);
        }
      }
    }
  };
  walk(dir);
  return out;
}

// ---------------------------------------------------------------------------------------------
// The runtime stage's file set

export function dockerfile(svc: string): { text: string; stages: Stage[] } {
  const text = fs.readFileSync(path.join(REPO, 'services', svc, 'Dockerfile'), 'utf8');
  return { text, stages: stages(parseDockerfile(text)) };
}

function globFiles(base: string, pattern: string): string[] {
  if (!/[*?[]/.test(path.posix.basename(pattern))) return [pattern];
  const dir = path.posix.dirname(pattern);
  const re = globToRegExp(path.posix.basename(pattern));
  const abs = path.join(base, dir);
  if (!fs.existsSync(abs)) return [];
  return fs
    .readdirSync(abs)
    .filter((f) => re.test(f))
    .map((f) => path.posix.join(dir, f));
}

/** docker's COPY of one source (a file or a directory's contents) to dest under root. */
function copyInto(srcAbs: string, root: string, dest: string, manySources: boolean): void {
  const destAbs = path.join(root, dest);
  if (fs.statSync(srcAbs).isDirectory()) {
    fs.mkdirSync(destAbs, { recursive: true });
    fs.cpSync(srcAbs, destAbs, { recursive: true });
  } else {
    const into = dest.endsWith('/') || manySources;
    const target = into ? path.join(destAbs, path.basename(srcAbs)) : destAbs;
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.copyFileSync(srcAbs, target);
  }
}

export interface RuntimeTree {
  dir: string;
  /** The npm ci command of the runtime stage, as written. */
  npmCi: string;
}

/**
 * Builds, in `dir`, what the last stage of services/<svc>/Dockerfile puts in its WORKDIR: the
 * files its COPY instructions take from the build context (checked against .dockerignore) and
 * from the build stage (the repository after `make build`: the build stage runs the same
 * `npm run gen && node scripts/build.js`). `installDependencies` runs the stage's
 * `npm ci --omit=dev ...` there; without it node_modules gets links to the repository's
 * node_modules, only for the packages that npm ci would install (productionClosure).
 */
export function assembleRuntime(svc: string, dir: string, opts: { installDependencies?: (command: string, dir: string) => void } = {}): RuntimeTree {
  const { stages: st } = dockerfile(svc);
  const final = st[st.length - 1];
  const buildStage = st.find((s) => s.name === 'build');
  const buildWorkdir = buildStage?.instructions.find((i) => i.cmd === 'WORKDIR')?.args ?? '/';
  const rules = parseDockerignore(fs.readFileSync(path.join(REPO, '.dockerignore'), 'utf8'));
  let npmCi = '';
  for (const ins of final.instructions) {
    if (ins.cmd === 'COPY') {
      const c = parseCopy(ins);
      for (const src of c.sources) {
        let matches: string[];
        let base: string;
        if (c.from === undefined) {
          base = REPO;
          matches = globFiles(REPO, src);
          for (const m of matches) {
            if (ignored(rules, m)) throw new Error(`line ${c.line}: COPY ${m}: left out of the build context by .dockerignore`);
          }
        } else {
          if (c.from !== 'build') throw new Error(`line ${c.line}: COPY --from=${c.from}: only the build stage is known`);
          if (!src.startsWith(`${buildWorkdir}/`)) throw new Error(`line ${c.line}: ${src} is outside the build stage's WORKDIR ${buildWorkdir}`);
          base = REPO;
          matches = globFiles(REPO, src.slice(buildWorkdir.length + 1));
        }
        if (matches.length === 0 || !matches.every((m) => fs.existsSync(path.join(base, m)))) {
          throw new Error(`line ${c.line}: COPY source ${src} does not exist${c.from ? ' after make build' : ' in the build context'}`);
        }
        for (const m of matches) copyInto(path.join(base, m), dir, c.dest, c.sources.length > 1 || matches.length > 1);
      }
    } else if (ins.cmd === 'RUN' && /\bnpm ci\b/.test(ins.args)) {
      npmCi = ins.args.split('&&').find((part) => /\bnpm ci\b/.test(part))!.trim();
      if (opts.installDependencies) opts.installDependencies(npmCi, dir);
      else linkDependencies(svc, dir);
    }
  }
  return { dir, npmCi };
}

function linkDependencies(svc: string, dir: string): void {
  const ws = `services/${svc}`;
  const { packages } = productionClosure(ws);
  const nm = path.join(dir, 'node_modules');
  fs.mkdirSync(nm, { recursive: true });
  const byName = workspaceByName();
  for (const name of packages) {
    const target = path.join(nm, name);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    const wsDir = byName.get(name);
    if (wsDir) fs.symlinkSync(path.relative(path.dirname(target), path.join(dir, wsDir)), target);
    else if (fs.existsSync(path.join(REPO, 'node_modules', name))) fs.symlinkSync(path.join(REPO, 'node_modules', name), target);
  }
  // npm links the workspace itself too.
  const self = path.join(nm, readJson<PackageJson>(path.join(REPO, ws, 'package.json')).name);
  if (!fs.existsSync(self)) {
    fs.mkdirSync(path.dirname(self), { recursive: true });
    fs.symlinkSync(path.relative(path.dirname(self), path.join(dir, ws)), self);
  }
}

/** Every file under dir (relative, '/'-separated), node_modules left out. */
export function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const p = rel ? `${rel}/${e.name}` : e.name;
      if (p === 'node_modules') continue;
      if (e.isDirectory()) walk(p);
      else out.push(p);
    }
  };
  walk('');
  return out.sort();
}
