// get: tables per kind (or yaml, json, name, jsonpath), one or several kinds, by name or by
// selector, in one namespace or all (-A), and -w to keep printing rows as objects change.
import type { KindInfo } from '@k8ts/api';
import { isGone, isNotFound } from '@k8ts/client';
import type { KubeObject } from '@k8ts/client';
import { AlreadyReported, formatError } from '../errors';
import { asList, jsonPath, objectName, parseOutput, printTable, tableParts, toJson, toYaml } from '../printers/output';
import type { OutputSpec, TableOptions } from '../printers/output';
import { formatTable } from '../printers/table';
import { parseResourceArgs } from '../resources';
import type { ResourceSelection } from '../resources';
import type { Session } from '../session';

export interface GetOptions {
  output?: string;
  selector?: string;
  fieldSelector?: string;
  allNamespaces?: boolean;
  watch?: boolean;
  watchOnly?: boolean;
  showLabels?: boolean;
  noHeaders?: boolean;
  outputWatchEvents?: boolean;
  ignoreNotFound?: boolean;
}

interface Fetched {
  kind: KindInfo;
  items: KubeObject[];
  resourceVersion: string;
  /** Names were given (get pod x): a single object prints as itself, not as a List. */
  named: boolean;
}

function listNamespace(session: Session, kind: KindInfo, all: boolean | undefined): string {
  if (!kind.namespaced || all) return '';
  return session.namespace;
}

async function fetch(session: Session, sel: ResourceSelection, opts: GetOptions, errors: string[]): Promise<Fetched> {
  const client = session.clientset.forKind(sel.kind);
  if (sel.names.length > 0) {
    const items: KubeObject[] = [];
    for (const name of sel.names) {
      try {
        items.push(await client.get(name, { namespace: sel.kind.namespaced ? session.namespace : undefined }));
      } catch (e) {
        if (isNotFound(e) && opts.ignoreNotFound) continue;
        if (isNotFound(e)) {
          errors.push(formatError(e, { server: session.serverForErrors() }));
          continue;
        }
        throw e;
      }
    }
    const rvs = items.map((o) => Number(o.metadata?.resourceVersion ?? 0)).filter((n) => Number.isFinite(n));
    return { kind: sel.kind, items, resourceVersion: rvs.length > 0 ? String(Math.max(...rvs)) : '', named: true };
  }
  const list = await client.listAll({
    namespace: listNamespace(session, sel.kind, opts.allNamespaces),
    labelSelector: opts.selector,
    fieldSelector: opts.fieldSelector,
  });
  const items = [...list.items].sort(
    (a, b) =>
      (a.metadata?.namespace ?? '').localeCompare(b.metadata?.namespace ?? '') || (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''),
  );
  return { kind: sel.kind, items, resourceVersion: list.resourceVersion, named: false };
}

function noResources(session: Session, opts: GetOptions, kinds: KindInfo[]): string {
  if (opts.allNamespaces || kinds.every((k) => !k.namespaced)) return 'No resources found\n';
  return `No resources found in ${session.namespace} namespace.\n`;
}

/** Prints fetched objects in the requested format. */
export function render(fetched: Fetched[], spec: OutputSpec, tableOpts: TableOptions): string {
  const all = fetched.flatMap((f) => f.items.map((o) => ({ kind: f.kind, obj: o })));
  switch (spec.format) {
    case 'yaml':
    case 'json':
    case 'jsonpath': {
      const single = fetched.length === 1 && fetched[0].named && all.length === 1;
      const data = single ? toJson(all[0].kind, all[0].obj) : asList(all.map((x) => toJson(x.kind, x.obj)));
      if (spec.format === 'yaml') return toYaml(data);
      if (spec.format === 'json') return `${JSON.stringify(data, null, 4)}\n`;
      return jsonPath(spec.template ?? '', data);
    }
    case 'name':
      return all.map((x) => `${objectName(x.kind, x.obj)}\n`).join('');
    default: {
      const withKind = fetched.length > 1 || tableOpts.withKind;
      return fetched
        .filter((f) => f.items.length > 0)
        .map((f) => printTable(f.kind, f.items, { ...tableOpts, withKind }))
        .join('\n');
    }
  }
}

export async function getCommand(session: Session, args: string[], opts: GetOptions): Promise<void> {
  const selections = parseResourceArgs(args);
  const spec = parseOutput(opts.output);
  const tableOpts: TableOptions = {
    wide: spec.format === 'wide',
    withNamespace: opts.allNamespaces,
    showLabels: opts.showLabels,
    noHeaders: opts.noHeaders,
  };
  const errors: string[] = [];
  const fetched: Fetched[] = [];
  for (const sel of selections) fetched.push(await fetch(session, sel, opts, errors));
  const anyNamed = selections.some((s) => s.names.length > 0);

  // With --output-watch-events the initial objects are printed as ADDED events by the watch.
  if (!opts.watchOnly && !(opts.watch && opts.outputWatchEvents)) {
    const text = render(fetched, spec, tableOpts);
    if (text) session.io.out(text);
    else if (!anyNamed && errors.length === 0 && !opts.watch && (spec.format === 'table' || spec.format === 'wide')) {
      session.io.err(noResources(session, opts, selections.map((s) => s.kind)));
    }
  }
  for (const e of errors) session.io.err(e);
  if (opts.watch || opts.watchOnly) {
    await watchAll(session, fetched, selections, spec, tableOpts, opts);
    return;
  }
  if (errors.length > 0) throw new AlreadyReported();
}

/** Column widths of the initial table, so that watch rows line up under it. */
function widthsOf(rows: string[][]): number[] {
  const w: number[] = [];
  for (const r of rows) {
    r.forEach((c, i) => {
      w[i] = Math.max(w[i] ?? 0, c.length);
    });
  }
  return w;
}

function padRow(row: string[], widths: number[]): string {
  return `${row
    .map((c, i) => (i === row.length - 1 ? c : c.padEnd(Math.max(widths[i] ?? 0, c.length) + 3)))
    .join('')
    .trimEnd()}\n`;
}

async function watchAll(
  session: Session,
  fetched: Fetched[],
  selections: ResourceSelection[],
  spec: OutputSpec,
  tableOpts: TableOptions,
  opts: GetOptions,
): Promise<void> {
  const withKind = fetched.length > 1;
  const eventCol = Boolean(opts.outputWatchEvents);
  let headerPrinted = !opts.watchOnly && !eventCol && fetched.some((f) => f.items.length > 0);
  const widths = new Map<KindInfo, number[]>();
  for (const f of fetched) {
    const parts = tableParts(f.kind, f.items, { ...tableOpts, withKind });
    widths.set(f.kind, widthsOf([parts.headers, ...parts.rows]));
  }
  const printEvent = (kind: KindInfo, type: string, obj: KubeObject) => {
    if (spec.format === 'table' || spec.format === 'wide') {
      const parts = tableParts(kind, [obj], { ...tableOpts, withKind });
      const w = widths.get(kind) ?? [];
      let out = '';
      const headers = eventCol ? ['EVENT', ...parts.headers] : parts.headers;
      const row = eventCol ? [type, ...parts.rows[0]] : parts.rows[0];
      const ww = eventCol ? [8, ...w] : w;
      if (!headerPrinted && !opts.noHeaders) {
        out += padRow(headers, ww);
        headerPrinted = true;
      }
      out += padRow(row, ww);
      session.io.out(out);
      return;
    }
    session.io.out(render([{ kind, items: [obj], resourceVersion: '', named: true }], spec, tableOpts));
  };
  if (eventCol && !opts.watchOnly) {
    for (const f of fetched) for (const o of f.items) printEvent(f.kind, 'ADDED', o);
  }
  await Promise.all(
    fetched.map(async (f, i) => {
      const sel = selections[i];
      let rv = f.resourceVersion;
      const names = new Set(sel.names);
      const client = session.clientset.forKind(f.kind);
      for (;;) {
        const fieldSelector = sel.names.length === 1 ? `metadata.name=${sel.names[0]}` : opts.fieldSelector;
        const w = client.watch({
          namespace: sel.names.length > 0 ? (f.kind.namespaced ? session.namespace : '') : listNamespace(session, f.kind, opts.allNamespaces),
          labelSelector: opts.selector,
          fieldSelector,
          resourceVersion: rv,
        });
        try {
          for await (const ev of w) {
            if (ev.type === 'BOOKMARK') {
              rv = ev.object.metadata?.resourceVersion ?? rv;
              continue;
            }
            rv = ev.object.metadata?.resourceVersion ?? rv;
            if (names.size > 0 && !names.has(ev.object.metadata?.name ?? '')) continue;
            printEvent(f.kind, ev.type, ev.object);
          }
          return;
        } catch (e) {
          if (!isGone(e)) throw e;
          // Too old to resume: list again and go on from there.
          const list = await client.list({ namespace: listNamespace(session, f.kind, opts.allNamespaces), labelSelector: opts.selector, limit: 1 });
          rv = list.resourceVersion;
        }
      }
    }),
  );
}

export { formatTable };
