// API discovery, as kubectl and client libraries read it: the legacy documents (/api,
// /apis, /api/v1, /apis/{group}/{version}) and the aggregated one (apidiscovery.k8s.io/v2,
// asked for with `Accept: application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList`).
// Both are built from the table of kinds (KINDS) plus the subresources and the review
// resources the HTTP API serves, so `kubectl api-resources`, short names and the `all`
// category follow what the server really has.
import { KINDS, type KindInfo } from '@k8ts/api';

/** One resource (or subresource) of a group-version, as discovery lists it. */
export interface DiscoveredResource {
  name: string;
  singularName: string;
  namespaced: boolean;
  group: string;
  version: string;
  kind: string;
  verbs: string[];
  shortNames?: string[];
  categories?: string[];
  /** For a subresource, the group/version/kind of what it answers with when not the parent's. */
  responseKind?: { group: string; version: string; kind: string };
}

const OBJECT_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
/** The `all` category of kubectl get all, as Kubernetes assigns it. */
const ALL = new Set(['pods', 'services', 'replicasets', 'deployments', 'jobs']);
/** Kinds with a status subresource. */
const WITH_STATUS = new Set(['namespaces', 'nodes', 'pods', 'services', 'replicasets', 'deployments', 'jobs']);

function kindResources(k: KindInfo): DiscoveredResource[] {
  const base = { namespaced: k.namespaced, group: k.group, version: k.version, kind: k.kind, singularName: '' };
  const out: DiscoveredResource[] = [
    {
      ...base,
      name: k.resource,
      singularName: k.kind.toLowerCase(),
      verbs: OBJECT_VERBS,
      ...(k.shortNames.length > 0 ? { shortNames: k.shortNames } : {}),
      ...(ALL.has(k.resource) ? { categories: ['all'] } : {}),
    },
  ];
  if (WITH_STATUS.has(k.resource)) out.push({ ...base, name: `${k.resource}/status`, verbs: ['get', 'patch', 'update'] });
  if (k.resource === 'deployments' || k.resource === 'replicasets') {
    out.push({ ...base, name: `${k.resource}/scale`, kind: 'Scale', verbs: ['get', 'patch', 'update'], responseKind: { group: 'autoscaling', version: 'v1', kind: 'Scale' } });
  }
  if (k.resource === 'pods') {
    out.push({ ...base, name: 'pods/binding', kind: 'Binding', verbs: ['create'], responseKind: { group: '', version: 'v1', kind: 'Binding' } });
    out.push({ ...base, name: 'pods/eviction', kind: 'Eviction', verbs: ['create'], responseKind: { group: 'policy', version: 'v1', kind: 'Eviction' } });
    out.push({ ...base, name: 'pods/log', kind: 'Pod', verbs: ['get'] });
  }
  if (k.resource === 'serviceaccounts') {
    out.push({ ...base, name: 'serviceaccounts/token', kind: 'TokenRequest', verbs: ['create'], responseKind: { group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest' } });
  }
  return out;
}

/** A create-only resource outside KINDS (the access reviews). */
export interface ExtraResource {
  group: string;
  version: string;
  resource: string;
  kind: string;
  namespaced: boolean;
}

export class Discovery {
  /** group-version ("v1", "apps/v1") -> its resources, in order. */
  private readonly byGroupVersion = new Map<string, DiscoveredResource[]>();
  /** Groups in order, each with its versions. */
  private readonly groups: { name: string; versions: string[] }[] = [];

  constructor(extra: readonly ExtraResource[] = []) {
    const add = (r: DiscoveredResource) => {
      const gv = r.group ? `${r.group}/${r.version}` : r.version;
      let list = this.byGroupVersion.get(gv);
      if (!list) {
        list = [];
        this.byGroupVersion.set(gv, list);
        if (r.group) {
          const g = this.groups.find((x) => x.name === r.group);
          if (g) g.versions.push(r.version);
          else this.groups.push({ name: r.group, versions: [r.version] });
        }
      }
      list.push(r);
    };
    for (const k of KINDS) for (const r of kindResources(k)) add(r);
    for (const e of extra) {
      add({ name: e.resource, singularName: e.kind.toLowerCase(), namespaced: e.namespaced, group: e.group, version: e.version, kind: e.kind, verbs: ['create'] });
    }
  }

  /** GET /api */
  apiVersions(serverAddress: string): Record<string, unknown> {
    return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
  }

  private groupJson(g: { name: string; versions: string[] }): Record<string, unknown> {
    const versions = g.versions.map((v) => ({ groupVersion: `${g.name}/${v}`, version: v }));
    return { name: g.name, versions, preferredVersion: versions[0] };
  }

  /** GET /apis */
  apiGroupList(): Record<string, unknown> {
    return { kind: 'APIGroupList', apiVersion: 'v1', groups: this.groups.map((g) => this.groupJson(g)) };
  }

  /** GET /apis/{group} */
  apiGroup(name: string): Record<string, unknown> | undefined {
    const g = this.groups.find((x) => x.name === name);
    return g ? { kind: 'APIGroup', apiVersion: 'v1', ...this.groupJson(g) } : undefined;
  }

  /** GET /api/v1 or /apis/{group}/{version} */
  resourceList(groupVersion: string): Record<string, unknown> | undefined {
    const list = this.byGroupVersion.get(groupVersion);
    if (!list) return undefined;
    return {
      kind: 'APIResourceList',
      apiVersion: 'v1',
      groupVersion,
      resources: list.map((r) => ({
        name: r.name,
        singularName: r.singularName,
        namespaced: r.namespaced,
        ...(r.responseKind && r.responseKind.group !== r.group ? { group: r.responseKind.group, version: r.responseKind.version } : {}),
        kind: r.kind,
        verbs: r.verbs,
        ...(r.shortNames ? { shortNames: r.shortNames } : {}),
        ...(r.categories ? { categories: r.categories } : {}),
      })),
    };
  }

  /** Every group-version served ("v1", "apps/v1", ...). */
  groupVersions(): string[] {
    return [...this.byGroupVersion.keys()];
  }

  /** The aggregated document of the core group (/api) or of every named group (/apis). */
  aggregated(legacy: boolean): Record<string, unknown> {
    const items = legacy
      ? [this.aggregatedGroup('', ['v1'])]
      : this.groups.map((g) => this.aggregatedGroup(g.name, g.versions));
    return { kind: 'APIGroupDiscoveryList', apiVersion: 'apidiscovery.k8s.io/v2', metadata: {}, items };
  }

  private aggregatedGroup(group: string, versions: string[]): Record<string, unknown> {
    return {
      metadata: { name: group, creationTimestamp: null },
      versions: versions.map((v) => {
        const list = this.byGroupVersion.get(group ? `${group}/${v}` : v) ?? [];
        const top = list.filter((r) => !r.name.includes('/'));
        return {
          version: v,
          freshness: 'Current',
          resources: top.map((r) => {
            const subs = list.filter((s) => s.name.startsWith(`${r.name}/`));
            return {
              resource: r.name,
              responseKind: { group: r.group, version: r.version, kind: r.kind },
              scope: r.namespaced ? 'Namespaced' : 'Cluster',
              singularResource: r.singularName,
              verbs: r.verbs,
              ...(r.shortNames ? { shortNames: r.shortNames } : {}),
              ...(r.categories ? { categories: r.categories } : {}),
              ...(subs.length > 0
                ? {
                    subresources: subs.map((s) => ({
                      subresource: s.name.slice(r.name.length + 1),
                      responseKind: s.responseKind ?? { group: r.group, version: r.version, kind: r.kind },
                      verbs: s.verbs,
                    })),
                  }
                : {}),
            };
          }),
        };
      }),
    };
  }
}
