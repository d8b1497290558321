/**
 * `berthd` command line: flags → configuration → daemon; SIGHUP reloads runtimes, SIGTERM/SIGINT stop; V8's heap is
 * compacted when the daemon goes idle after work (idle-heap.ts).
 *
 * @module
 */
import { createRequire } from 'node:module';
import { Command, Option } from 'commander';
import { BerthError } from '../errdefs/index.ts';
import { mallocTrimUnavailable } from '../host/index.ts';
import { type DaemonFlags, mergeDaemonConfig, readConfigFile } from './config.ts';
import { startDaemon } from './daemon.ts';
import { giveBackMemoryWhenIdle } from './idle-heap.ts';

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

const collect = (value: string, previous: string[] = []) => [...previous, value];

function program(): Command {
  return new Command('berthd')
    .description('berth daemon: serves the Docker Engine API (runtimes, runs) on a unix socket')
    .version(version, '-v, --version')
    .option('-H, --host <unix://path>', 'socket to listen on (default unix:///run/berth/berth.sock)')
    .option('--data-root <dir>', 'persistent state (default /var/lib/berth)')
    .option('--exec-root <dir>', 'runtime state, sockets, bundles (default /run/berth)')
    .option('-p, --pidfile <file>', 'pid file (default /run/berth/berthd.pid)')
    .option(
      '--config-file <file>',
      'daemon.json-style configuration (default /etc/berth/daemon.json if present)',
    )
    .option('-l, --log-level <level>', 'trace, debug, info, warn, error or fatal (default info)')
    .option(
      '-G, --group <name>',
      'group owning the socket, mode 0660 (default: "berth" if it exists, else root only)',
    )
    .option('--add-runtime <name=path>', 'register a runc-compatible runtime (repeatable)', collect)
    .option('--default-runtime <name>', 'runtime used when none is named (default runc)')
    .option('--authorization-plugin <name>', 'authorization plugin, in chain order (repeatable)', collect)
    .option(
      '--insecure-registry <host>',
      'registry reachable over plain HTTP, host[:port] or CIDR (repeatable; loopback always is)',
      collect,
    )
    .option('--sync-cri <file>', 'keep this CRI drop-in equal to the runtimes, rewritten after each reload')
    .option('--sync-cri-format <format>', 'containerd (1.x, default), containerd-v3 (2.x) or crio')
    .option(
      '--sync-cri-config <file>',
      "containerd's main config: imports the drop-in; a 1.x drop-in carries its CRI section",
    )
    .option(
      '--containerd <unix://path>',
      "run plugins and runs through this containerd's gRPC API (default: runc directly)",
    )
    .option('--containerd-namespace <name>', "berth's containerd namespace (default berth)")
    .option('--live-restore', 'leave plugins running when berthd stops; the next berthd adopts them')
    .option(
      '--metrics-addr <host:port>',
      'serve Prometheus metrics at http://HOST:PORT/metrics (off by default; :PORT listens on loopback)',
    )
    .addOption(new Option('--no-runtime-smoke-test', 'skip the container smoke test of each runtime at load'))
    .showHelpAfterError();
}

/** Flags commander parsed, keeping "not given" distinct from defaults (for flag/file conflict checks). */
function flagsOf(cmd: Command): DaemonFlags {
  const o = cmd.opts<Record<string, unknown>>();
  const given = (name: string) => cmd.getOptionValueSource(name) === 'cli';
  const pick = <T>(name: string): T | undefined => (given(name) ? (o[name] as T) : undefined);
  return {
    host: pick('host'),
    dataRoot: pick('dataRoot'),
    execRoot: pick('execRoot'),
    pidfile: pick('pidfile'),
    configFile: pick('configFile'),
    logLevel: pick('logLevel'),
    addRuntime: pick('addRuntime'),
    defaultRuntime: pick('defaultRuntime'),
    runtimeSmokeTest: pick('runtimeSmokeTest'),
    group: pick('group'),
    authorizationPlugins: pick('authorizationPlugin'),
    insecureRegistries: pick('insecureRegistry'),
    syncCri: pick('syncCri'),
    syncCriFormat: pick('syncCriFormat'),
    syncCriConfig: pick('syncCriConfig'),
    containerd: pick('containerd'),
    containerdNamespace: pick('containerdNamespace'),
    liveRestore: pick('liveRestore'),
    metricsAddr: pick('metricsAddr'),
  } as DaemonFlags;
}

export async function main(argv: string[]): Promise<void> {
  const cmd = program().parse(argv);
  const flags = flagsOf(cmd);
  let daemon: Awaited<ReturnType<typeof startDaemon>>;
  try {
    const config = mergeDaemonConfig(flags, readConfigFile(flags.configFile));
    daemon = await startDaemon({ config, flags, version });
  } catch (err) {
    const message = err instanceof BerthError ? err.message : (err as Error).stack;
    process.stderr.write(`berthd: ${message}\n`);
    process.exit(1);
  }
  const mib = (bytes: number) => (bytes / 1048576).toFixed(1);
  const noTrim = mallocTrimUnavailable();
  if (noTrim) daemon.log.info(`malloc_trim unavailable, idle memory is left to malloc: ${noTrim}`);
  const stopGivingBack = giveBackMemoryWhenIdle(({ heap, trimmed, ms }) => {
    const compacted = heap ? `V8 heap ${mib(heap.beforeBytes)} → ${mib(heap.afterBytes)} MiB, ` : '';
    daemon.log.debug(
      `idle after work: ${compacted}malloc ${trimmed ? 'trimmed' : 'not trimmed'} in ${ms.toFixed(1)} ms`,
    );
  });
  process.on('SIGHUP', () => {
    daemon
      .reloadRuntimes()
      .catch((err: Error) => daemon.log.error(`reload refused, previous runtimes kept: ${err.message}`));
  });
  const stop = (signal: string) => {
    daemon.log.info(`${signal}: shutting down`);
    stopGivingBack();
    daemon.close().then(
      () => process.exit(0),
      (err: Error) => {
        daemon.log.error(err.message);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

await main(process.argv);
