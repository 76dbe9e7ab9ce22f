"""Reads a server's whole API through gRPC server reflection, as grpcurl does, and links
every returned descriptor in a fresh protobuf DescriptorPool (which rejects descriptors with
missing imports or unresolvable types).

Usage: reflection_client.py ADDRESS
Prints one JSON line: the listed services and, per service, its methods with their input and
output message types and the output message's fields.
"""
import json
import sys

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool

from reflproto import reflection_pb2, reflection_pb2_grpc


def main():
    address = sys.argv[1]
    channel = grpc.insecure_channel(address, options=[("grpc.enable_http_proxy", 0)])
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)

    def ask(**kwargs):
        responses = stub.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(**kwargs)]), timeout=10)
        response = next(iter(responses))
        if response.HasField("error_response"):
            raise SystemExit("reflection error: %s" % response.error_response.error_message)
        return response

    services = [s.name for s in ask(list_services="*").list_services_response.service]
    files = {}

    def fetch(**kwargs):
        protos = [descriptor_pb2.FileDescriptorProto.FromString(b)
                  for b in ask(**kwargs).file_descriptor_response.file_descriptor_proto]
        for fd in protos:
            files.setdefault(fd.name, fd)
        return protos[0].name

    pool = descriptor_pool.DescriptorPool()
    added = set()

    def add(name):
        if name in added:
            return
        if name not in files:
            fetch(file_by_filename=name)
        for dep in files[name].dependency:
            add(dep)
        pool.Add(files[name])
        added.add(name)

    out = {"services": services, "methods": {}}
    for service in services:
        add(fetch(file_containing_symbol=service))
        sd = pool.FindServiceByName(service)
        out["methods"][service] = [{
            "name": m.name,
            "input": m.input_type.full_name,
            "output": m.output_type.full_name,
            "output_fields": [f.name for f in m.output_type.fields],
        } for m in sd.methods]
    channel.close()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
