#!/usr/bin/env node
// The proxy binary: flags in, start(config), signals handled by the kit.
import { parseConfig, runMain, serverFlags } from '@k8ts/kit';
import { flags, type ProxyConfig, start } from './index';

runMain('proxy', async () => start(parseConfig<ProxyConfig>('proxy', [...serverFlags, ...flags], process.argv.slice(2))));
