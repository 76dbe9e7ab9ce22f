import { fromK8sJson, kindByName } from '@k8ts/api';
import { LAST_APPLIED, applyPatch, jsonEqual, lastAppliedOf, withLastApplied } from '../src/apply/merge';
import type { Json } from '../src/apply/merge';
import { parseManifestText } from '../src/apply/manifests';
import { toJson } from '../src/printers/output';

type O = { [k: string]: Json };

// The merge itself is @k8ts/machinery's strategic merge patch (tested there); these check
// that `apply` drives it as kubectl does: last applied, manifest, live.
describe('apply patch (three-way strategic merge)', () => {
  const DEPLOY = 'k8ts.apps.v1.Deployment';
  const SVC = 'k8ts.core.v1.Service';
  const withLast = (obj: O, last: O): O => ({ ...obj, metadata: { ...((obj.metadata as O) ?? {}), annotations: { [LAST_APPLIED]: JSON.stringify(last) } } });
  test('the manifest replaces what it sets and keeps what the server set', () => {
    const live = { metadata: { name: 'w' }, spec: { replicas: 3, revisionHistoryLimit: 10 }, status: { replicas: 3 } };
    const out = applyPatch(DEPLOY, live, { metadata: { name: 'w' }, spec: { replicas: 5 } }) as any;
    expect(out.spec).toEqual({ replicas: 5, revisionHistoryLimit: 10 });
    expect(out.status).toEqual({ replicas: 3 });
  });
  test('fields of the last manifest that are gone now are removed, others are kept', () => {
    const last = { metadata: { name: 'w', labels: { app: 'web', tier: 'fe' } } };
    const live = withLast({ metadata: { name: 'w', labels: { app: 'web', tier: 'fe', added: 'by-hand' } } }, last);
    const out = applyPatch(DEPLOY, live, { metadata: { name: 'w', labels: { app: 'web' } } }) as any;
    expect(out.metadata.labels).toEqual({ app: 'web', added: 'by-hand' });
  });
  test('containers merge by name, keeping server defaults inside them and containers added by others', () => {
    const live: O = { metadata: { name: 'w' }, spec: { template: { spec: { containers: [{ name: 'a', image: 'x:1', imagePullPolicy: 'IfNotPresent' }, { name: 'b', image: 'y' }] } } } };
    const out = applyPatch(DEPLOY, live, { metadata: { name: 'w' }, spec: { template: { spec: { containers: [{ name: 'a', image: 'x:2' }] } } } }) as any;
    expect(out.spec.template.spec.containers).toEqual([
      { name: 'a', image: 'x:2', imagePullPolicy: 'IfNotPresent' },
      { name: 'b', image: 'y' },
    ]);
  });
  test('service ports merge by port and keep their nodePort', () => {
    const live = { metadata: { name: 's' }, spec: { ports: [{ port: 80, targetPort: 8080, protocol: 'TCP', nodePort: 30001 }] } };
    const out = applyPatch(SVC, live, { metadata: { name: 's' }, spec: { ports: [{ port: 80, targetPort: 9090 }] } }) as any;
    expect(out.spec.ports).toEqual([{ port: 80, targetPort: 9090, protocol: 'TCP', nodePort: 30001 }]);
  });
  test('lists without a merge strategy (args) are replaced', () => {
    const live = { metadata: { name: 'w' }, spec: { template: { spec: { containers: [{ name: 'a', args: ['x', 'y'] }] } } } };
    const out = applyPatch(DEPLOY, live, { metadata: { name: 'w' }, spec: { template: { spec: { containers: [{ name: 'a', args: ['z'] }] } } } }) as any;
    expect(out.spec.template.spec.containers[0].args).toEqual(['z']);
  });
  test('jsonEqual ignores key order and undefined', () => {
    expect(jsonEqual({ a: 1, b: [1, { c: 2 }] }, { b: [1, { c: 2 }], a: 1, d: undefined })).toBe(true);
    expect(jsonEqual({ a: [1, 2] }, { a: [2, 1] })).toBe(false);
  });
});

const DEPLOYMENT = `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: echo
        image: k8ts/echo
        ports: [{containerPort: 8080}]
`;

/** What a server does to a created Deployment: identity, defaults, status. */
function serverSide(json: O): O {
  const obj = JSON.parse(JSON.stringify(json)) as any;
  obj.metadata = { ...obj.metadata, namespace: 'default', uid: 'u-1', resourceVersion: '7', generation: 1, creationTimestamp: '2026-01-01T00:00:00Z' };
  obj.spec.strategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } };
  obj.spec.revisionHistoryLimit = 10;
  const c = obj.spec.template.spec.containers[0];
  c.imagePullPolicy = 'IfNotPresent';
  c.terminationMessagePath = '/dev/termination-log';
  c.ports[0].protocol = 'TCP';
  obj.spec.template.spec.restartPolicy = 'Always';
  obj.status = { replicas: 3, readyReplicas: 3, observedGeneration: 1 };
  return obj;
}

describe('apply over a live object', () => {
  const kind = kindByName('deployment')!;
  const [m] = parseManifestText(DEPLOYMENT, 'web.yaml');
  const manifest = { ...m.json, metadata: { ...(m.json.metadata as O), namespace: 'default' } };
  // Live as the server keeps it: created from the manifest plus its annotation.
  const live = toJson(kind, fromK8sJson(kind.typeName, serverSide(withLastApplied(manifest)))) as O;

  test('applying the same manifest again changes nothing', () => {
    const merged = applyPatch(kind.typeName, live, manifest);
    const normalized = toJson(kind, fromK8sJson(kind.typeName, merged));
    expect(jsonEqual(normalized, live)).toBe(true);
  });

  test('a change keeps resourceVersion, uid, status and defaults', () => {
    const changed = JSON.parse(JSON.stringify(manifest));
    changed.spec.replicas = 5;
    changed.spec.template.spec.containers[0].image = 'k8ts/echo:2';
    const merged = applyPatch(kind.typeName, live, changed) as any;
    expect(merged.spec.replicas).toBe(5);
    expect(merged.metadata.resourceVersion).toBe('7');
    expect(merged.metadata.uid).toBe('u-1');
    expect(merged.status.readyReplicas).toBe(3);
    expect(merged.spec.revisionHistoryLimit).toBe(10);
    expect(merged.spec.template.spec.containers[0]).toMatchObject({ image: 'k8ts/echo:2', imagePullPolicy: 'IfNotPresent', terminationMessagePath: '/dev/termination-log' });
    expect(JSON.parse(merged.metadata.annotations[LAST_APPLIED]).spec.replicas).toBe(5);
    expect(jsonEqual(toJson(kind, fromK8sJson(kind.typeName, merged)), live)).toBe(false);
  });

  test('a label dropped from the manifest is removed; one added by hand stays', () => {
    const withTier = JSON.parse(JSON.stringify(manifest));
    withTier.metadata.labels.tier = 'fe';
    const afterFirst = applyPatch(kind.typeName, live, withTier) as any;
    afterFirst.metadata.labels.owner = 'ops';
    const afterSecond = applyPatch(kind.typeName, afterFirst, manifest) as any;
    expect(afterSecond.metadata.labels).toEqual({ app: 'web', owner: 'ops' });
  });

  test('the recorded manifest has no status and no nested annotation', () => {
    const rec = lastAppliedOf(applyPatch(kind.typeName, live, manifest))!;
    expect(rec.status).toBeUndefined();
    expect((rec.metadata as O).annotations).toBeUndefined();
  });
});

describe('parseManifestText', () => {
  test('multi-document YAML, Lists and JSON', () => {
    const text = `${DEPLOYMENT}\n---\napiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Service, metadata: {name: a}, spec: {ports: [{port: 80}]}}\n- {apiVersion: v1, kind: Namespace, metadata: {name: n}}\n---\n`;
    const ms = parseManifestText(text, 'all.yaml');
    expect(ms.map((m) => `${m.kind.kind}/${(m.json.metadata as O).name}`)).toEqual(['Deployment/web', 'Service/a', 'Namespace/n']);
    expect(parseManifestText('{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"data":{"k":"v"}}', 'c.json')[0].kind.kind).toBe('ConfigMap');
  });
  test('errors name the file, the document and the field', () => {
    expect(() => parseManifestText('apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec: {replicas: "three"}\n', 'x.yaml')).toThrow(
      /error validating "x.yaml": Deployment spec.replicas: expected integer, got string "three"/,
    );
    expect(() => parseManifestText('a: 1\n---\nkind: Pod\n', 'y.yaml')).toThrow(/"y.yaml" \(document 1\): apiVersion not set/);
    expect(() => parseManifestText('apiVersion: v1\nkind: Potato\n', 'p.yaml')).toThrow(/no matches for kind "Potato" in version "v1"/);
    expect(() => parseManifestText('key: [unclosed\n', 'b.yaml')).toThrow(/error parsing "b.yaml"/);
  });
});
