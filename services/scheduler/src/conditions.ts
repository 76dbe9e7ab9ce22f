// Writes PodScheduled=False (reason Unschedulable or SchedulerError, with the scheduling
// message) to pods that could not be scheduled, as kube-scheduler does, so `describe`
// shows why a pod is pending. Best effort: writes are queued (one per pod, the latest
// wins), a few at a time, skipped when the condition already says the same, and a
// conflict just drops the write (the next attempt writes again).
import type { corev1 } from '@k8ts/api';
import type { PodConditionWriter, Logger } from './scheduler';

export interface StatusClient {
  updateStatus(pod: corev1.Pod): Promise<corev1.Pod>;
}

interface Job {
  pod: corev1.Pod;
  reason: string;
  message: string;
}

function copyPod(pod: corev1.Pod): corev1.Pod {
  return JSON.parse(JSON.stringify(pod)) as corev1.Pod;
}

export class ApiPodConditionWriter implements PodConditionWriter {
  private readonly jobs = new Map<string, Job>();
  private active = 0;
  private closed = false;

  constructor(
    private readonly client: StatusClient,
    private readonly opts: { concurrency?: number; maxQueue?: number; logger?: Logger; now?: () => number } = {},
  ) {}

  setUnschedulable(pod: corev1.Pod, reason: 'Unschedulable' | 'SchedulerError', message: string): void {
    if (this.closed) return;
    const existing = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
    if (existing && existing.status === 'False' && existing.reason === reason && existing.message === message) return;
    const key = `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
    if (!this.jobs.has(key) && this.jobs.size >= (this.opts.maxQueue ?? 10_000)) return;
    this.jobs.set(key, { pod, reason, message });
    this.pump();
  }

  private pump(): void {
    const limit = this.opts.concurrency ?? 8;
    while (this.active < limit && this.jobs.size > 0) {
      const [key, job] = this.jobs.entries().next().value as [string, Job];
      this.jobs.delete(key);
      this.active++;
      this.write(job)
        .catch((err) => this.opts.logger?.debug({ pod: key, err: String((err as Error)?.message ?? err) }, 'cannot update the PodScheduled condition'))
        .finally(() => {
          this.active--;
          this.pump();
        });
    }
  }

  private async write(job: Job): Promise<void> {
    const pod = copyPod(job.pod);
    const now = new Date((this.opts.now ?? Date.now)()).toISOString();
    const status: corev1.PodStatus = pod.status ?? {};
    const conditions = (status.conditions ?? []).filter((c) => c.type !== 'PodScheduled');
    const previous = job.pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
    conditions.push({
      type: 'PodScheduled',
      status: 'False',
      reason: job.reason,
      message: job.message,
      lastProbeTime: now,
      lastTransitionTime: previous?.status === 'False' ? (previous.lastTransitionTime ?? now) : now,
    });
    pod.status = { ...status, conditions, phase: status.phase || 'Pending' };
    await this.client.updateStatus(pod);
  }

  /** Drops queued writes. */
  close(): void {
    this.closed = true;
    this.jobs.clear();
  }
}
