// The rest of the engine's seams over the API: Events through the client's event recorder
// (rate-limited like the kubelet's --event-qps), ConfigMaps and Secrets for container
// environments, and the end of a graceful deletion (DeletePod with grace 0 and the pod's uid).
import type { corev1 } from '@k8ts/api';
import { type Clientset, type EventRecorder, isConflict, isNotFound, toApiError } from '@k8ts/client';
import type { Logger } from 'pino';
import type { EnvSource } from '../runtime/env';
import type { EventSink, PodEvent } from '../pod/sinks';
import type { PodStatusWriter } from './status';

/** A token bucket: `qps` tokens a second, at most `burst` saved up; qps 0 = unlimited. */
export class TokenBucket {
  private tokens: number;
  private last = Date.now();
  dropped = 0;

  constructor(
    private readonly qps: number,
    private readonly burst: number,
  ) {
    this.tokens = burst;
  }

  take(): boolean {
    if (this.qps <= 0) return true;
    const now = Date.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.qps);
    this.last = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return true;
    }
    this.dropped++;
    return false;
  }
}

/** Pod events as core/v1 Events about the pod (fieldPath names the container). */
export class ApiEventSink implements EventSink {
  constructor(
    private readonly recorder: EventRecorder,
    private readonly limiter: TokenBucket,
  ) {}

  event(e: PodEvent): void {
    if (!this.limiter.take()) return;
    const ref: corev1.ObjectReference = {
      kind: 'Pod',
      apiVersion: 'v1',
      namespace: e.pod.namespace,
      name: e.pod.name,
      uid: e.pod.uid,
      fieldPath: e.fieldPath,
    };
    this.recorder.event(ref, e.type, e.reason, e.message);
  }
}

/**
 * ConfigMaps and Secrets read with Get when a container starts (the Node authorizer lets a
 * kubelet read those its pods refer to). Secret data is decoded from bytes as UTF-8.
 */
export function apiEnvSource(client: Pick<Clientset, 'configMaps' | 'secrets'>): EnvSource {
  const read = async <T>(get: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await get();
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw new Error(toApiError(err).message);
    }
  };
  return {
    configMap: async (namespace, name) => {
      const cm = await read(() => client.configMaps.get(name, { namespace }));
      return cm ? { ...cm.data } : undefined;
    },
    secret: async (namespace, name) => {
      const s = await read(() => client.secrets.get(name, { namespace }));
      if (!s) return undefined;
      const out: Record<string, string> = {};
      for (const [k, v] of Object.entries(s.data ?? {})) out[k] = Buffer.from(v ?? []).toString('utf8');
      return out;
    },
  };
}

/**
 * onPodTerminated: a deleted pod's containers are all gone, so the deletion is finished with
 * DeletePod (grace period 0, precondition: the pod's uid), after its final status was written.
 * Retried with back-off for a while; a pod already gone (or replaced) is left alone.
 */
export function podTerminator(pods: Pick<Clientset['pods'], 'delete'>, writer: PodStatusWriter, logger: Logger): (pod: corev1.Pod) => Promise<void> {
  return async (pod) => {
    const namespace = pod.metadata?.namespace ?? '';
    const name = pod.metadata?.name ?? '';
    const uid = pod.metadata?.uid ?? '';
    await writer.settled(uid);
    for (let attempt = 1; attempt <= 8; attempt++) {
      try {
        await pods.delete(name, { namespace, gracePeriodSeconds: 0, preconditions: { uid } });
        logger.info({ pod: `${namespace}/${name}` }, 'pod deleted');
        return;
      } catch (err) {
        if (isNotFound(err) || isConflict(err)) return;
        logger.warn({ pod: `${namespace}/${name}`, err: toApiError(err).message, attempt }, 'finishing the deletion of a pod failed');
        await new Promise((r) => setTimeout(r, Math.min(10_000, 250 * 2 ** attempt)));
      }
    }
  };
}
