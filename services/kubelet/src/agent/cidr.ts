// Pod CIDRs for simulated nodes: one --pod-cidr split into a range per node.
import { ipToString, parseCidr } from '../runtime/ipam';

/**
 * Splits `cidr` into `n` equal ranges, each a /24 when the range is large enough (else as
 * large as fits). Throws when a range would be smaller than a /30.
 */
export function splitCidr(cidr: string, n: number): string[] {
  const { network, prefix } = parseCidr(cidr);
  if (n <= 1) return [`${ipToString(network)}/${prefix}`];
  const bits = Math.ceil(Math.log2(n));
  const sub = Math.max(24, prefix + bits);
  if (sub > 30) throw new Error(`--pod-cidr ${cidr} is too small for ${n} nodes: each would get less than a /30`);
  const size = 2 ** (32 - sub);
  return Array.from({ length: n }, (_, i) => `${ipToString(network + i * size)}/${sub}`);
}
