// Moving an object from client-side apply to server-side apply, as Kubernetes does for the
// manager "kubectl" (k8s.io/apimachinery's lastAppliedManager and lastAppliedUpdater).
//
// An object kubectl applied client-side carries its last configuration in the annotation
// kubectl.kubernetes.io/last-applied-configuration, and its fields belong to the Update
// manager "kubectl-client-side-apply". The first `kubectl apply --server-side` of it would
// conflict with that manager wherever the new configuration changes a value. Such conflicts
// are forgiven when the annotation still describes the field as it is (same value in the
// annotation and in the object): the user is changing their own configuration, and the apply
// is then forced. Conflicts on fields the annotation does not describe, or describes with a
// value someone else has since changed, remain conflicts.
//
// While the annotation exists, every apply by "kubectl" rewrites it with the applied
// configuration, so that going back to client-side apply still works. The annotation is left
// out when it would take the object's annotations over Kubernetes' 256 KiB limit.
import { compareValues } from './compare';
import { FieldSet } from './fieldset';
import { type JsonObject, type JsonValue, goJson, isJsonObject } from './json';
import { LAST_APPLIED_ANNOTATION } from './managers';
import { toFieldSet } from './tofieldset';
import type { TypeRef, TypeResolver } from './types';
import { validateValue } from './validate';

/** Kubernetes' limit on the total size of an object's annotations (keys and values, in bytes). */
export const TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024;

export function annotationsOf(obj: JsonValue | undefined): JsonObject | undefined {
  const meta = isJsonObject(obj) ? obj.metadata : undefined;
  const annotations = isJsonObject(meta) ? meta.annotations : undefined;
  return isJsonObject(annotations) ? annotations : undefined;
}

/** The annotation's text, when the object carries a non-empty one. */
export function lastAppliedOf(obj: JsonValue | undefined): string | undefined {
  const v = annotationsOf(obj)?.[LAST_APPLIED_ANNOTATION];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/**
 * The fields whose conflicts the annotation forgives: those it sets with the value the live
 * object has. Empty when there is no usable annotation (absent, not JSON, another apiVersion,
 * or not an object of the type).
 */
export function forgivenByLastApplied(types: TypeResolver, root: TypeRef, live: JsonObject, apiVersion: string): FieldSet {
  const text = lastAppliedOf(live);
  if (!text) return new FieldSet();
  let lastApplied: unknown;
  try {
    lastApplied = JSON.parse(text);
  } catch {
    return new FieldSet();
  }
  if (!isJsonObject(lastApplied) || lastApplied.apiVersion !== apiVersion) return new FieldSet();
  if (validateValue(types, root, lastApplied, { allowDuplicates: false }).length > 0) return new FieldSet();
  const described = toFieldSet(types, root, lastApplied);
  const changed = compareValues(types, root, lastApplied, live);
  return described.difference(changed.modified).difference(changed.added).difference(changed.removed);
}

/** The annotation's value for an applied configuration: its JSON without the annotation itself. */
export function lastAppliedText(config: JsonObject): string {
  const copy = structuredClone(config);
  const annotations = annotationsOf(copy);
  if (annotations) {
    delete annotations[LAST_APPLIED_ANNOTATION];
    if (Object.keys(annotations).length === 0) delete (copy.metadata as JsonObject).annotations;
  }
  // Kubernetes encodes it with Go's JSON encoder, which ends the text with a newline.
  return `${goJson(copy)}\n`;
}

function annotationBytes(annotations: JsonObject): number {
  let n = 0;
  for (const [k, v] of Object.entries(annotations)) n += Buffer.byteLength(k) + (typeof v === 'string' ? Buffer.byteLength(v) : 0);
  return n;
}

/** Sets the annotation on an object (in place), or removes it when it would not fit. */
export function setLastApplied(obj: JsonObject, value: string): void {
  const meta = (isJsonObject(obj.metadata) ? obj.metadata : (obj.metadata = {})) as JsonObject;
  const annotations = (isJsonObject(meta.annotations) ? meta.annotations : (meta.annotations = {})) as JsonObject;
  annotations[LAST_APPLIED_ANNOTATION] = value;
  if (annotationBytes(annotations) > TOTAL_ANNOTATION_SIZE_LIMIT) delete annotations[LAST_APPLIED_ANNOTATION];
}
