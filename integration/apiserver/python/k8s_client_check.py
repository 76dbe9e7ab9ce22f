"""The official Python Kubernetes client (Debian's python3-kubernetes) against k8ts' HTTP API.

Run by integration/apiserver/http-clients.test.ts with /usr/bin/python3:

    k8s_client_check.py SERVER CA_FILE TOKEN_FILE NAMESPACE CONFIGMAP WATCH_SECONDS

It lists namespaces and the pods of NAMESPACE, then watches the ConfigMaps of NAMESPACE from
the list's resourceVersion (as every Kubernetes client does, so nothing written after the list
is missed). Before watching it prints one JSON line {"watching": <resourceVersion>}: the test
creates and changes CONFIGMAP only then. The watch ends once ADDED and MODIFIED of CONFIGMAP
were seen, or after WATCH_SECONDS (the server's timeoutSeconds, and the socket's read timeout
as a second guard), so it never hangs. The last line is the result as JSON.

The server's certificate is verified against CA_FILE (no skip-verify); the token is sent as
"Authorization: Bearer <token>".
"""

import json
import sys

from kubernetes import client, watch


def api_client(server, ca_file, token):
    """A client of SERVER whose certificate must chain to CA_FILE, authenticated by TOKEN."""
    config = client.Configuration()
    config.host = server
    config.ssl_ca_cert = ca_file
    config.verify_ssl = True
    config.api_key = {"authorization": token}
    config.api_key_prefix = {"authorization": "Bearer"}
    return client.ApiClient(config)


def emit(value):
    print(json.dumps(value), flush=True)


def watch_config_map(core, namespace, name, seconds):
    """Events of the ConfigMaps of NAMESPACE after the current list, until ADDED and MODIFIED of NAME."""
    listed = core.list_namespaced_config_map(namespace)
    start = listed.metadata.resource_version
    emit({"watching": start})
    events = []
    seen = set()
    w = watch.Watch()
    stream = w.stream(
        core.list_namespaced_config_map,
        namespace,
        resource_version=start,
        timeout_seconds=seconds,
        _request_timeout=seconds + 5,
    )
    for event in stream:
        obj = event["object"]
        events.append(
            {
                "type": event["type"],
                "name": obj.metadata.name,
                "resourceVersion": obj.metadata.resource_version,
                "data": obj.data or {},
            }
        )
        if obj.metadata.name == name:
            seen.add(event["type"])
        if {"ADDED", "MODIFIED"} <= seen:
            w.stop()
            break
    return {"startResourceVersion": start, "events": events}


def main(argv):
    if len(argv) != 7:
        sys.exit("usage: k8s_client_check.py SERVER CA_FILE TOKEN_FILE NAMESPACE CONFIGMAP WATCH_SECONDS")
    server, ca_file, token_file, namespace, name, seconds = argv[1:]
    with open(token_file, encoding="utf-8") as f:
        token = f.read().strip()
    with api_client(server, ca_file, token) as api:
        core = client.CoreV1Api(api)
        namespaces = core.list_namespace()
        pods = core.list_namespaced_pod(namespace)
        result = {
            "namespaces": sorted(n.metadata.name for n in namespaces.items),
            "namespacesResourceVersion": namespaces.metadata.resource_version,
            "pods": [
                {
                    "name": p.metadata.name,
                    "uid": p.metadata.uid,
                    "image": p.spec.containers[0].image,
                    "phase": p.status.phase if p.status else None,
                }
                for p in pods.items
            ],
        }
        result["watch"] = watch_config_map(core, namespace, name, int(seconds))
    emit(result)


if __name__ == "__main__":
    main(sys.argv)
