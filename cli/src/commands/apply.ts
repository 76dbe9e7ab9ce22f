// apply -f and create -f: create what does not exist; for apply, update what does by
// merging the manifest over the live object (see apply/merge.ts), and leave alone what
// already matches. Prints one line per object, as kubectl: `deployment.apps/web created`,
// `... configured`, `... unchanged`.
import { fromK8sJson } from '@k8ts/api';
import { isAlreadyExists, isConflict, isNotFound } from '@k8ts/client';
import type { KubeObject } from '@k8ts/client';
import { applyPatch, isObject, jsonEqual, withLastApplied } from '../apply/merge';
import type { Json } from '../apply/merge';
import { readManifests } from '../apply/manifests';
import type { Manifest } from '../apply/manifests';
import { AlreadyReported, CliError, formatError } from '../errors';
import { toJson } from '../printers/output';
import { kindLabel } from '../resources';
import type { Session } from '../session';

export interface ApplyOptions {
  filename: string[];
  recursive?: boolean;
  dryRun?: string;
  output?: string;
}

type JsonObject = { [key: string]: Json };

/** The namespace an object goes to: its own, else the session's; a clash with -n is an error. */
export function namespaceFor(m: Manifest, session: Session): string | undefined {
  if (!m.kind.namespaced) return undefined;
  const md = isObject(m.json.metadata) ? m.json.metadata : {};
  const own = typeof md.namespace === 'string' && md.namespace ? md.namespace : undefined;
  const conn = session.connection;
  if (own && conn.namespaceExplicit && own !== conn.namespace) {
    throw new CliError(
      `the namespace from the provided object "${own}" does not match the namespace "${conn.namespace}". You must pass '--namespace=${own}' to perform this operation.`,
    );
  }
  return own ?? conn.namespace;
}

function nameOf(m: Manifest): string {
  const md = isObject(m.json.metadata) ? m.json.metadata : {};
  return typeof md.name === 'string' ? md.name : '';
}

function withNamespace(json: JsonObject, ns: string | undefined): JsonObject {
  if (ns === undefined) return json;
  const md = isObject(json.metadata) ? { ...json.metadata } : {};
  md.namespace = ns;
  return { ...json, metadata: md };
}

function dryRunMode(value: string | undefined): 'none' | 'client' | 'server' {
  if (value === undefined || value === 'none' || value === 'false') return 'none';
  if (value === 'client' || value === 'true' || value === '') return 'client';
  if (value === 'server') return 'server';
  throw new CliError(`Invalid dry-run value (${value}). Must be "none", "server", or "client".`);
}

const suffix = (mode: 'none' | 'client' | 'server') => (mode === 'client' ? ' (dry run)' : mode === 'server' ? ' (server dry run)' : '');

export type ApplyResult = 'created' | 'configured' | 'unchanged';

/** Applies one manifest; resolves with what happened. */
export async function applyOne(session: Session, m: Manifest, mode: 'none' | 'client' | 'server' = 'none'): Promise<ApplyResult> {
  const name = nameOf(m);
  if (!name) {
    const md = isObject(m.json.metadata) ? m.json.metadata : {};
    if (md.generateName) throw new CliError(`from ${m.source}: cannot use generate name with apply`);
    throw new CliError(`error validating ${m.source}: metadata.name: Required value: name or generateName is required`);
  }
  const ns = namespaceFor(m, session);
  const manifest = withNamespace(m.json, ns);
  const client = session.clientset.forKind(m.kind);
  for (let attempt = 0; ; attempt++) {
    let live: KubeObject;
    try {
      live = await client.get(name, { namespace: ns });
    } catch (e) {
      if (!isNotFound(e)) throw e;
      if (mode === 'client') return 'created';
      const obj = fromK8sJson<KubeObject>(m.kind.typeName, withLastApplied(manifest));
      try {
        await client.create(obj, { dryRun: mode === 'server' });
      } catch (err) {
        // Created by someone else meanwhile: apply over it.
        if (isAlreadyExists(err) && attempt < 5) continue;
        throw err;
      }
      return 'created';
    }
    const liveJson = toJson(m.kind, live) as JsonObject;
    const merged = applyPatch(m.kind.typeName, liveJson, manifest);
    const decoded = fromK8sJson<KubeObject>(m.kind.typeName, merged);
    if (jsonEqual(toJson(m.kind, decoded), liveJson)) return 'unchanged';
    if (mode === 'client') return 'configured';
    try {
      await client.update(decoded, { dryRun: mode === 'server' });
      return 'configured';
    } catch (e) {
      if (isConflict(e) && attempt < 5) continue;
      throw e;
    }
  }
}

export async function applyCommand(session: Session, opts: ApplyOptions): Promise<void> {
  const mode = dryRunMode(opts.dryRun);
  const manifests = await readManifests(opts.filename, { recursive: opts.recursive, stdin: session.io.stdin });
  let failed = 0;
  for (const m of manifests) {
    try {
      const result = await applyOne(session, m, mode);
      if (opts.output === 'name') session.io.out(`${kindLabel(m.kind)}/${nameOf(m)}\n`);
      else session.io.out(`${kindLabel(m.kind)}/${nameOf(m)} ${result}${suffix(mode)}\n`);
    } catch (e) {
      failed++;
      session.io.err(formatError(e, { server: session.serverForErrors() }));
    }
  }
  if (failed > 0) throw new AlreadyReported();
}

export async function createFromFiles(session: Session, opts: ApplyOptions): Promise<void> {
  const mode = dryRunMode(opts.dryRun);
  const manifests = await readManifests(opts.filename, { recursive: opts.recursive, stdin: session.io.stdin });
  let failed = 0;
  for (const m of manifests) {
    try {
      const ns = namespaceFor(m, session);
      const obj = fromK8sJson<KubeObject>(m.kind.typeName, withNamespace(m.json, ns));
      let name = nameOf(m);
      if (mode !== 'client') {
        const created = await session.clientset.forKind(m.kind).create(obj, { dryRun: mode === 'server' });
        name = created.metadata?.name ?? name;
      }
      if (opts.output === 'name') session.io.out(`${kindLabel(m.kind)}/${name}\n`);
      else session.io.out(`${kindLabel(m.kind)}/${name} created${suffix(mode)}\n`);
    } catch (e) {
      failed++;
      session.io.err(formatError(e, { server: session.serverForErrors() }));
    }
  }
  if (failed > 0) throw new AlreadyReported();
}
