// etcd key ranges. The subjects of the log that keys map to (`k8ts.kv.kubernetes%2Eio.pods.>`)
// are part of the log format and live with its codec in @k8ts/machinery (storelog).

/** The end of the prefix range of `key`: the key with its last byte incremented (etcd's GetPrefixRangeEnd). */
export function prefixEnd(key: Uint8Array): Buffer {
  const end = Buffer.from(key);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i] < 0xff) {
      end[i]++;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
}
