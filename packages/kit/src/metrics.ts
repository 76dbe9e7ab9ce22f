// Per-method gRPC server metrics and the per-call log line, both produced by one grpc-js
// server interceptor, so unary and streaming calls are counted alike with their final code.
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The metrics every kit server records, in the server's registry. */
export interface GrpcMetrics {
  started: Counter<'service' | 'method'>;
  handled: Counter<'service' | 'method' | 'code'>;
  handling: Histogram<'service' | 'method'>;
}

/** A registry with the default process metrics and the gRPC server metrics. */
export function createRegistry(component: string): { registry: Registry; metrics: GrpcMetrics } {
  const registry = new Registry();
  registry.setDefaultLabels({ component });
  collectDefaultMetrics({ register: registry });
  const metrics: GrpcMetrics = {
    started: new Counter({
      name: 'grpc_server_started_total',
      help: 'Number of RPCs started on the server.',
      labelNames: ['service', 'method'],
      registers: [registry],
    }),
    handled: new Counter({
      name: 'grpc_server_handled_total',
      help: 'Number of RPCs completed on the server, by final gRPC status code (OK, NOT_FOUND, ...).',
      labelNames: ['service', 'method', 'code'],
      registers: [registry],
    }),
    handling: new Histogram({
      name: 'grpc_server_handling_seconds',
      help: 'Time from the start of an RPC to its final status, in seconds.',
      labelNames: ['service', 'method'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [registry],
    }),
  };
  return { registry, metrics };
}

/** '/k8ts.system.v1.InfoService/GetInfo' -> { service: 'k8ts.system.v1.InfoService', method: 'GetInfo' }. */
export function splitMethodPath(path: string): { service: string; method: string } {
  const m = /^\/([^/]+)\/([^/]+)$/.exec(path);
  return m ? { service: m[1], method: m[2] } : { service: 'unknown', method: path };
}

/**
 * The interceptor that counts and times every call and logs it at debug level when it ends.
 *
 * A call's final status normally passes through the interceptor chain (handler -> sendStatus).
 * grpc-js also ends calls from its innermost call object without going through the chain: an
 * oversized request (RESOURCE_EXHAUSTED), an expired deadline, an undecodable message. To
 * count those with their real code, the interceptor also wraps the `sendStatus` of the call
 * it is given (the innermost one when it is the first interceptor), which is what those paths
 * invoke. A call that ends without any status (the client went away) counts as CANCELLED.
 */
export function metricsInterceptor(metrics: GrpcMetrics, logger: Logger): grpc.ServerInterceptor {
  return (methodDescriptor, call) => {
    const { service, method } = splitMethodPath(methodDescriptor.path);
    const started = process.hrtime.bigint();
    metrics.started.inc({ service, method });
    let finished = false;
    const finish = (code: number, details?: string) => {
      if (finished) return;
      finished = true;
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const codeName = grpc.status[code] ?? String(code);
      metrics.handled.inc({ service, method, code: codeName });
      metrics.handling.observe({ service, method }, seconds);
      if (logger.isLevelEnabled('debug')) {
        const line: Record<string, unknown> = {
          service,
          method,
          code: codeName,
          durationMs: Math.round(seconds * 1e6) / 1e3,
          peer: call.getPeer(),
        };
        if (code !== grpc.status.OK && details) line.details = details;
        logger.debug(line, 'rpc finished');
      }
    };

    const innerSendStatus = call.sendStatus;
    call.sendStatus = function (status) {
      finish(status.code, status.details);
      return innerSendStatus.call(this, status);
    };

    return new grpc.ServerInterceptingCall(call, {
      start: (next) => {
        next({
          onCancel: () => {
            const deadline = call.getDeadline();
            const expired = deadline !== Infinity && new Date(deadline).getTime() <= Date.now();
            finish(expired ? grpc.status.DEADLINE_EXCEEDED : grpc.status.CANCELLED, 'call ended without a status');
          },
        });
      },
    });
  };
}
