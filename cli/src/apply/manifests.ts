// Reading manifests for apply, create and delete -f: files, directories (their .yaml, .yml
// and .json files, in name order; -R descends) and standard input ("-"); multi-document
// YAML or JSON; Lists contribute their items. Each object is checked against the API schema
// here, so a bad field is reported with its path before anything is sent.
import * as fs from 'fs';
import * as path from 'path';
import { parseAllDocuments } from 'yaml';
import { DecodeError, fromK8sJson, kindFor } from '@k8ts/api';
import type { KindInfo } from '@k8ts/api';
import { CliError } from '../errors';
import { isObject } from './merge';
import type { Json } from './merge';

export interface Manifest {
  kind: KindInfo;
  /** The document as written (Kubernetes JSON form). */
  json: { [key: string]: Json };
  /** The file (or <stdin>) and the document's position in it, for messages. */
  source: string;
}

const EXTENSIONS = ['.yaml', '.yml', '.json'];

function filesOf(p: string, recursive: boolean): string[] {
  const st = fs.statSync(p);
  if (!st.isDirectory()) return [p];
  const out: string[] = [];
  for (const e of fs.readdirSync(p, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const full = path.join(p, e.name);
    if (e.isDirectory()) {
      if (recursive) out.push(...filesOf(full, true));
    } else if (EXTENSIONS.includes(path.extname(e.name).toLowerCase())) {
      out.push(full);
    }
  }
  return out;
}

export async function readStdin(stdin: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString('utf8');
}

/** Reads every manifest named by -f values. */
export async function readManifests(paths: string[], opts: { recursive?: boolean; stdin: NodeJS.ReadableStream }): Promise<Manifest[]> {
  if (paths.length === 0) throw new CliError('must specify one of -f and -k');
  const out: Manifest[] = [];
  for (const p of paths) {
    if (p === '-') {
      out.push(...parseManifestText(await readStdin(opts.stdin), '<stdin>'));
      continue;
    }
    if (!fs.existsSync(p)) throw new CliError(`the path "${p}" does not exist`);
    const files = filesOf(p, Boolean(opts.recursive));
    if (files.length === 0 && fs.statSync(p).isDirectory()) throw new CliError(`error reading [${p}]: recognized file extensions are [.json .yaml .yml]`);
    for (const f of files) out.push(...parseManifestText(fs.readFileSync(f, 'utf8'), f));
  }
  if (out.length === 0) throw new CliError('no objects passed to apply');
  return out;
}

/** Parses multi-document YAML or JSON into manifests, checking each against the schema. */
export function parseManifestText(text: string, file: string): Manifest[] {
  const out: Manifest[] = [];
  const docs = parseAllDocuments(text, { prettyErrors: true });
  const list = Array.isArray(docs) ? docs : [docs];
  list.forEach((doc, i) => {
    const where = list.length > 1 ? `"${file}" (document ${i + 1})` : `"${file}"`;
    if (doc.errors.length > 0) throw new CliError(`error parsing ${where}: ${doc.errors[0].message}`);
    const value = doc.toJS({ maxAliasCount: 100 }) as unknown;
    if (value === null || value === undefined) return;
    collect(value, where, out);
  });
  return out;
}

function collect(value: unknown, where: string, out: Manifest[]): void {
  if (!isObject(value)) throw new CliError(`error validating ${where}: a manifest must be an object with apiVersion and kind`);
  const apiVersion = value.apiVersion;
  const kindName = value.kind;
  if (typeof apiVersion !== 'string' || !apiVersion) throw new CliError(`error validating ${where}: apiVersion not set`);
  if (typeof kindName !== 'string' || !kindName) throw new CliError(`error validating ${where}: kind not set`);
  if (kindName === 'List' || kindName.endsWith('List')) {
    const items = value.items;
    if (!Array.isArray(items)) throw new CliError(`error validating ${where}: items must be a list in a ${kindName}`);
    items.forEach((item, i) => {
      collect(item, `${where} items[${i}]`, out);
    });
    return;
  }
  const kind = kindFor(apiVersion, kindName);
  if (!kind) {
    throw new CliError(`resource mapping not found for ${where}: no matches for kind "${kindName}" in version "${apiVersion}"`);
  }
  try {
    fromK8sJson(kind.typeName, value);
  } catch (e) {
    if (e instanceof DecodeError) {
      const problems = e.problems.slice(0, 10).map((p) => `${p.field || '<root>'}: ${p.reason}`);
      throw new CliError(`error validating ${where}: ${kind.kind} ${problems.join('; ')}`);
    }
    throw e;
  }
  const md = value.metadata;
  if (md !== undefined && !isObject(md)) throw new CliError(`error validating ${where}: metadata must be an object`);
  out.push({ kind, json: value as { [key: string]: Json }, source: where });
}
