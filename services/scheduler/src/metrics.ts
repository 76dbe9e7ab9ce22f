// The scheduler's metrics, in the kit server's registry (served on --metrics-listen):
//   scheduler_pending_pods{queue}                    active, backoff, unschedulable, gated
//   scheduler_schedule_attempts_total{result,profile} scheduled, unschedulable, error
//   scheduler_scheduling_attempt_duration_seconds{result,profile}
//   scheduler_pod_scheduling_duration_seconds         first seen -> bound (end to end)
//   scheduler_pod_scheduling_attempts                 attempts it took to bind a pod
//   scheduler_binding_duration_seconds{result}
//   scheduler_cache_size{type}                        nodes, pods, assumed_pods
//   scheduler_leader                                  1 while this replica schedules
import { Counter, Gauge, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';
import type { SchedulerCache } from './cache/cache';
import type { SchedulingQueue } from './queue/queue';
import type { AttemptResult, SchedulerMetricsSink } from './scheduler';

export class SchedulerMetrics implements SchedulerMetricsSink {
  readonly attempts: Counter<'result' | 'profile'>;
  readonly attemptDuration: Histogram<'result' | 'profile'>;
  readonly e2e: Histogram<'profile'>;
  readonly podAttempts: Histogram<string>;
  readonly binding: Histogram<'result'>;
  readonly leader: Gauge<string>;

  constructor(registry: Registry, sources: { queue: () => SchedulingQueue | undefined; cache: () => SchedulerCache | undefined }) {
    const registers = [registry];
    new Gauge({
      name: 'scheduler_pending_pods',
      help: 'Pending pods by queue: active, backoff, unschedulable, gated.',
      labelNames: ['queue'],
      registers,
      collect() {
        const q = sources.queue();
        const c = q?.counts() ?? { active: 0, backoff: 0, unschedulable: 0, gated: 0 };
        this.set({ queue: 'active' }, c.active);
        this.set({ queue: 'backoff' }, c.backoff);
        this.set({ queue: 'unschedulable' }, c.unschedulable);
        this.set({ queue: 'gated' }, c.gated);
      },
    });
    new Gauge({
      name: 'scheduler_cache_size',
      help: 'Objects in the scheduler cache: nodes, pods, assumed_pods.',
      labelNames: ['type'],
      registers,
      collect() {
        const c = sources.cache();
        this.set({ type: 'nodes' }, c?.nodeCount ?? 0);
        this.set({ type: 'pods' }, c?.podCount ?? 0);
        this.set({ type: 'assumed_pods' }, c?.assumedPodCount ?? 0);
      },
    });
    this.attempts = new Counter({
      name: 'scheduler_schedule_attempts_total',
      help: 'Scheduling attempts by result: scheduled, unschedulable, error.',
      labelNames: ['result', 'profile'],
      registers,
    });
    this.attemptDuration = new Histogram({
      name: 'scheduler_scheduling_attempt_duration_seconds',
      help: 'Duration of one scheduling cycle (filter and score), by result.',
      labelNames: ['result', 'profile'],
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    });
    this.e2e = new Histogram({
      name: 'scheduler_pod_scheduling_duration_seconds',
      help: 'End-to-end scheduling latency: from the scheduler first seeing a pod to its successful bind.',
      labelNames: ['profile'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
      registers,
    });
    this.podAttempts = new Histogram({
      name: 'scheduler_pod_scheduling_attempts',
      help: 'Attempts it took to schedule a pod.',
      buckets: [1, 2, 4, 8, 16],
      registers,
    });
    this.binding = new Histogram({
      name: 'scheduler_binding_duration_seconds',
      help: 'Duration of bind calls to the apiserver, by result.',
      labelNames: ['result'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.leader = new Gauge({ name: 'scheduler_leader', help: '1 while this replica holds the lease and schedules.', registers });
  }

  attempt(result: AttemptResult, profile: string, seconds: number): void {
    this.attempts.inc({ result, profile });
    this.attemptDuration.observe({ result, profile }, seconds);
  }

  scheduled(profile: string, e2eSeconds: number, attempts: number): void {
    this.e2e.observe({ profile }, e2eSeconds);
    this.podAttempts.observe(attempts);
  }

  bindDuration(result: 'ok' | 'error', seconds: number): void {
    this.binding.observe({ result }, seconds);
  }
}
