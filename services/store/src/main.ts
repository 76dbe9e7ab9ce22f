// The store's process entry: flags (config.ts) and environment into the typed config, start(config), SIGTERM out.
//   node services/store/dist/main.js --listen 127.0.0.1:2379 --nats-url nats://127.0.0.1:4222
import { parseConfig, runMain } from '@k8ts/kit';
import { type StoreConfig, storeFlags } from './config';
import { start } from './index';

runMain('store', async () => start(parseConfig<StoreConfig>('store', storeFlags, process.argv.slice(2))));
