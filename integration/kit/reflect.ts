// A minimal gRPC server reflection client (v1 or v1alpha) for tests, built from the
// reflection protos that @grpc/reflection ships, plus descriptor decoding.
import * as path from 'path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import * as protobuf from 'protobufjs';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const descriptor: { FileDescriptorProto: protobuf.Type; FileDescriptorSet: protobuf.Type } = require('protobufjs/ext/descriptor');

const protoRoot = path.join(path.dirname(require.resolve('@grpc/reflection/package.json')), 'build', 'proto');

export type ReflectionVersion = 'v1' | 'v1alpha';

function reflectionClient(version: ReflectionVersion, address: string, creds: grpc.ChannelCredentials, options: grpc.ChannelOptions): any {
  const def = protoLoader.loadSync(`grpc/reflection/${version}/reflection.proto`, {
    includeDirs: [protoRoot],
    keepCase: false,
    longs: Number,
    enums: String,
    defaults: false,
    oneofs: true,
  });
  const pkg = grpc.loadPackageDefinition(def) as any;
  return new pkg.grpc.reflection[version].ServerReflection(address, creds, options);
}

/** Sends `requests` on one ServerReflectionInfo stream and returns the responses in order. */
export async function reflect(
  address: string,
  requests: object[],
  version: ReflectionVersion = 'v1',
  creds = grpc.credentials.createInsecure(),
  options: grpc.ChannelOptions = {},
): Promise<any[]> {
  const client = reflectionClient(version, address, creds, options);
  try {
    return await new Promise<any[]>((resolve, reject) => {
      const stream = client.ServerReflectionInfo({ deadline: new Date(Date.now() + 10_000) });
      const out: any[] = [];
      stream.on('data', (r: any) => {
        out.push(r);
        if (out.length === requests.length) stream.end();
      });
      stream.on('error', reject);
      stream.on('end', () => resolve(out));
      for (const r of requests) stream.write(r);
    });
  } finally {
    client.close();
  }
}

/** The service names a server lists through reflection. */
export async function listServices(address: string, version: ReflectionVersion = 'v1'): Promise<string[]> {
  const [res] = await reflect(address, [{ listServices: '*' }], version);
  return res.listServicesResponse.service.map((s: { name: string }) => s.name);
}

/** Decodes FileDescriptorProto bytes into plain objects. */
export function decodeFiles(protos: Buffer[]): any[] {
  return protos.map((b) => descriptor.FileDescriptorProto.toObject(descriptor.FileDescriptorProto.decode(b), { defaults: false }));
}

/** Decodes a serialized FileDescriptorSet (protoc --descriptor_set_out) into plain file objects. */
export function decodeFileSet(bytes: Buffer): any[] {
  const set = descriptor.FileDescriptorSet.toObject(descriptor.FileDescriptorSet.decode(bytes), { defaults: false });
  return set.file ?? [];
}

/** Returns reflection's files containing `symbol` (the defining file first, then its dependencies). */
export async function fileContainingSymbol(address: string, symbol: string, version: ReflectionVersion = 'v1'): Promise<any[]> {
  const [res] = await reflect(address, [{ fileContainingSymbol: symbol }], version);
  if (res.errorResponse) throw new Error(`reflection error for ${symbol}: ${res.errorResponse.errorMessage}`);
  return decodeFiles(res.fileDescriptorResponse.fileDescriptorProto);
}
