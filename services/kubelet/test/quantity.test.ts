import { memoryLimit, milliCpu, parseQuantity, podRequests, wholeUnits } from '../src/quantity';

describe('quantities', () => {
  it('parses Kubernetes quantity suffixes and exponents', () => {
    expect(milliCpu('500m')).toBe(500);
    expect(milliCpu('2')).toBe(2000);
    expect(milliCpu('0.1')).toBe(100);
    expect(milliCpu({ value: '1.5' })).toBe(1500);
    expect(wholeUnits('128Mi')).toBe(128 * 2 ** 20);
    expect(wholeUnits('1G')).toBe(1e9);
    expect(wholeUnits('1e3')).toBe(1000);
    expect(wholeUnits('1.5Ki')).toBe(1536);
    expect(parseQuantity('')).toBe(0);
    expect(parseQuantity(undefined)).toBe(0);
    expect(() => parseQuantity('12 apples')).toThrow(/malformed quantity/);
  });

  it("computes a pod's effective requests: max(sum of containers, largest init container) + overhead", () => {
    const req = (cpu: string, memory: string) => ({ requests: { cpu: { value: cpu }, memory: { value: memory } } });
    expect(
      podRequests({
        containers: [
          { name: 'a', resources: req('100m', '64Mi') },
          { name: 'b', resources: { limits: { cpu: { value: '200m' } } } },
        ],
        initContainers: [{ name: 'i', resources: req('500m', '16Mi') }],
        overhead: { cpu: { value: '10m' } },
      }),
    ).toEqual({ cpuMilli: 510, memoryBytes: 64 * 2 ** 20 });
    // A sidecar keeps running beside the regular containers.
    expect(
      podRequests({
        containers: [{ name: 'a', resources: req('100m', '0') }],
        initContainers: [{ name: 's', restartPolicy: 'Always', resources: req('50m', '0') }],
      }).cpuMilli,
    ).toBe(150);
    expect(podRequests(undefined)).toEqual({ cpuMilli: 0, memoryBytes: 0 });
  });

  it("reads a container's memory limit", () => {
    expect(memoryLimit({ name: 'a', resources: { limits: { memory: { value: '100Mi' } } } })).toBe(100 * 2 ** 20);
    expect(memoryLimit({ name: 'a' })).toBeUndefined();
  });
});
