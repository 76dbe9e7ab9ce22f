// Finds the generated ts-proto message functions (encode, decode, fromPartial, ...) of a
// message by its fully-qualified protobuf name, e.g. 'k8ts.core.v1.Pod'.
import * as gen from './gen';

/** The functions ts-proto generates for every message. */
export interface MessageFns<T = any> {
  encode(message: T, writer?: unknown): { finish(): Uint8Array };
  decode(input: Uint8Array, length?: number): T;
  fromPartial(object: any): T;
}

const namespaces = gen as unknown as Record<string, Record<string, unknown>>;

/** 'k8ts.core.v1.Pod' -> gen.corev1.Pod; 'etcdserverpb.RangeRequest' -> gen.etcdserverpb.RangeRequest. */
export function messageFns<T = any>(typeName: string): MessageFns<T> {
  const name = typeName.replace(/^\./, '');
  const parts = name.split('.');
  const msg = parts.pop()!;
  const ns = parts[0] === 'k8ts' ? parts.slice(1).join('') : parts[parts.length - 1];
  const fns = namespaces[ns]?.[msg] as MessageFns<T> | undefined;
  if (!fns || typeof fns.encode !== 'function') throw new Error(`no generated message ${name}`);
  return fns;
}
