// The kinds k8ts serves: how a manifest's apiVersion and kind map onto a protobuf message,
// the resource name used in store keys and RBAC rules, and whether the kind is namespaced.
// yaml (72 modules) is loaded on first use: most processes never parse a manifest, and every
// one of them pays for what it loads at start.
const yaml = (): typeof import('yaml') => require('yaml');
import { fromK8sJson, DecodeError, FieldProblem } from './json';

export interface KindInfo {
  /** API group: '' for the core group, 'apps', 'coordination.k8s.io', ... */
  group: string;
  version: string;
  /** apiVersion as written in manifests: 'v1', 'apps/v1', ... */
  apiVersion: string;
  kind: string;
  /** Lower-case plural resource name: 'pods', 'deployments', ... (store keys, RBAC). */
  resource: string;
  /** Short names kubectl accepts, e.g. 'po', 'svc', 'deploy'. */
  shortNames: string[];
  namespaced: boolean;
  /** Fully-qualified protobuf message, e.g. 'k8ts.core.v1.Pod'. */
  typeName: string;
  /** Its list message, e.g. 'k8ts.core.v1.PodList'. */
  listTypeName: string;
}

function k(group: string, kind: string, resource: string, namespaced: boolean, shortNames: string[] = []): KindInfo {
  const pkg = group === '' ? 'core' : group.split('.')[0];
  const version = 'v1';
  return {
    group,
    version,
    apiVersion: group === '' ? version : `${group}/${version}`,
    kind,
    resource,
    shortNames,
    namespaced,
    typeName: `k8ts.${pkg}.${version}.${kind}`,
    listTypeName: `k8ts.${pkg}.${version}.${kind}List`,
  };
}

/** Every kind k8ts serves. */
export const KINDS: readonly KindInfo[] = [
  k('', 'Namespace', 'namespaces', false, ['ns']),
  k('', 'Node', 'nodes', false, ['no']),
  k('', 'Pod', 'pods', true, ['po']),
  k('', 'Service', 'services', true, ['svc']),
  k('', 'Endpoints', 'endpoints', true, ['ep']),
  k('', 'ServiceAccount', 'serviceaccounts', true, ['sa']),
  k('', 'Secret', 'secrets', true),
  k('', 'ConfigMap', 'configmaps', true, ['cm']),
  k('', 'Event', 'events', true, ['ev']),
  k('apps', 'ReplicaSet', 'replicasets', true, ['rs']),
  k('apps', 'Deployment', 'deployments', true, ['deploy']),
  k('batch', 'Job', 'jobs', true),
  k('coordination.k8s.io', 'Lease', 'leases', true),
  k('rbac.authorization.k8s.io', 'Role', 'roles', true),
  k('rbac.authorization.k8s.io', 'ClusterRole', 'clusterroles', false),
  k('rbac.authorization.k8s.io', 'RoleBinding', 'rolebindings', true),
  k('rbac.authorization.k8s.io', 'ClusterRoleBinding', 'clusterrolebindings', false),
];

/** Finds a kind by apiVersion and kind, as written in a manifest. */
export function kindFor(apiVersion: string, kind: string): KindInfo | undefined {
  return KINDS.find((x) => x.apiVersion === apiVersion && x.kind === kind);
}

/** Finds a kind by any name kubectl accepts: resource, singular, short name or Kind, any case. */
export function kindByName(name: string): KindInfo | undefined {
  const n = name.toLowerCase().split('.')[0];
  return KINDS.find(
    (x) => x.resource === n || x.kind.toLowerCase() === n || x.shortNames.includes(n) || x.resource === `${n}s`,
  );
}

/** An object read from a manifest: its kind and the decoded message. */
export interface ManifestObject<T = Record<string, any>> {
  kind: KindInfo;
  object: T;
  /** Where it came from: 'file.yaml#2' (document index, from 0). */
  source: string;
}

/** A manifest document that could not be read; problems carry field paths. */
export class ManifestError extends Error {
  constructor(
    readonly source: string,
    message: string,
    readonly problems: FieldProblem[] = [],
  ) {
    super(`${source}: ${message}`);
    this.name = 'ManifestError';
  }
}

/**
 * Parses a multi-document YAML (or JSON) text into typed objects. A document of kind List
 * contributes its items. Empty documents are skipped. Throws ManifestError for the first bad
 * document, naming it and every bad field in it.
 */
export function parseManifests(text: string, sourceName = '<stdin>'): ManifestObject[] {
  const out: ManifestObject[] = [];
  const docs = yaml().parseAllDocuments(text, { prettyErrors: true });
  const list = Array.isArray(docs) ? docs : [docs];
  list.forEach((doc, i) => {
    const source = `${sourceName}#${i}`;
    if (doc.errors.length > 0) throw new ManifestError(source, `invalid YAML: ${doc.errors[0].message}`);
    const json = doc.toJS({ maxAliasCount: 100 });
    if (json === null || json === undefined) return;
    decodeDocument(json, source, out);
  });
  return out;
}

function decodeDocument(json: unknown, source: string, out: ManifestObject[]): void {
  if (typeof json !== 'object' || Array.isArray(json) || json === null) {
    throw new ManifestError(source, 'a manifest must be an object with apiVersion and kind');
  }
  const { apiVersion, kind } = json as { apiVersion?: unknown; kind?: unknown };
  if (typeof apiVersion !== 'string' || apiVersion === '') throw new ManifestError(source, "'apiVersion' is required");
  if (typeof kind !== 'string' || kind === '') throw new ManifestError(source, "'kind' is required");
  if (kind === 'List' || kind.endsWith('List')) {
    const items = (json as { items?: unknown }).items;
    if (!Array.isArray(items)) throw new ManifestError(source, `'items' must be a list in a ${kind}`);
    items.forEach((item, i) => {
      decodeDocument(item, `${source}.items[${i}]`, out);
    });
    return;
  }
  const info = kindFor(apiVersion, kind);
  if (!info) {
    throw new ManifestError(source, `no matches for kind "${kind}" in version "${apiVersion}"`);
  }
  try {
    out.push({ kind: info, object: fromK8sJson(info.typeName, json), source });
  } catch (e) {
    if (e instanceof DecodeError) throw new ManifestError(source, e.message, e.problems);
    throw e;
  }
}

/** Parses a single YAML or JSON document (no kind checks). */
export function parseYaml(text: string): unknown {
  return yaml().parseDocument(text).toJS();
}
