// Requests that do not decode end with INVALID_ARGUMENT, as the client sent bytes that are not
// the method's request message (grpc-js itself answers INTERNAL, as if the server had failed).
//
// Two halves, because grpc-js decodes before any handler or interceptor sees the message:
// decodeSafely wraps every method's deserializer so that a decoding failure becomes an
// UndecodableRequest value instead of an exception, and rejectUndecodable, a server
// interceptor, answers such a value with INVALID_ARGUMENT before it reaches the handler.
import * as grpc from '@grpc/grpc-js';
import { grpcError } from './errors';

/** What a wrapped deserializer returns for bytes that are not a request of its method. */
export class UndecodableRequest {
  constructor(
    /** The method's path, '/k8ts.core.v1.PodService/CreatePod'. */
    readonly path: string,
    /** Why the bytes did not decode. */
    readonly reason: string,
  ) {}

  /** The error the call ends with. */
  toServiceError(): grpc.ServiceError {
    return grpcError(grpc.status.INVALID_ARGUMENT, `cannot decode the ${this.path} request: ${this.reason}`);
  }
}

/** A copy of a service definition whose deserializers return UndecodableRequest rather than throw. */
export function decodeSafely(definition: grpc.ServiceDefinition): grpc.ServiceDefinition {
  const out: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const [name, method] of Object.entries(definition)) {
    const decode = method.requestDeserialize;
    out[name] = {
      ...method,
      requestDeserialize: (bytes: Buffer) => {
        try {
          return decode(bytes);
        } catch (err) {
          return new UndecodableRequest(method.path, err instanceof Error ? err.message : String(err));
        }
      },
    };
  }
  return out as grpc.ServiceDefinition;
}

/**
 * The interceptor that ends a call whose request did not decode with INVALID_ARGUMENT. The
 * message never reaches the handler, nor does the end of the client's stream, so the handler
 * never runs for it.
 */
export function rejectUndecodable(): grpc.ServerInterceptor {
  return (_method, call) =>
    new grpc.ServerInterceptingCall(call, {
      start: (next) => {
        next({
          onReceiveMessage: (message, pass) => {
            if (!(message instanceof UndecodableRequest)) {
              pass(message);
              return;
            }
            const err = message.toServiceError();
            call.sendStatus({ code: err.code, details: err.details, metadata: err.metadata });
          },
        });
      },
    });
}
