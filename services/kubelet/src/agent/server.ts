// k8ts.kubelet.v1.KubeletService: what only the node knows. GetContainerLogs streams a
// container's log from PodManager.logs (tail, timestamps, previous, since, limit, follow),
// batching the lines that are ready into one message and honouring back-pressure. The
// apiserver calls it for PodService.GetPodLogs. One server serves every node of the process
// (several with --sim-nodes): `find` picks the manager that runs the pod.
import * as grpc from '@grpc/grpc-js';
import type { kubeletv1 } from '@k8ts/api';
import { grpcError } from '@k8ts/kit';
import type { Logger } from 'pino';
import { PodLogError, type PodManager } from '../pod/manager';

/** Where a pod runs in this process. */
export type PodFinder = (namespace: string, name: string, uid?: string) => { manager: PodManager; uid: string } | undefined;

const CHUNK_BYTES = 32 * 1024;

const CODES: Record<PodLogError['code'], grpc.status> = {
  NOT_FOUND: grpc.status.NOT_FOUND,
  INVALID_ARGUMENT: grpc.status.INVALID_ARGUMENT,
  FAILED_PRECONDITION: grpc.status.FAILED_PRECONDITION,
};

export interface KubeletServiceHandle {
  implementation: kubeletv1.KubeletServiceServer;
  /** Ends every open log stream (shutdown). */
  closeAll(): void;
}

export function kubeletService(find: PodFinder, logger: Logger): KubeletServiceHandle {
  const open = new Set<AbortController>();

  const getContainerLogs = async (call: grpc.ServerWritableStream<kubeletv1.GetContainerLogsRequest, kubeletv1.GetContainerLogsResponse>) => {
    const r = call.request;
    // grpc-js turns an 'error' on a server stream into the call's status.
    const fail = (code: grpc.status, message: string) => void call.emit('error', grpcError(code, message));
    if (!r.namespace || !r.podName) return fail(grpc.status.INVALID_ARGUMENT, 'namespace and pod_name are required');
    const found = find(r.namespace, r.podName, r.podUid || undefined);
    if (!found) return fail(grpc.status.NOT_FOUND, `pod ${r.namespace}/${r.podName}${r.podUid ? ` (uid ${r.podUid})` : ''} is not on this node`);
    const abort = new AbortController();
    open.add(abort);
    call.on('cancelled', () => abort.abort());
    call.on('close', () => abort.abort());

    let chunk: string[] = [];
    let size = 0;
    let flushTimer: NodeJS.Immediate | undefined;
    const flush = async () => {
      if (flushTimer) clearImmediate(flushTimer);
      flushTimer = undefined;
      if (chunk.length === 0 || abort.signal.aborted) return;
      const data = Buffer.from(chunk.join(''));
      chunk = [];
      size = 0;
      if (!call.write({ data })) {
        await new Promise<void>((resolve) => {
          const done = () => {
            call.off('drain', done);
            abort.signal.removeEventListener('abort', done);
            resolve();
          };
          call.once('drain', done);
          abort.signal.addEventListener('abort', done, { once: true });
        });
      }
    };
    try {
      const lines = found.manager.logs(found.uid, {
        container: r.container || undefined,
        follow: !!r.follow,
        tailLines: r.tailLines ?? undefined,
        previous: !!r.previous,
        timestamps: !!r.timestamps,
        sinceSeconds: r.sinceSeconds ?? undefined,
        limitBytes: r.limitBytes ?? undefined,
        signal: abort.signal,
      });
      for await (const line of lines) {
        if (abort.signal.aborted) break;
        chunk.push(line);
        size += line.length;
        if (size >= CHUNK_BYTES) await flush();
        // Lines that are ready arrive within this turn of the event loop: send them together.
        else flushTimer ??= setImmediate(() => void flush());
      }
      await flush();
      if (!abort.signal.aborted) call.end();
    } catch (err) {
      if (flushTimer) clearImmediate(flushTimer);
      if (abort.signal.aborted) return;
      if (err instanceof PodLogError) return fail(CODES[err.code], err.message);
      logger.error({ err, pod: `${r.namespace}/${r.podName}` }, 'reading a container log failed');
      fail(grpc.status.INTERNAL, `reading the log failed: ${(err as Error).message}`);
    } finally {
      open.delete(abort);
    }
  };

  return {
    implementation: { getContainerLogs: (call) => void getContainerLogs(call) },
    closeAll: () => {
      for (const a of open) a.abort();
    },
  };
}
