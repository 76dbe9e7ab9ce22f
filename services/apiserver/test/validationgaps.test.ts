// Kubernetes' rules that k8ts missed (issue 16): a resourceVersion on create is refused by the
// registry (so by both doors), the 256 KiB annotation limit counts UTF-8 bytes, and
// spec.preemptionPolicy is one of PreemptLowerPriority and Never.
import * as grpc from '@grpc/grpc-js';
import pino from 'pino';
import { type KindInfo, kindFor } from '@k8ts/api';
import { AdmissionChain } from '../src/admission';
import { PortRange, ServiceIPRange } from '../src/allocator/ranges';
import { CacheHub } from '../src/cache/hub';
import { ApiError } from '../src/errors';
import { Registry, RESOURCE_VERSION_ON_CREATE } from '../src/registry/registry';
import { strategyFor } from '../src/strategies';
import { createErrors, pod } from './helpers';
import { MemoryKV } from './memorykv';

const K = (apiVersion: string, kind: string): KindInfo => kindFor(apiVersion, kind)!;
const CMS = K('v1', 'ConfigMap');

async function newRegistry(): Promise<Registry> {
  const kv = new MemoryKV();
  const hub = new CacheHub(kv, kv.feed(), pino({ level: 'silent' }), { maxEvents: 100, historyMs: 60_000 });
  await hub.start();
  return new Registry({
    kv,
    hub,
    admission: new AdmissionChain([]),
    serviceIPs: new ServiceIPRange('127.96.0.0/24'),
    nodePorts: PortRange.parse('30000-30002'),
    logger: pino({ level: 'silent' }),
  });
}

describe('resourceVersion on create', () => {
  test('is refused with Kubernetes message, 400 BadRequest / INVALID_ARGUMENT, and nothing is stored', async () => {
    const registry = await newRegistry();
    const attempt = registry.create(CMS, { metadata: { name: 'cm', namespace: 'default', resourceVersion: '42' } });
    await expect(attempt).rejects.toBeInstanceOf(ApiError);
    await expect(attempt).rejects.toMatchObject({
      code: grpc.status.INVALID_ARGUMENT,
      httpCode: 400,
      reason: 'BadRequest',
      message: 'resourceVersion should not be set on objects to be created',
    });
    expect(RESOURCE_VERSION_ON_CREATE).toBe('resourceVersion should not be set on objects to be created');
    expect(await registry.read(CMS, 'default', 'cm')).toBeUndefined();
  });

  test('a create without one is stored and answered with the new resourceVersion', async () => {
    const registry = await newRegistry();
    const created = await registry.create(CMS, { metadata: { name: 'cm', namespace: 'default', resourceVersion: '' } });
    expect(Number(created.metadata?.resourceVersion)).toBeGreaterThan(0);
  });
});

describe('annotations', () => {
  const cms = strategyFor('configmaps');
  const withAnnotation = (value: string) => ({ metadata: { name: 'cm', namespace: 'default', annotations: { a: value } } });
  const TOO_LONG = 'metadata.annotations: Too long: may not be more than 262144 bytes';

  test('count UTF-8 bytes: 100,000 euro signs are 300,000 bytes, over the limit', () => {
    const value = '€'.repeat(100_000);
    expect(value.length).toBeLessThan(256 * 1024);
    expect(createErrors(cms, withAnnotation(value))).toEqual([TOO_LONG]);
  });

  test('ASCII up to the limit passes; one byte more does not', () => {
    // key "a" (1 byte) + value
    expect(createErrors(cms, withAnnotation('x'.repeat(256 * 1024 - 1)))).toEqual([]);
    expect(createErrors(cms, withAnnotation('x'.repeat(256 * 1024)))).toEqual([TOO_LONG]);
  });
});

describe('spec.preemptionPolicy', () => {
  const pods = strategyFor('pods');

  test('an unknown value is NotSupported, with the supported values in Kubernetes order', () => {
    expect(createErrors(pods, pod('web', { preemptionPolicy: 'Maybe' }))).toEqual([
      'spec.preemptionPolicy: Unsupported value: "Maybe": supported values: "PreemptLowerPriority", "Never"',
    ]);
  });

  test('an empty value is Required; the two policies and an unset field pass', () => {
    expect(createErrors(pods, pod('web', { preemptionPolicy: '' }))).toEqual(['spec.preemptionPolicy: Required value']);
    for (const policy of ['PreemptLowerPriority', 'Never']) expect(createErrors(pods, pod('web', { preemptionPolicy: policy }))).toEqual([]);
    expect(createErrors(pods, pod('web'))).toEqual([]);
  });

  test('pod templates are checked too (a Deployment)', () => {
    const deployments = strategyFor('deployments');
    const template = { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'app', image: 'nginx:1.27' }], preemptionPolicy: 'Sometimes' } };
    const errs = createErrors(deployments, { metadata: { name: 'web', namespace: 'default' }, spec: { selector: { matchLabels: { app: 'web' } }, template } });
    expect(errs).toContain('spec.template.spec.preemptionPolicy: Unsupported value: "Sometimes": supported values: "PreemptLowerPriority", "Never"');
  });
});
