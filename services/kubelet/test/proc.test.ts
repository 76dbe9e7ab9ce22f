import { isAlive, parseStat, readStat, signalNumber } from '../src/runtime/proc';

describe('/proc', () => {
  it('parses stat lines, also with spaces and parens in the command name', () => {
    const line = '4242 (we ird) cmd)) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 200 18446744073709551615';
    expect(parseStat(line)).toEqual({ pid: 4242, state: 'S', ppid: 1, pgrp: 4242, startTime: 987654 });
  });

  it('reads this process and tells a live process from a reused pid', () => {
    const me = readStat(process.pid)!;
    expect(me.pid).toBe(process.pid);
    expect(isAlive(process.pid)).toBe(true);
    expect(isAlive(process.pid, me.startTime)).toBe(true);
    expect(isAlive(process.pid, me.startTime + 1)).toBe(false);
    expect(isAlive(2 ** 22 + 12345)).toBe(false);
  });

  it('knows signal numbers', () => {
    expect(signalNumber('SIGKILL')).toBe(9);
    expect(signalNumber('SIGTERM')).toBe(15);
    expect(signalNumber(null)).toBe(0);
  });
});
