// The k8ts command line: kubectl's client commands and kind's cluster commands in one
// program, parsed with commander. run() returns the exit code, so tests call it in-process.
import * as fs from 'fs';
import { Command, CommanderError, Option } from 'commander';
import { applyCommand, createFromFiles } from './commands/apply';
import { deleteCommand } from './commands/delete';
import { describeCommand } from './commands/describe';
import { getCommand } from './commands/get';
import {
  apiResourcesCommand,
  clusterInfoCommand,
  configCurrentContext,
  configGetContexts,
  configSetContext,
  configUseContext,
  configView,
  createDeployment,
  createNamespace,
  createServiceAccount,
  createToken,
  versionCommand,
} from './commands/misc';
import { rolloutChange, rolloutHistoryCommand, rolloutStatusCommand, rolloutUndoCommand } from './commands/rollout';
import { logsCommand, scaleCommand, waitCommand } from './commands/workloads';
import { exposeCommand } from './commands/expose';
import { clusterDataDir, down, printKubeconfig, startComponents, status, stopComponents } from './cluster/manage';
import { readyMessage, supervise, up } from './cluster/up';
import { AlreadyReported, CliError, exitCodeOf, formatError } from './errors';
import type { IO } from './io';
import { Session } from './session';
import type { GlobalFlags } from './session';

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** kubectl's booleans: --flag, --flag=true, --flag=false. */
export function parseBool(value: string | undefined): boolean {
  if (value === undefined || value === '' || value === 'true' || value === '1' || value === 'yes') return true;
  if (value === 'false' || value === '0' || value === 'no') return false;
  throw new CliError(`invalid boolean value "${value}": use true or false`);
}

interface Runner {
  io: IO;
  /** Runs a client command with a session made from the global flags. */
  client(cmd: Command, fn: (s: Session) => Promise<void> | void): Promise<void>;
}

function globals(cmd: Command): GlobalFlags & Record<string, unknown> {
  return cmd.optsWithGlobals() as GlobalFlags & Record<string, unknown>;
}

/** Builds the program. Actions throw; run() turns errors into messages and exit codes. */
export function buildProgram(io: IO): Command {
  const program = new Command('k8ts');
  const runner: Runner = {
    io,
    async client(cmd, fn) {
      const session = new Session(io, globals(cmd));
      try {
        await fn(session);
      } catch (e) {
        if (e instanceof AlreadyReported) throw e;
        io.err(formatError(e, { server: session.serverForErrors() }));
        throw new AlreadyReported(exitCodeOf(e));
      } finally {
        session.close();
      }
    },
  };
  program
    .description('k8ts: a Kubernetes-style cluster manager. Start a local cluster with "k8ts up", then use it like kubectl.')
    .option('--config <file>', 'the config file (default: $K8TS_CONFIG or ~/.k8ts/config)')
    .option('--context <name>', 'the context of the config file to use')
    .option('-s, --server <address>', "the apiserver's address, host:port")
    .option('--token <token>', 'the bearer token for the apiserver')
    .option('-n, --namespace <namespace>', 'the namespace of this request')
    .option('--request-timeout <duration>', 'how long a single call may take, e.g. 30s (0: the default)')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) })
    .exitOverride();

  // ---- client commands ----

  program
    .command('apply')
    .description('Create or update objects from manifests (YAML or JSON): files, directories or - for stdin')
    .requiredOption('-f, --filename <file>', 'a file, directory or - (repeatable)', collect)
    .option('-R, --recursive', 'descend into directories')
    .option('--dry-run [mode]', 'client or server: only show what would happen')
    .option('-o, --output <format>', 'name: print only kind/name')
    .action(async (opts, cmd) => runner.client(cmd, (s) => applyCommand(s, opts)));

  const create = program
    .command('create')
    .description('Create objects from manifests (-f), or a namespace, service account, deployment or token')
    .option('-f, --filename <file>', 'a file, directory or - (repeatable)', collect)
    .option('-R, --recursive', 'descend into directories')
    .option('--dry-run [mode]', 'client or server')
    .option('-o, --output <format>', 'name: print only kind/name')
    .action(async (opts, cmd) => {
      if (!opts.filename) {
        cmd.help({ error: true });
        return;
      }
      await runner.client(cmd, (s) => createFromFiles(s, opts));
    });
  create
    .command('namespace')
    .alias('ns')
    .argument('<name>')
    .description('Create a namespace')
    .action(async (name, _opts, cmd) => runner.client(cmd, (s) => createNamespace(s, name)));
  create
    .command('serviceaccount')
    .alias('sa')
    .argument('<name>')
    .description('Create a service account')
    .action(async (name, _opts, cmd) => runner.client(cmd, (s) => createServiceAccount(s, name)));
  create
    .command('deployment')
    .alias('deploy')
    .argument('<name>')
    .description('Create a deployment')
    .option('--image <image>', 'container image (repeatable)', collect)
    .option('--replicas <n>', 'number of replicas', '1')
    .option('--port <port>', 'the container port')
    .action(async (name, opts, cmd) => runner.client(cmd, (s) => createDeployment(s, name, opts)));
  create
    .command('token')
    .argument('<serviceaccount>')
    .description("Request a token of a service account (the apiserver's token subresource)")
    .option('--duration <duration>', 'lifetime, e.g. 1h (default: no expiry)')
    .option('--audience <audience>', 'audience (repeatable)', collect)
    .action(async (name, opts, cmd) => runner.client(cmd, (s) => createToken(s, name, opts)));

  program
    .command('get')
    .description('Show objects in tables (or yaml, json, name, jsonpath)')
    .argument('[resources...]', 'TYPE[,TYPE...] [NAME...] or TYPE/NAME...')
    .option('-o, --output <format>', 'wide, yaml, json, name or jsonpath=TEMPLATE')
    .option('-l, --selector <selector>', 'label selector, e.g. app=web,tier!=db')
    .option('--field-selector <selector>', 'field selector, e.g. spec.nodeName=node-1')
    .option('-A, --all-namespaces', 'objects of every namespace')
    .option('-w, --watch', 'after listing, keep printing objects as they change')
    .option('--watch-only', 'print changes only, without the initial list')
    .option('--output-watch-events', 'with --watch: print the event type (ADDED, MODIFIED, DELETED)')
    .option('--show-labels', 'add a LABELS column')
    .option('--no-headers', 'leave out the header line')
    .option('--ignore-not-found', 'do not report objects that do not exist')
    .action(async (resources, opts, cmd) => runner.client(cmd, (s) => getCommand(s, resources, { ...opts, noHeaders: opts.headers === false })));

  program
    .command('describe')
    .description('Show the details of objects, with their events')
    .argument('<resources...>', 'TYPE [NAME...] or TYPE/NAME...')
    .option('-l, --selector <selector>', 'label selector')
    .option('-A, --all-namespaces', 'objects of every namespace')
    .addOption(new Option('--show-events [bool]', 'include events').default(true).argParser(parseBool))
    .action(async (resources, opts, cmd) => runner.client(cmd, (s) => describeCommand(s, resources, opts)));

  program
    .command('delete')
    .description('Delete objects by type and name, by selector, or from manifests (-f)')
    .argument('[resources...]', 'TYPE NAME... or TYPE/NAME...')
    .option('-f, --filename <file>', 'a file, directory or - (repeatable)', collect)
    .option('-R, --recursive', 'descend into directories')
    .option('-l, --selector <selector>', 'label selector')
    .option('--field-selector <selector>', 'field selector')
    .option('--all', 'every object of the types given')
    .option('-A, --all-namespaces', 'with --all or -l: in every namespace')
    .option('--grace-period <seconds>', 'seconds the object gets to stop (-1: its default; 0 with --force: at once)')
    .option('--now', 'signal the object to stop at once (grace period 1)')
    .option('--force', 'with --grace-period=0: remove at once, without waiting for confirmation')
    .option('--cascade <policy>', 'background, foreground or orphan', 'background')
    .addOption(new Option('--wait [bool]', 'wait until the objects are gone').default(true).argParser(parseBool))
    .option('--timeout <duration>', 'how long to wait (0: a day)')
    .option('--ignore-not-found', 'treat "not found" as success')
    .option('-o, --output <format>', 'name: print only kind/name')
    .action(async (resources, opts, cmd) => runner.client(cmd, (s) => deleteCommand(s, resources, opts)));

  program
    .command('scale')
    .description('Set the replicas of a deployment or replicaset')
    .argument('<resource...>', 'deployment/NAME or deployment NAME')
    .option('--replicas <n>', 'the new number of replicas')
    .option('--current-replicas <n>', 'only if it currently has this many')
    .action(async (resource, opts, cmd) => runner.client(cmd, (s) => scaleCommand(s, resource, opts)));

  program
    .command('expose')
    .description('Make a Service for a deployment, replicaset, pod or service (its selector, labels and ports)')
    .argument('<resource...>', 'deployment/NAME or deployment NAME (also replicaset, pod, service)')
    .option('--port <port>', 'the Service port (default: the container ports the pods declare)')
    .option('--target-port <port>', "the pods' port, a number or a container port name (default: the same as --port)")
    .option('--protocol <protocol>', 'TCP, UDP or SCTP (default: the container port\'s, else TCP)')
    .option('--name <name>', "the Service's name (default: the exposed object's)")
    .option('--type <type>', 'ClusterIP (default), NodePort or LoadBalancer')
    .option('--selector <k=v,...>', "the pods to send traffic to (default: the object's selector, a pod's labels)")
    .option('--labels <k=v,...>', "the Service's labels (default: the object's)")
    .option('--session-affinity <affinity>', 'None (default) or ClientIP')
    .action(async (resource, opts, cmd) => runner.client(cmd, (s) => exposeCommand(s, resource, opts)));

  program
    .command('logs')
    .description("Print a container's log")
    .argument('[pod...]', 'POD [CONTAINER], or deployment/NAME')
    .option('-c, --container <name>', 'the container')
    .option('-f, --follow', 'keep printing as the log grows')
    .option('--tail <lines>', 'only the last lines (-1: all)')
    .option('-p, --previous', "the previous instance's log (after a restart)")
    .option('--timestamps', 'prefix each line with its time')
    .option('--since <duration>', 'only lines newer than this, e.g. 5m')
    .option('-l, --selector <selector>', 'the pods of a label selector')
    .option('--all-containers', 'every container of the pod')
    .option('--prefix', 'prefix each line with the pod and container')
    .action(async (pod, opts, cmd) => runner.client(cmd, (s) => logsCommand(s, pod, opts)));

  const rollout = program.command('rollout').description('Follow and manage the rollouts of deployments');
  rollout
    .command('status')
    .argument('<resource...>', 'deployment/NAME')
    .description('Wait until the rollout completes, printing its progress')
    .option('--timeout <duration>', 'give up after this long (0: never)')
    .addOption(new Option('-w, --watch [bool]', 'keep watching until done').default(true).argParser(parseBool))
    .action(async (resource, opts, cmd) => runner.client(cmd, (s) => rolloutStatusCommand(s, resource, opts)));
  rollout
    .command('history')
    .argument('<resource...>', 'deployment/NAME')
    .description("List the deployment's revisions")
    .option('--revision <n>', "show one revision's pod template")
    .action(async (resource, opts, cmd) => runner.client(cmd, (s) => rolloutHistoryCommand(s, resource, opts)));
  rollout
    .command('undo')
    .argument('<resource...>', 'deployment/NAME')
    .description('Roll back to the previous (or a given) revision')
    .option('--to-revision <n>', 'the revision to go back to (0: the previous one)')
    .action(async (resource, opts, cmd) => runner.client(cmd, (s) => rolloutUndoCommand(s, resource, opts)));
  for (const what of ['restart', 'pause', 'resume'] as const) {
    rollout
      .command(what)
      .argument('<resource...>', 'deployment/NAME')
      .description(what === 'restart' ? 'Replace every pod with a new one' : what === 'pause' ? 'Stop rolling out changes' : 'Roll out changes again')
      .action(async (resource, _opts, cmd) => runner.client(cmd, (s) => rolloutChange(s, resource, what)));
  }

  program
    .command('wait')
    .description('Wait for a condition on objects (--for=condition=Ready, --for=delete)')
    .argument('<resources...>', 'TYPE/NAME..., or TYPE with -l or --all')
    .option('--for <condition>', 'delete, condition=TYPE[=VALUE], or jsonpath={.path}=VALUE')
    .option('--timeout <duration>', 'give up after this long', '30s')
    .option('-l, --selector <selector>', 'label selector')
    .option('--all', 'every object of the type')
    .option('-A, --all-namespaces', 'in every namespace')
    .action(async (resources, opts, cmd) => runner.client(cmd, (s) => waitCommand(s, resources, opts)));

  program
    .command('version')
    .description('Print the client and server versions')
    .option('--client', 'the client version only')
    .option('-o, --output <format>', 'json')
    .action(async (opts, cmd) => runner.client(cmd, (s) => versionCommand(s, opts)));

  program
    .command('cluster-info')
    .description('Show where the control plane runs')
    .action(async (_opts, cmd) => runner.client(cmd, (s) => clusterInfoCommand(s)));

  program
    .command('api-resources')
    .description('List the kinds the server serves')
    .action(async (_opts, cmd) => runner.client(cmd, (s) => apiResourcesCommand(s)));

  const config = program.command('config').description('Show and change the config file');
  config
    .command('view')
    .option('--raw', 'show tokens')
    .action(async (opts, cmd) => runner.client(cmd, (s) => configView(s, opts)));
  config.command('get-contexts').action(async (_o, cmd) => runner.client(cmd, (s) => configGetContexts(s)));
  config.command('current-context').action(async (_o, cmd) => runner.client(cmd, (s) => configCurrentContext(s)));
  config
    .command('use-context')
    .argument('<name>')
    .action(async (name, _o, cmd) => runner.client(cmd, (s) => configUseContext(s, name)));
  config
    .command('set-context')
    .argument('[name]')
    .description('Change a context: --namespace, --server, --token (the global flags) are written into it')
    .option('--current', 'the current context')
    .action(async (name, _opts, cmd) => {
      const o = globals(cmd);
      await runner.client(cmd, (s) =>
        configSetContext(s, name, { current: Boolean(o.current), namespace: o.namespace, server: o.server, token: o.token }),
      );
    });

  // ---- the local cluster ----

  const local = async (_cmd: Command, fn: () => Promise<void>) => {
    try {
      await fn();
    } catch (e) {
      io.err(formatError(e));
      throw new AlreadyReported(exitCodeOf(e));
    }
  };

  program
    .command('up')
    .description('Start a local multi-node cluster (NATS, store, apiserver, scheduler, controller-manager, and a kubelet and a proxy per node)')
    .option('--nodes <n>', 'number of nodes (default 3)')
    .option('--runtime <runtime>', 'process (pods are processes) or sim (simulated pods)')
    .option('--sim-nodes <n>', 'also run this many simulated nodes in one kubelet process')
    .option('--data-dir <dir>', 'where the cluster keeps its state, keys and logs (default ~/.k8ts/clusters/default)')
    .option('--detach', 'return once the cluster is ready, leaving it running')
    .option('--no-config-update', 'do not add the cluster to the default config file')
    .option('--name <name>', 'the cluster name (default: the data dir name)')
    .option('--apiserver-port <port>', 'the apiserver port on 127.0.0.1 (default: the last one, or a free port)')
    .option('--apiserver-https-port <port>', "the apiserver's HTTPS (Kubernetes API) port on 127.0.0.1 (default: the last one, or a free port)")
    .option('--node-subnet <cidr>', 'node i gets the i-th address of this /24 (default 127.10.0.0/24)')
    .option('--cluster-cidr <cidr>', 'pod CIDRs (one /24 per node) come from it (default 127.244.0.0/16)')
    .option('--service-cidr <cidr>', 'Service cluster IPs come from it (default 127.96.0.0/16)')
    .option('--component-arg <component:flag>', 'an extra flag for a component, e.g. controller-manager:--node-monitor-grace-period=10s (repeatable)', collect)
    .option('--timeout <duration>', 'how long to wait for the cluster to be ready (default 2m)')
    .option('--log-level <level>', "the components' log level (default info)")
    .option('--nats-sync <always|duration>', 'how often NATS fsyncs the cluster state: always (before every acknowledged write; the default) or an interval such as 2m (faster writes; a power loss can lose that much)')
    .action(async (opts, cmd) =>
      local(cmd, async () => {
        const result = await up(io, opts);
        io.out(readyMessage(result, Boolean(opts.detach)));
        if (!opts.detach) await supervise(io, result, result.children);
      }),
    );
  program
    .command('down')
    .description('Stop the local cluster (its state stays in the data dir)')
    .option('--data-dir <dir>', 'the cluster (default: the current context\'s, or ~/.k8ts/clusters/default)')
    .option('--delete', 'also delete the data dir: the cluster is gone for good')
    .action(async (opts, cmd) =>
      local(cmd, async () => {
        const dir = clusterDataDir(opts.dataDir, io, globals(cmd).config);
        await down(io, dir);
        if (opts.delete) {
          fs.rmSync(dir, { recursive: true, force: true });
          io.err(`Deleted ${dir}.\n`);
        }
      }),
    );
  program
    .command('status')
    .description("Show each component's health and address")
    .option('--data-dir <dir>', 'the cluster')
    .option('-o, --output <format>', 'json')
    .action(async (opts, cmd) => local(cmd, () => status(io, clusterDataDir(opts.dataDir, io, globals(cmd).config), opts)));
  program
    .command('kubeconfig')
    .description('Print the kubeconfig of the local cluster (for kubectl and Kubernetes client libraries)')
    .option('--data-dir <dir>', 'the cluster')
    .action(async (opts, cmd) => local(cmd, async () => printKubeconfig(io, clusterDataDir(opts.dataDir, io, globals(cmd).config))));
  program
    .command('stop')
    .description('Stop components of the local cluster, e.g. kubelet-node-2 (a node name: its kubelet and proxy)')
    .argument('<components...>')
    .option('--data-dir <dir>', 'the cluster')
    .action(async (components, opts, cmd) => local(cmd, () => stopComponents(io, clusterDataDir(opts.dataDir, io, globals(cmd).config), components)));
  program
    .command('start')
    .description('Start stopped components of the local cluster again')
    .argument('<components...>')
    .option('--data-dir <dir>', 'the cluster')
    .action(async (components, opts, cmd) => local(cmd, () => startComponents(io, clusterDataDir(opts.dataDir, io, globals(cmd).config), components)));

  return program;
}

/** Runs the command line (without node and the script) and resolves with the exit code. */
export async function run(argv: string[], io: IO): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof AlreadyReported) return e.exitCode;
    if (e instanceof CommanderError) {
      // Help and version exit 0; commander already printed its message.
      return e.exitCode === 0 || e.code === 'commander.helpDisplayed' || e.code === 'commander.help' ? 0 : e.exitCode || 1;
    }
    io.err(formatError(e));
    return exitCodeOf(e);
  }
}
