import { parseConfig, runMain } from '@k8ts/kit';
import { flags, start } from './index';

runMain('controller-manager', async () => start(parseConfig('controller-manager', flags, process.argv.slice(2))));
