// runMain: the body of every component's main.ts. It starts the component and turns signals
// and errors into a clean exit with a meaningful exit code.
import { ConfigError } from './errors';
import { createLogger } from './logging';

/**
 * Runs a service's main: calls start(), installs SIGTERM/SIGINT handlers that call the
 * returned shutdown and exit 0 (exit 1 if shutdown throws; a second signal exits 1 at once).
 * A ConfigError prints '<component>: <message>' to stderr and exits 2; other start errors are
 * logged and exit 1. A signal that arrives while start() runs shuts down as soon as it returns.
 */
export function runMain(component: string, start: () => Promise<{ shutdown(): Promise<void> }>): void {
  let running: { shutdown(): Promise<void> } | undefined;
  let signal: NodeJS.Signals | undefined;
  let stopping = false;

  const stop = () => {
    if (!running || stopping) return;
    stopping = true;
    running.shutdown().then(
      () => process.exit(0),
      (err: unknown) => {
        createLogger(component).error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  const onSignal = (sig: NodeJS.Signals) => {
    if (signal) {
      process.stderr.write(`${component}: received ${sig} again while shutting down: exiting now\n`);
      process.exit(1);
    }
    signal = sig;
    stop();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  let started: Promise<{ shutdown(): Promise<void> }>;
  try {
    started = start();
  } catch (err) {
    started = Promise.reject(err);
  }
  started.then(
    (value) => {
      running = value;
      if (signal) stop();
    },
    (err: unknown) => {
      if (err instanceof ConfigError) {
        process.stderr.write(`${component}: ${err.message}\n`);
        process.exit(2);
      }
      createLogger(component).fatal({ err }, 'start failed');
      process.exit(1);
    },
  );
}
