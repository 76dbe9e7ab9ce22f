// Runtimes: the interface, the process and sim implementations, and what they are built from.
export * from './types';
export { ProcessRuntime } from './process';
export type { ProcessRuntimeOptions } from './process';
export { SimRuntime, SIM_RUN_SECONDS, SIM_EXIT_CODE } from './sim';
export type { SimRuntimeOptions } from './sim';
export { IpAllocator, IpamExhaustedError, parseCidr } from './ipam';
export { resolveEnv, expandVars, builtinEnv, fieldRefValue, resourceFieldValue, EnvError, emptyEnvSource, staticEnvSource } from './env';
export type { EnvSource, EnvContext } from './env';
export { LogWatcher, readLog, readLogLines, renderLines, followLog, rotatedFiles, rfc3339Nano, DEFAULT_LOG_ROTATION } from './logs';
export type { LogRotation, LogLine, LogReadOptions, FollowOptions } from './logs';
export { isAlive, killGroup, readStat, parseStat, processGroups, groupRss } from './proc';
export type { ProcStat } from './proc';
