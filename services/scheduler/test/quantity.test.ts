import { QuantityError, parseQuantity, quantityMilli, quantityValue } from '../src/quantity';
import { computePodRequests } from '../src/resources';

describe('quantity', () => {
  it.each([
    ['500m', 1, 500],
    ['1', 1, 1000],
    ['2.5', 3, 2500],
    ['0.1', 1, 100],
    ['0.0001', 1, 1],
    ['100u', 1, 1],
    ['5n', 1, 1],
    ['1k', 1000, 1_000_000],
    ['1Ki', 1024, 1_024_000],
    ['128Mi', 134_217_728, 134_217_728_000],
    ['1.5Gi', 1_610_612_736, 1_610_612_736_000],
    ['2G', 2_000_000_000, 2_000_000_000_000],
    ['1e3', 1000, 1_000_000],
    ['1E-3', 1, 1],
    ['1.5e2', 150, 150_000],
    ['2Ti', 2 * 1024 ** 4, 2 * 1024 ** 4 * 1000],
    ['1Pi', 1024 ** 5, 1024 ** 5 * 1000],
    ['.5', 1, 500],
    ['+3', 3, 3000],
    ['0', 0, 0],
  ])('%s is %d units and %d milli-units', (text, value, milli) => {
    expect(parseQuantity(text)).toEqual({ value, milli });
  });

  it('is exact where floating point would not be', () => {
    // 0.1 + 0.2 style errors: 1.1Gi = 1181116006.4 bytes, rounded up
    expect(quantityValue('1.1Gi')).toBe(1_181_116_007);
    expect(quantityMilli('0.3')).toBe(300);
    expect(quantityMilli('33.333m')).toBe(34);
    expect(quantityValue('1Ei')).toBe(2 ** 60);
  });

  it.each(['', 'abc', '1.2.3', '5 m', 'm', '1Kb', '--1', '1e'])('rejects %j', (text) => {
    expect(() => parseQuantity(text)).toThrow(QuantityError);
  });

  it('treats absent quantities as zero', () => {
    expect(quantityMilli(undefined)).toBe(0);
    expect(quantityValue({})).toBe(0);
    expect(quantityMilli({ value: '250m' })).toBe(250);
  });
});

describe('pod requests', () => {
  const c = (cpu?: string, memory?: string, restartPolicy?: string) => ({
    name: 'x',
    restartPolicy,
    resources: { requests: { ...(cpu ? { cpu: { value: cpu } } : {}), ...(memory ? { memory: { value: memory } } : {}) } },
  });

  it('sums containers and takes the larger of that and each init container', () => {
    const r = computePodRequests({ containers: [c('100m', '1Gi'), c('200m', '1Gi')], initContainers: [c('500m', '1Mi'), c('50m', '3Gi')] });
    expect(r.requests.milliCpu).toBe(500);
    expect(r.requests.memory).toBe(3 * 1024 ** 3);
  });

  it('adds sidecars (restartable init containers) to the sum and to later init containers', () => {
    const r = computePodRequests({ containers: [c('100m')], initContainers: [c('200m', undefined, 'Always'), c('250m')] });
    // containers 100m + sidecar 200m = 300m; the init container runs next to the sidecar: 450m
    expect(r.requests.milliCpu).toBe(450);
  });

  it('adds the pod overhead', () => {
    const r = computePodRequests({ containers: [c('100m', '10Mi')], overhead: { cpu: { value: '10m' }, memory: { value: '1Mi' } } });
    expect(r.requests.milliCpu).toBe(110);
    expect(r.requests.memory).toBe(11 * 1024 * 1024);
  });

  it('uses limits when requests are missing, and non-zero defaults for scoring', () => {
    const r = computePodRequests({
      containers: [{ name: 'a', resources: { limits: { cpu: { value: '1' } } } }, { name: 'b' }],
    });
    expect(r.requests.milliCpu).toBe(1000);
    expect(r.requests.memory).toBe(0);
    expect(r.nonZeroMilliCpu).toBe(1100);
    expect(r.nonZeroMemory).toBe(2 * 200 * 1024 * 1024);
  });

  it('keeps extended resources apart', () => {
    const r = computePodRequests({ containers: [{ name: 'a', resources: { requests: { 'nvidia.com/gpu': { value: '2' } } } }] });
    expect(r.requests.scalar?.get('nvidia.com/gpu')).toBe(2);
  });
});
