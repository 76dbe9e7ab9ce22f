// How objects are stored: the Kubernetes JSON form (toK8sJson) with apiVersion and kind set
// and metadata.resourceVersion left out (the key's mod_revision is the resource version, set
// again on every read, as Kubernetes' etcd3 storage does).
import { type KindInfo, fromK8sJson, messageFns, toK8sJson } from '@k8ts/api';
import type { ApiObject } from '../strategies/types';

/** The stored bytes of an object. */
export function encodeForStore(kind: KindInfo, obj: ApiObject): Buffer {
  const json = toK8sJson(kind.typeName, obj);
  json.apiVersion = kind.apiVersion;
  json.kind = kind.kind;
  const meta = json.metadata as Record<string, unknown> | undefined;
  if (meta) delete meta.resourceVersion;
  return Buffer.from(JSON.stringify(json));
}

/** An object read from the store at `modRevision` (its resourceVersion). Unknown fields are ignored. */
export function decodeFromStore<T extends ApiObject = ApiObject>(kind: KindInfo, value: Buffer, modRevision: number): T {
  const obj = fromK8sJson<T>(kind.typeName, JSON.parse(value.toString('utf8')), { unknownFields: 'ignore' });
  obj.apiVersion = kind.apiVersion;
  obj.kind = kind.kind;
  obj.metadata ??= {} as NonNullable<ApiObject['metadata']>;
  obj.metadata!.resourceVersion = String(modRevision);
  return obj;
}

/** The protobuf bytes of an object (what a response carries). */
export function encodeProto(kind: KindInfo, obj: ApiObject): Uint8Array {
  return messageFns(kind.typeName).encode(obj).finish();
}
