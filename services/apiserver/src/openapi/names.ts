// Kubernetes' names for the API's types and groups, as its OpenAPI documents spell them.
//
// A k8ts message keeps its Kubernetes name under Kubernetes' Go package path:
//   k8ts.<group>.v1.X  ->  io.k8s.api.<group>.v1.X            (core, apps, batch, rbac, ...)
//   k8ts.meta.v1.X     ->  io.k8s.apimachinery.pkg.apis.meta.v1.X
// except the types Kubernetes files elsewhere: the values with a special JSON form
// (Time, IntOrString, Quantity, RawExtension) and the Scale subresource, which k8ts declares
// in apps/v1 but Kubernetes serves as autoscaling/v1 Scale.
import { KINDS } from '@k8ts/api';
import type { GroupVersionKind } from './types';

const API = 'io.k8s.api';
const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';

/** Kubernetes names the documents use whatever proto/ holds. */
export const KUBE = {
  time: `${META}.Time`,
  status: `${META}.Status`,
  deleteOptions: `${META}.DeleteOptions`,
  watchEvent: `${META}.WatchEvent`,
  patch: `${META}.Patch`,
  apiResourceList: `${META}.APIResourceList`,
  apiVersions: `${META}.APIVersions`,
  apiGroupList: `${META}.APIGroupList`,
  apiGroup: `${META}.APIGroup`,
  intOrString: 'io.k8s.apimachinery.pkg.util.intstr.IntOrString',
  quantity: 'io.k8s.apimachinery.pkg.api.resource.Quantity',
  rawExtension: 'io.k8s.apimachinery.pkg.runtime.RawExtension',
  tokenRequest: `${API}.authentication.v1.TokenRequest`,
} as const;

/** Types whose Kubernetes name does not follow from their k8ts package. */
const RENAMED: Readonly<Record<string, string>> = {
  'google.protobuf.Timestamp': KUBE.time,
  'k8ts.meta.v1.IntOrString': KUBE.intOrString,
  'k8ts.meta.v1.Quantity': KUBE.quantity,
  'k8ts.meta.v1.RawExtension': KUBE.rawExtension,
  'k8ts.apps.v1.Scale': `${API}.autoscaling.v1.Scale`,
  'k8ts.apps.v1.ScaleSpec': `${API}.autoscaling.v1.ScaleSpec`,
  'k8ts.apps.v1.ScaleStatus': `${API}.autoscaling.v1.ScaleStatus`,
};

const PROTO_OF_RENAMED: ReadonlyMap<string, string> = new Map(Object.entries(RENAMED).map(([proto, kube]) => [kube, proto]));

/** The Kubernetes name of a k8ts message ("k8ts.core.v1.Pod" -> "io.k8s.api.core.v1.Pod"). */
export function kubeName(protoType: string): string {
  const renamed = RENAMED[protoType];
  if (renamed) return renamed;
  const parts = protoType.split('.');
  if (parts.length !== 4 || parts[0] !== 'k8ts') throw new Error(`${protoType}: not a k8ts API type (k8ts.<group>.<version>.<Name>)`);
  const [, pkg, version, name] = parts;
  return pkg === 'meta' ? `${META}.${name}` : `${API}.${pkg}.${version}.${name}`;
}

/** The k8ts message that would hold a Kubernetes type (it may not exist in proto/). */
export function protoTypeOf(kube: string): string | undefined {
  const renamed = PROTO_OF_RENAMED.get(kube);
  if (renamed) return renamed;
  if (kube.startsWith(`${META}.`)) return `k8ts.meta.v1.${kube.slice(META.length + 1)}`;
  const m = /^io\.k8s\.api\.([a-z0-9]+)\.(v[0-9a-z]+)\.([A-Za-z0-9]+)$/.exec(kube);
  return m ? `k8ts.${m[1]}.${m[2]}.${m[3]}` : undefined;
}

/** Groups of Kubernetes packages that have no kind in KINDS but appear in the documents. */
const OTHER_GROUPS: Readonly<Record<string, string>> = {
  core: '',
  autoscaling: 'autoscaling',
  policy: 'policy',
  authentication: 'authentication.k8s.io',
  authorization: 'authorization.k8s.io',
};

/** The API group of a Kubernetes Go package name ("rbac" -> "rbac.authorization.k8s.io"). */
export function groupOfPackage(pkg: string): string | undefined {
  const served = KINDS.find((k) => k.group !== '' && k.group.split('.')[0] === pkg);
  return served ? served.group : OTHER_GROUPS[pkg];
}

/** The group-version-kind a Kubernetes type name stands for ("io.k8s.api.apps.v1.Deployment"). */
export function gvkOfKubeName(kube: string): GroupVersionKind | undefined {
  const m = /^io\.k8s\.api\.([a-z0-9]+)\.(v[0-9a-z]+)\.([A-Za-z0-9]+)$/.exec(kube);
  if (!m) return undefined;
  const group = groupOfPackage(m[1]);
  return group === undefined ? undefined : { group, version: m[2], kind: m[3] };
}

/** The URL prefix of a group-version: "/api/v1" or "/apis/apps/v1". */
export function groupVersionPrefix(group: string, version: string): string {
  return group === '' ? `/api/${version}` : `/apis/${group}/${version}`;
}

/** The key of a group-version in /openapi/v3: "api/v1" or "apis/apps/v1". */
export function groupVersionPath(group: string, version: string): string {
  return groupVersionPrefix(group, version).slice(1);
}

/** The group's word in operation ids: "" -> "Core", "rbac.authorization.k8s.io" -> "RbacAuthorization". */
export function operationGroup(group: string): string {
  if (group === '') return 'Core';
  return group
    .replace(/\.k8s\.io$/, '')
    .split('.')
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('');
}

/** The tag of a group-version's operations: "core_v1", "apps_v1", "rbacAuthorization_v1". */
export function operationTag(group: string, version: string): string {
  const g = operationGroup(group);
  return `${g.charAt(0).toLowerCase()}${g.slice(1)}_${version}`;
}
