// The typed outcome of a plugin call. Plugins return a Status; they never throw to say no.
//   Success                       the node passes / the step worked
//   Unschedulable                 the pod does not fit now; it may after cluster changes
//   UnschedulableAndUnresolvable  the pod does not fit, and evicting pods would not help
//   Error                         something is broken (a malformed spec, an internal error)
//   Skip                          PreFilter/PreScore only: this plugin has nothing to check
//                                 for this pod; its Filter/Score is not called this cycle

export type StatusCode = 'Success' | 'Unschedulable' | 'UnschedulableAndUnresolvable' | 'Error' | 'Skip';

export class Status {
  constructor(
    readonly code: StatusCode,
    readonly reasons: readonly string[] = [],
    /** The plugin that returned it ('' for the framework itself). */
    readonly plugin = '',
    readonly cause?: unknown,
  ) {}

  isSuccess(): boolean {
    return this.code === 'Success';
  }

  isSkip(): boolean {
    return this.code === 'Skip';
  }

  /** Unschedulable or UnschedulableAndUnresolvable. */
  isRejected(): boolean {
    return this.code === 'Unschedulable' || this.code === 'UnschedulableAndUnresolvable';
  }

  /** The reasons joined by ", ". */
  message(): string {
    return this.reasons.join(', ');
  }

  /** The same status attributed to a plugin. */
  withPlugin(plugin: string): Status {
    return plugin === this.plugin ? this : new Status(this.code, this.reasons, plugin, this.cause);
  }

  toString(): string {
    return `${this.code}${this.plugin ? ` (${this.plugin})` : ''}${this.reasons.length ? `: ${this.message()}` : ''}`;
  }

  static unschedulable(plugin: string, ...reasons: string[]): Status {
    return new Status('Unschedulable', reasons, plugin);
  }

  static unresolvable(plugin: string, ...reasons: string[]): Status {
    return new Status('UnschedulableAndUnresolvable', reasons, plugin);
  }

  static error(plugin: string, reason: string, cause?: unknown): Status {
    return new Status('Error', [reason], plugin, cause);
  }

  static skip(plugin = ''): Status {
    return plugin ? new Status('Skip', [], plugin) : SKIP;
  }
}

/** The shared success status (plugins return it to avoid allocating one per node). */
export const SUCCESS = new Status('Success');
export const SKIP = new Status('Skip');
