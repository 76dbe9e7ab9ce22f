// delete TYPE NAME..., TYPE -l SELECTOR, TYPE --all, or -f FILE: with a grace period, a
// cascade policy, and (by default, as kubectl) waiting until the objects are gone.
import type { KindInfo } from '@k8ts/api';
import { isNotFound } from '@k8ts/client';
import type { DeleteOptions as ClientDeleteOptions } from '@k8ts/client';
import { isObject } from '../apply/merge';
import { readManifests } from '../apply/manifests';
import { AlreadyReported, CliError, formatError } from '../errors';
import { parseResourceArgs, resourceLabel } from '../resources';
import { parseTimeout } from '../session';
import type { Session } from '../session';
import { namespaceFor } from './apply';

export interface DeleteOptions {
  filename?: string[];
  recursive?: boolean;
  selector?: string;
  fieldSelector?: string;
  all?: boolean;
  allNamespaces?: boolean;
  gracePeriod?: string;
  now?: boolean;
  force?: boolean;
  cascade?: string;
  wait?: boolean;
  timeout?: string;
  ignoreNotFound?: boolean;
  output?: string;
}

interface Target {
  kind: KindInfo;
  name: string;
  namespace?: string;
}

export function cascadePolicy(value: string | undefined): ClientDeleteOptions['propagationPolicy'] {
  switch ((value ?? 'background').toLowerCase()) {
    case 'background':
    case 'true':
      return 'Background';
    case 'foreground':
      return 'Foreground';
    case 'orphan':
    case 'false':
      return 'Orphan';
    default:
      throw new CliError(`invalid cascade value (${value}). Must be "background", "foreground", or "orphan".`);
  }
}

export function gracePeriodOf(opts: DeleteOptions): number | undefined {
  let grace = opts.gracePeriod === undefined ? -1 : Number(opts.gracePeriod);
  if (!Number.isInteger(grace)) throw new CliError(`invalid grace period "${opts.gracePeriod}": must be an integer`);
  if (opts.now) {
    if (grace !== -1) throw new CliError('--now and --grace-period cannot be specified together');
    grace = 1;
  }
  if (opts.force && grace === -1) grace = 0;
  if (grace === 0 && !opts.force) grace = 1;
  return grace < 0 ? undefined : grace;
}

async function targets(session: Session, args: string[], opts: DeleteOptions): Promise<Target[]> {
  if (opts.filename && opts.filename.length > 0) {
    if (args.length > 0) throw new CliError('cannot give resource arguments together with -f');
    const manifests = await readManifests(opts.filename, { recursive: opts.recursive, stdin: session.io.stdin });
    return manifests.map((m) => {
      const md = isObject(m.json.metadata) ? m.json.metadata : {};
      return { kind: m.kind, name: String(md.name ?? ''), namespace: namespaceFor(m, session) };
    });
  }
  if (args.length === 0) throw new CliError('You must provide one or more resources by argument or filename.');
  const out: Target[] = [];
  for (const sel of parseResourceArgs(args)) {
    const ns = sel.kind.namespaced ? session.namespace : undefined;
    if (sel.names.length > 0) {
      if (opts.all || opts.selector) throw new CliError('name cannot be provided when a selector is specified');
      for (const name of sel.names) out.push({ kind: sel.kind, name, namespace: ns });
      continue;
    }
    if (!opts.all && !opts.selector && !opts.fieldSelector) {
      throw new CliError('resource(s) were provided, but no name was specified');
    }
    const list = await session.clientset.forKind(sel.kind).listAll({
      namespace: sel.kind.namespaced && !opts.allNamespaces ? session.namespace : '',
      labelSelector: opts.selector,
      fieldSelector: opts.fieldSelector,
    });
    for (const o of list.items) out.push({ kind: sel.kind, name: o.metadata?.name ?? '', namespace: o.metadata?.namespace || ns });
  }
  return out;
}

/** Polls until the object with this uid is gone (or replaced by another of the same name). */
export async function waitGone(session: Session, t: Target, uid: string | undefined, deadline: number): Promise<boolean> {
  const client = session.clientset.forKind(t.kind);
  for (;;) {
    try {
      const o = await client.get(t.name, { namespace: t.namespace });
      if (uid && o.metadata?.uid && o.metadata.uid !== uid) return true;
    } catch (e) {
      if (isNotFound(e)) return true;
      throw e;
    }
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function deleteCommand(session: Session, args: string[], opts: DeleteOptions): Promise<void> {
  const list = await targets(session, args, opts);
  const grace = gracePeriodOf(opts);
  const propagationPolicy = cascadePolicy(opts.cascade);
  const wait = opts.wait ?? true;
  const timeoutMs = parseTimeout(opts.timeout) || 24 * 3600 * 1000;
  if (list.length === 0 && !opts.ignoreNotFound) {
    session.io.err(`No resources found${opts.allNamespaces ? '' : ` in ${session.namespace} namespace`}.\n`);
    return;
  }
  let failed = 0;
  const deleted: { t: Target; uid?: string }[] = [];
  if (opts.force && grace === 0) session.io.err('Warning: Immediate deletion does not wait for confirmation that the running resource has been terminated. The resource may continue to run on the cluster indefinitely.\n');
  for (const t of list) {
    try {
      const last = await session.clientset.forKind(t.kind).delete(t.name, { namespace: t.namespace, gracePeriodSeconds: grace, propagationPolicy });
      deleted.push({ t, uid: last.metadata?.uid });
      if (opts.output === 'name') session.io.out(`${t.kind.kind.toLowerCase()}${t.kind.group ? `.${t.kind.group}` : ''}/${t.name}\n`);
      else session.io.out(`${t.kind.kind.toLowerCase()}${t.kind.group ? `.${t.kind.group}` : ''} "${t.name}" deleted\n`);
    } catch (e) {
      if (isNotFound(e) && opts.ignoreNotFound) continue;
      failed++;
      session.io.err(formatError(e, { server: session.serverForErrors() }));
    }
  }
  if (wait && !(opts.force && grace === 0)) {
    const deadline = Date.now() + timeoutMs;
    for (const { t, uid } of deleted) {
      if (!(await waitGone(session, t, uid, deadline))) {
        throw new CliError(`timed out waiting for the condition on ${resourceLabel(t.kind)}/${t.name}`);
      }
    }
  }
  if (failed > 0) throw new AlreadyReported();
}
