// IntOrString values such as a Deployment's maxSurge (1 or "25%").
import type { metav1 } from '@k8ts/api';

/**
 * The absolute value of an IntOrString against `total`: an integer as is; a percentage of
 * total, rounded up or down. Kubernetes' GetScaledValueFromIntOrPercent. Throws on a
 * malformed percentage.
 */
export function scaledValue(value: metav1.IntOrString | undefined, total: number, roundUp: boolean, fallback: string | number): number {
  const v: metav1.IntOrString =
    value && (value.intVal !== undefined || (value.strVal !== undefined && value.strVal !== ''))
      ? value
      : typeof fallback === 'number'
        ? { intVal: fallback }
        : { strVal: fallback };
  if (v.intVal !== undefined) return v.intVal;
  const text = v.strVal ?? '';
  const m = /^(\d+)%$/.exec(text);
  if (!m) throw new Error(`invalid value for IntOrString: invalid type: string is not a percentage: ${JSON.stringify(text)}`);
  const exact = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(exact) : Math.floor(exact);
}
