// The logging interface the library writes to: the subset of pino that it uses, so a
// component passes its own pino logger (from @k8ts/kit's createLogger) and the library's
// messages carry the component's bindings. Without one, the library logs nothing.

/** A pino-compatible logger: structured fields first, then the message. */
export interface Logger {
  debug(fields: object, message?: string): void;
  info(fields: object, message?: string): void;
  warn(fields: object, message?: string): void;
  error(fields: object, message?: string): void;
}

const noop = () => {};

/** A logger that drops everything: the default when none is given. */
export const noopLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop };
