// Handlers for the etcd RPCs the store does not implement: UNIMPLEMENTED naming the RPC.
import * as grpc from '@grpc/grpc-js';
import { unimplemented } from '../errors';

/** A handler of any kind that answers UNIMPLEMENTED for `what`. */
export function unimplementedHandler(def: grpc.MethodDefinition<unknown, unknown>, what: string): grpc.UntypedHandleCall {
  const err = () => unimplemented(what);
  if (!def.requestStream && !def.responseStream) {
    return ((_call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) => cb(err())) as grpc.UntypedHandleCall;
  }
  if (!def.requestStream && def.responseStream) {
    return ((call: grpc.ServerWritableStream<unknown, unknown>) => call.emit('error', err())) as grpc.UntypedHandleCall;
  }
  if (def.requestStream && !def.responseStream) {
    return ((_call: grpc.ServerReadableStream<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) => cb(err())) as grpc.UntypedHandleCall;
  }
  return ((call: grpc.ServerDuplexStream<unknown, unknown>) => call.emit('error', err())) as grpc.UntypedHandleCall;
}
