// Logging: pino JSON lines on stderr, one object per line, with the component name on every
// line and the level as text ("info", "debug", ...), so that any log tool can read them.
import pino from 'pino';
import type { Logger } from 'pino';

/**
 * A pino logger writing JSON lines to stderr (synchronously, so nothing is lost when the
 * process exits right after logging). `level` defaults to K8TS_LOG_LEVEL or 'info'.
 */
export function createLogger(component: string, level?: string): Logger {
  const fromEnv = process.env.K8TS_LOG_LEVEL;
  const fallback = fromEnv && (fromEnv in pino.levels.values || fromEnv === 'silent') ? fromEnv : 'info';
  return pino(
    {
      level: level ?? fallback,
      base: { component, pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    pino.destination({ dest: 2, sync: true }),
  );
}
