// k8ts-controller-manager: flags (config.ts) -> typed config -> start(config).
import { parseConfig, runMain } from '@k8ts/kit';
import { type ControllerManagerConfig, flags } from './config';
import { start } from './index';

runMain('controller-manager', async () => start(parseConfig<ControllerManagerConfig>('controller-manager', flags, process.argv.slice(2))));
