// Resource arguments as kubectl reads them: `pods`, `pods,svc`, `pod web-1 web-2`,
// `deployment/web`, `deployments.apps/web`, and the names kinds are printed under.
import { KINDS, kindByName } from '@k8ts/api';
import type { KindInfo } from '@k8ts/api';
import { CliError } from './errors';
import { k8tsCommand } from './self';

/** What `get all` lists, as kubectl's "all" category. */
const ALL = ['pods', 'services', 'deployments', 'replicasets', 'jobs'];

/** The kind for a name kubectl accepts (plural, singular, short, Kind, with .group), or an error. */
export function resolveKind(name: string): KindInfo {
  const n = name.trim();
  const dot = n.indexOf('.');
  const base = dot >= 0 ? n.slice(0, dot) : n;
  const group = dot >= 0 ? n.slice(dot + 1).toLowerCase() : undefined;
  const kind = kindByName(base);
  if (!kind || (group !== undefined && group !== kind.group && !(group === 'v1' && kind.group === ''))) {
    throw new CliError(`the server doesn't have a resource type "${n}"`);
  }
  return kind;
}

/** `deployment.apps`, `pod`: how kubectl names a kind in `-o name` and in messages. */
export function kindLabel(kind: KindInfo): string {
  const k = kind.kind.toLowerCase();
  return kind.group ? `${k}.${kind.group}` : k;
}

/** `deployments.apps`, `pods`: the resource with its group, as in server messages. */
export function resourceLabel(kind: KindInfo): string {
  return kind.group ? `${kind.resource}.${kind.group}` : kind.resource;
}

/** One kind and the names asked for (none: every object of the kind). */
export interface ResourceSelection {
  kind: KindInfo;
  names: string[];
}

/**
 * Reads resource arguments: `TYPE[,TYPE...] [NAME...]` or `TYPE/NAME...`. Kinds keep the order
 * in which they were first named.
 */
export function parseResourceArgs(args: string[]): ResourceSelection[] {
  if (args.length === 0) {
    throw new CliError(
      `you must specify the type of resource to get. Use "${k8tsCommand()} api-resources" for a complete list of supported resources.`,
    );
  }
  const slashed = args.filter((a) => a.includes('/'));
  if (slashed.length > 0) {
    if (slashed.length !== args.length) {
      const k8ts = k8tsCommand();
      throw new CliError(
        `there is no need to specify a resource type as a separate argument when passing arguments in resource/name form (e.g. '${k8ts} get resource/<resource_name>' instead of '${k8ts} get resource resource/<resource_name>')`,
      );
    }
    const out: ResourceSelection[] = [];
    for (const a of args) {
      const i = a.indexOf('/');
      const type = a.slice(0, i);
      const name = a.slice(i + 1);
      if (!type || !name) throw new CliError(`arguments in resource/name form must have a single resource and name: "${a}"`);
      const kind = resolveKind(type);
      const sel = out.find((s) => s.kind === kind);
      if (sel) sel.names.push(name);
      else out.push({ kind, names: [name] });
    }
    return out;
  }
  const [types, ...names] = args;
  const kinds: KindInfo[] = [];
  for (const t of types.split(',')) {
    if (t === '') continue;
    if (t.toLowerCase() === 'all') {
      for (const r of ALL) kinds.push(resolveKind(r));
      continue;
    }
    const k = resolveKind(t);
    if (!kinds.includes(k)) kinds.push(k);
  }
  if (kinds.length === 0) throw new CliError(`no resource type in "${types}"`);
  if (names.length > 0 && kinds.length > 1) {
    throw new CliError('you must specify only one resource type when giving names; use TYPE/NAME to name objects of several types');
  }
  return kinds.map((kind) => ({ kind, names: [...names] }));
}

/** Parses `TYPE/NAME` or `TYPE NAME` (exactly one object), e.g. for scale and rollout. */
export function parseSingleResource(args: string[], allowed?: string[]): { kind: KindInfo; name: string } {
  let type: string;
  let name: string;
  if (args.length === 1 && args[0].includes('/')) {
    const i = args[0].indexOf('/');
    type = args[0].slice(0, i);
    name = args[0].slice(i + 1);
  } else if (args.length === 2) {
    [type, name] = args;
  } else {
    throw new CliError('expected one resource: TYPE/NAME or TYPE NAME');
  }
  const kind = resolveKind(type);
  if (allowed && !allowed.includes(kind.kind)) {
    throw new CliError(`no ${allowed.length === 1 ? allowed[0] : 'such'} named ${name}: ${kindLabel(kind)} is not supported here (${allowed.join(', ')})`);
  }
  if (!name) throw new CliError('a resource name is required');
  return { kind, name };
}

export { KINDS };
