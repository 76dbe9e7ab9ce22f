// Round trips of ordinary Kubernetes manifests: YAML -> generated types -> protobuf binary ->
// generated types -> Kubernetes JSON, which must equal the manifest's own JSON.
import * as fs from 'fs';
import * as path from 'path';
import { parseAllDocuments } from 'yaml';
import { parseManifests, toK8sJson, messageFns, ManifestError } from '@k8ts/api';

const fixtures = path.join(__dirname, 'fixtures');
const read = (f: string) => fs.readFileSync(path.join(fixtures, f), 'utf8');

/** The manifest as plain JSON, with numeric quantities written as Kubernetes writes them (strings). */
function expectedJson(text: string): unknown {
  const json = (parseAllDocuments(text) as any)[0].toJS();
  const fix = (v: any, key?: string): any => {
    if (Array.isArray(v)) return v.map((x) => fix(x));
    if (v && typeof v === 'object') {
      const out: any = {};
      for (const [k, x] of Object.entries(v)) {
        out[k] = (key === 'requests' || key === 'limits') && typeof x === 'number' ? String(x) : fix(x, k);
      }
      return out;
    }
    return v;
  };
  return fix(json);
}

function roundTrip(file: string) {
  const text = read(file);
  const [m] = parseManifests(text, file);
  const fns = messageFns(m.kind.typeName);
  const decoded = fns.decode(fns.encode(m.object).finish());
  return { m, decoded, json: toK8sJson(m.kind.typeName, decoded), expected: expectedJson(text) };
}

describe('Kubernetes manifests load into the generated types and serialize back unchanged', () => {
  test('a Deployment with probes, resources and a rolling update strategy', () => {
    const { m, decoded, json, expected } = roundTrip('deployment.yaml');
    expect(m.kind.typeName).toBe('k8ts.apps.v1.Deployment');
    const c = decoded.spec.template.spec.containers[0];
    expect(c.resources.limits.cpu).toEqual({ value: '1' });
    expect(c.readinessProbe.httpGet.port).toEqual({ strVal: 'http' });
    expect(c.livenessProbe.tcpSocket.port).toEqual({ intVal: 8080 });
    expect(decoded.spec.strategy.rollingUpdate.maxSurge).toEqual({ strVal: '25%' });
    expect(decoded.spec.strategy.rollingUpdate.maxUnavailable).toEqual({ intVal: 1 });
    expect(decoded.spec.replicas).toBe(3);
    expect(json).toEqual(expected);
  });

  test('a NodePort Service with a named targetPort and session affinity', () => {
    const { decoded, json, expected } = roundTrip('service-nodeport.yaml');
    expect(decoded.spec.ports[0].targetPort).toEqual({ strVal: 'http' });
    expect(decoded.spec.ports[0].nodePort).toBe(30080);
    expect(json).toEqual(expected);
  });

  test('a Pod with env from fieldRef, secretKeyRef and configMapKeyRef', () => {
    const { decoded, json, expected } = roundTrip('pod-env.yaml');
    const env = decoded.spec.containers[0].env;
    expect(env[0].valueFrom.fieldRef.fieldPath).toBe('metadata.name');
    expect(env[3].valueFrom.configMapKeyRef.optional).toBe(true);
    expect(decoded.spec.tolerations[0].tolerationSeconds).toBe(300);
    expect(json).toEqual(expected);
  });

  test('a Job with its generated selector, defaults, deadline, TTL and status (with uncountedTerminatedPods)', () => {
    const { m, decoded, json, expected } = roundTrip('job.yaml');
    expect(m.kind.typeName).toBe('k8ts.batch.v1.Job');
    expect(m.kind).toMatchObject({ group: 'batch', apiVersion: 'batch/v1', resource: 'jobs', namespaced: true });
    expect(decoded.spec).toMatchObject({ parallelism: 2, completions: 4, activeDeadlineSeconds: 600, backoffLimit: 0, ttlSecondsAfterFinished: 100, completionMode: 'NonIndexed' });
    expect(decoded.spec.manualSelector).toBe(false); // optional fields set to their zero value stay set
    expect(decoded.spec.suspend).toBe(false);
    expect(decoded.status.ready).toBe(0);
    expect(Date.parse(decoded.status.completionTime)).toBe(Date.parse('2026-01-10T11:50:45Z'));
    expect(Date.parse(decoded.status.conditions[0].lastProbeTime)).toBe(Date.parse('2026-01-10T11:50:45Z'));
    expect(json).toEqual(expected);
    // The Kubernetes JSON names, not the proto ones.
    expect(Object.keys((json as any).spec)).toEqual(
      expect.arrayContaining(['activeDeadlineSeconds', 'backoffLimit', 'ttlSecondsAfterFinished', 'completionMode', 'manualSelector']),
    );
    expect(Object.keys((json as any).status)).toEqual(expect.arrayContaining(['startTime', 'completionTime', 'uncountedTerminatedPods']));
    expect(decoded.status.uncountedTerminatedPods).toEqual({ succeeded: ['3c9d2e1a-6b4f-4e0a-8d7c-1f2e3d4c5b6a'], failed: ['7e8f9a0b-1c2d-4e3f-a5b6-c7d8e9f0a1b2'] });
    expect((json as any).status.uncountedTerminatedPods).toEqual({ succeeded: ['3c9d2e1a-6b4f-4e0a-8d7c-1f2e3d4c5b6a'], failed: ['7e8f9a0b-1c2d-4e3f-a5b6-c7d8e9f0a1b2'] });
  });

  test('a Job with unset optional fields leaves them unset', () => {
    const text = 'apiVersion: batch/v1\nkind: Job\nmetadata: {name: q}\nspec:\n  parallelism: 3\n  template:\n    spec:\n      restartPolicy: OnFailure\n      containers: [{name: w, image: busybox}]\n';
    const [m] = parseManifests(text);
    const fns = messageFns(m.kind.typeName);
    const decoded = fns.decode(fns.encode(m.object).finish());
    expect(decoded.spec.completions).toBeUndefined();
    expect(decoded.spec.backoffLimit).toBeUndefined();
    expect((toK8sJson(m.kind.typeName, decoded) as any).spec).toEqual({
      parallelism: 3,
      template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'w', image: 'busybox' }] } },
    });
  });

  test('replicas: 0 survives the round trip (presence is kept for optional fields)', () => {
    const text = read('deployment.yaml').replace('replicas: 3', 'replicas: 0');
    const [m] = parseManifests(text);
    const fns = messageFns(m.kind.typeName);
    const decoded = fns.decode(fns.encode(m.object).finish());
    expect(decoded.spec.replicas).toBe(0);
    expect((toK8sJson(m.kind.typeName, decoded) as any).spec.replicas).toBe(0);
  });

  test('a multi-document file and a List yield every object', () => {
    const text = `${read('service-nodeport.yaml')}\n---\n${read('pod-env.yaml')}\n---\napiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: a}\n  data: {k: v}\n`;
    const objs = parseManifests(text, 'all.yaml');
    expect(objs.map((o) => o.kind.kind)).toEqual(['Service', 'Pod', 'ConfigMap']);
    expect(objs[2].source).toBe('all.yaml#2.items[0]');
  });

  test('a wrong type in a field gives an error naming that field', () => {
    const text = read('deployment.yaml').replace('containerPort: 8080', 'containerPort: "eighty"');
    let err: unknown;
    try {
      parseManifests(text, 'deployment.yaml');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ManifestError);
    const me = err as ManifestError;
    expect(me.problems).toEqual([
      { field: 'spec.template.spec.containers[0].ports[0].containerPort', reason: 'expected integer, got string "eighty"' },
    ]);
    expect(me.message).toContain('deployment.yaml#0');
    expect(me.message).toContain('spec.template.spec.containers[0].ports[0].containerPort');
  });

  test('an unknown kind or a misspelled field is refused clearly', () => {
    expect(() => parseManifests('apiVersion: v1\nkind: Potato\nmetadata: {name: x}\n')).toThrow(
      /no matches for kind "Potato" in version "v1"/,
    );
    expect(() => parseManifests('apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec: {containerz: []}\n')).toThrow(
      /spec\.containerz: unknown field/,
    );
  });
});
