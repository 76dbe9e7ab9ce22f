// Orderings of objects.
import type { KubeObject } from '@k8ts/client';
import { parseTime } from './time';

/** Oldest first; ties by name. */
export function byCreationOf(a: KubeObject, b: KubeObject): number {
  const d = (parseTime(a.metadata?.creationTimestamp) ?? 0) - (parseTime(b.metadata?.creationTimestamp) ?? 0);
  if (d !== 0) return d;
  const an = a.metadata?.name ?? '';
  const bn = b.metadata?.name ?? '';
  return an < bn ? -1 : an > bn ? 1 : 0;
}
