// The image table of the process runtime: what command an image name stands for. There are no
// image layers: an "image" is a command line (and optional default args, env and working dir).
//
// Built in:
//   k8ts/echo    the test HTTP server (echo.js, run with this Node.js)
//   k8ts/pause   sleeps until SIGTERM, exits 0 (pause.js)
//   node         this Node.js binary; the container's command/args are its arguments
// From a table file (--image-table): {"myimage": {"command": [...], "args": [...], "env": {...},
// "workingDir": "..."}}, re-read when it changes, so adding an image fixes ImagePullBackOff.
// Escape hatch (--allow-local-images): "local/<anything>" runs the container's command as is.
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';

export interface ImageSpec {
  /** The entrypoint: executable and fixed arguments. Empty for local/ images. */
  command: string[];
  /** Default arguments, used when the container sets neither command nor args. */
  args?: string[];
  /** Environment of the image, below the container's own. */
  env?: Record<string, string>;
  /** Default working directory. */
  workingDir?: string;
}

export interface ResolvedImage {
  /** The image name as the pod spec gave it. */
  image: string;
  /** The table key it matched ("local/" for local images). */
  key: string;
  spec: ImageSpec;
  /** "sha256:<hex>" of the entry (and of the script, for built-in images). */
  id: string;
  /** True for local/ images: the container's command runs as is. */
  local: boolean;
}

/** The path of a built-in image's script. Works from src/ (tests) and from dist/ (builds). */
export function builtinScript(name: 'echo' | 'pause'): string {
  const candidates = [path.join(__dirname, `${name}.js`), path.resolve(__dirname, '..', '..', 'src', 'images', `${name}.js`)];
  for (const c of candidates) if (fs.existsSync(c)) return c;
  throw new Error(`built-in image script ${name}.js not found (looked in ${candidates.join(', ')})`);
}

/** The built-in images. */
export function builtinImages(): Record<string, ImageSpec> {
  return {
    'k8ts/echo': { command: [process.execPath, builtinScript('echo')] },
    'k8ts/pause': { command: [process.execPath, builtinScript('pause')] },
    node: { command: [process.execPath] },
  };
}

export const LOCAL_PREFIX = 'local/';

/** The names an image may be listed under, most specific first: with and without registry and tag. */
export function imageCandidates(image: string): string[] {
  const out = [image];
  let name = image.split('@')[0];
  out.push(name);
  name = name.replace(/^(docker\.io|index\.docker\.io)\//, '').replace(/^library\//, '');
  out.push(name);
  const slash = name.lastIndexOf('/');
  const colon = name.lastIndexOf(':');
  if (colon > slash) out.push(name.slice(0, colon));
  return [...new Set(out)];
}

/** Validates the JSON of an image table file; throws with the first problem. */
export function parseImageTable(text: string, source: string): Record<string, ImageSpec> {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new Error(`${source}: not JSON: ${(err as Error).message}`);
  }
  if (!data || typeof data !== 'object' || Array.isArray(data)) throw new Error(`${source}: expected an object of image name -> {"command": [...]}`);
  const out: Record<string, ImageSpec> = {};
  for (const [name, raw] of Object.entries(data as Record<string, any>)) {
    const where = `${source}: image ${JSON.stringify(name)}`;
    if (!raw || typeof raw !== 'object') throw new Error(`${where}: expected an object`);
    const strings = (v: unknown, field: string): string[] | undefined => {
      if (v === undefined) return undefined;
      if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) throw new Error(`${where}: ${field} must be an array of strings`);
      return v as string[];
    };
    const command = strings(raw.command, 'command');
    if (!command || command.length === 0) throw new Error(`${where}: command is required`);
    const spec: ImageSpec = { command, args: strings(raw.args, 'args') };
    if (raw.env !== undefined) {
      if (typeof raw.env !== 'object' || Object.values(raw.env).some((v) => typeof v !== 'string')) {
        throw new Error(`${where}: env must be an object of strings`);
      }
      spec.env = raw.env;
    }
    if (raw.workingDir !== undefined) {
      if (typeof raw.workingDir !== 'string') throw new Error(`${where}: workingDir must be a string`);
      spec.workingDir = raw.workingDir;
    }
    out[name] = spec;
  }
  return out;
}

export interface ImageTableOptions {
  /** A JSON image table file, re-read when its modification time changes. */
  file?: string;
  /** Extra images, above the built-in ones and below the file's. */
  images?: Record<string, ImageSpec>;
  /** Whether local/<anything> images may run (the container's command as is). */
  allowLocal?: boolean;
}

export class ImageTable {
  private readonly builtin = builtinImages();
  private fileImages: Record<string, ImageSpec> = {};
  private fileVersion = '';
  private fileError: string | undefined;

  constructor(private readonly opts: ImageTableOptions = {}) {
    // A broken table file at start is a configuration error.
    if (opts.file) {
      this.reload();
      if (this.fileError) throw new Error(this.fileError);
    }
  }

  private reload(): void {
    const file = this.opts.file;
    if (!file) return;
    let st: fs.Stats;
    try {
      st = fs.statSync(file);
    } catch (err) {
      this.fileError = `image table ${file}: ${(err as Error).message}`;
      return;
    }
    // Modification time, size and inode: a rewrite within the clock's granularity still shows.
    const version = `${st.mtimeMs}:${st.size}:${st.ino}`;
    if (version === this.fileVersion) return;
    try {
      this.fileImages = parseImageTable(fs.readFileSync(file, 'utf8'), file);
      this.fileVersion = version;
      this.fileError = undefined;
    } catch (err) {
      // Keep the last good table.
      this.fileError = (err as Error).message;
    }
  }

  /** Every image name the table knows (local/ excluded). */
  names(): string[] {
    this.reload();
    return [...new Set([...Object.keys(this.fileImages), ...Object.keys(this.opts.images ?? {}), ...Object.keys(this.builtin)])].sort();
  }

  /** Resolves an image name; undefined when the table does not know it. */
  resolve(image: string): ResolvedImage | undefined {
    this.reload();
    if (image.startsWith(LOCAL_PREFIX) && this.opts.allowLocal) {
      return { image, key: LOCAL_PREFIX, spec: { command: [] }, id: digest({ local: image }), local: true };
    }
    for (const name of imageCandidates(image)) {
      const spec = this.fileImages[name] ?? this.opts.images?.[name] ?? this.builtin[name];
      if (spec) return { image, key: name, spec, id: digest(spec), local: false };
    }
    return undefined;
  }

  /** Why an image does not resolve, for the ErrImagePull message. */
  missingMessage(image: string): string {
    if (!image) return 'the container has no image';
    if (image.startsWith(LOCAL_PREFIX)) {
      return `local images are disabled on this node: ${JSON.stringify(image)} would run the container's command on the host (--allow-local-images)`;
    }
    const known = this.names().join(', ');
    const broken = this.fileError ? `; the image table file is unusable: ${this.fileError}` : '';
    return `image ${JSON.stringify(image)} is not in the image table of this node (known: ${known})${broken}`;
  }
}

const scriptHashes = new Map<string, string>();

function digest(value: unknown): string {
  const h = createHash('sha256').update(JSON.stringify(value));
  // Built-in images: the script's content is part of the image.
  const spec = value as ImageSpec;
  for (const arg of spec.command ?? []) {
    if (!arg.endsWith('.js')) continue;
    let sum = scriptHashes.get(arg);
    if (sum === undefined) {
      try {
        sum = createHash('sha256').update(fs.readFileSync(arg)).digest('hex');
      } catch {
        sum = '';
      }
      scriptHashes.set(arg, sum);
    }
    h.update(sum);
  }
  return `sha256:${h.digest('hex')}`;
}
