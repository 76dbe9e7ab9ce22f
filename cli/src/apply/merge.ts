// What `apply` sends when the object exists: the live object with what the manifest sets
// laid over it, so that fields the server owns (resourceVersion, uid, status, clusterIP,
// nodePort, defaults) are kept and only what the manifest says is replaced.
//
// It is kubectl's client-side apply: the manifest applied last time is kept in the
// annotation kubectl.kubernetes.io/last-applied-configuration; a three-way strategic merge
// patch (last applied, new manifest, live object) is computed and applied to the live object
// with @k8ts/machinery, the same code the apiserver runs for PATCH. Lists merge as the schema's
// markers say (containers and env by name, ports by port, tolerations replaced whole), and a
// field that was in the last manifest but is no longer in the new one is removed.
//
// Everything here works on the Kubernetes JSON form (plain objects, as in manifests).
import { applyStrategicMergePatch, createThreeWayMergePatch } from '@k8ts/machinery';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

export const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function clone<T extends Json>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}

/** Structural equality of JSON values (object key order does not matter). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  if (isObject(a)) {
    if (!isObject(b)) return false;
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    return ka.length === kb.length && ka.every((k) => jsonEqual(a[k], b[k]));
  }
  return false;
}

/** The manifest as recorded in the last-applied annotation: without status, compact JSON. */
export function lastAppliedText(manifest: JsonObject): string {
  const copy = clone(manifest);
  delete copy.status;
  if (isObject(copy.metadata)) {
    const md = copy.metadata;
    if (isObject(md.annotations)) {
      delete md.annotations[LAST_APPLIED];
      if (Object.keys(md.annotations).length === 0) delete md.annotations;
    }
  }
  return `${JSON.stringify(copy)}\n`;
}

/** The previous manifest from the live object's annotation, if it holds valid JSON. */
export function lastAppliedOf(live: JsonObject): JsonObject | undefined {
  const md = live.metadata;
  const text = isObject(md) && isObject(md.annotations) ? md.annotations[LAST_APPLIED] : undefined;
  if (typeof text !== 'string') return undefined;
  try {
    const v = JSON.parse(text) as Json;
    return isObject(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The object to send for `apply` when `live` exists (`typeName`: its message, e.g.
 * "k8ts.apps.v1.Deployment"): the live object patched with the three-way strategic merge
 * patch kubectl computes, the annotation recording the manifest.
 */
export function applyPatch(typeName: string, live: JsonObject, manifest: JsonObject): JsonObject {
  const last = lastAppliedOf(live) ?? {};
  const desired = withLastApplied(manifest);
  delete desired.status;
  const patch = createThreeWayMergePatch(typeName, last, desired, live, { overwrite: true });
  return applyStrategicMergePatch(typeName, live, patch) as JsonObject;
}

/** The object to create for `apply` when nothing exists yet: the manifest plus the annotation. */
export function withLastApplied(manifest: JsonObject): JsonObject {
  const out = clone(manifest);
  const md: JsonObject = isObject(out.metadata) ? out.metadata : {};
  const annotations: JsonObject = isObject(md.annotations) ? md.annotations : {};
  annotations[LAST_APPLIED] = lastAppliedText(manifest);
  md.annotations = annotations;
  out.metadata = md;
  return out;
}
