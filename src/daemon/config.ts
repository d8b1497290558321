/**
 * berthd configuration: command-line flags merged with a daemon.json-style file, dockerd's rules: unknown
 * directives are refused, a directive set both as a flag and in the file is refused, and only `runtimes`
 * and `default-runtime` take effect on reload (the file is read whole each time: omitting `runtimes` means none).
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import type { CriSyncOptions } from '../cluster/index.ts';
import { InvalidParameterError } from '../errdefs/index.ts';
import { deliveryOptions } from '../logdriver/index.ts';
import { insecureRegistryProblems } from '../registry/index.ts';
import type { RuntimesConfigSource } from '../runtimes/index.ts';
import { type MetricsAddress, parseMetricsAddress } from './metrics-addr.ts';

/** Flags as given on the command line (undefined = not given). */
export interface DaemonFlags {
  readonly host?: string;
  readonly dataRoot?: string;
  readonly execRoot?: string;
  readonly pidfile?: string;
  readonly configFile?: string;
  readonly logLevel?: string;
  readonly addRuntime?: readonly string[];
  readonly defaultRuntime?: string;
  readonly runtimeSmokeTest?: boolean;
  readonly group?: string;
  readonly authorizationPlugins?: readonly string[];
  readonly insecureRegistries?: readonly string[];
  /** `--sync-cri FILE`, `--sync-cri-format`, `--sync-cri-config MAIN`. */
  readonly syncCri?: string;
  readonly syncCriFormat?: string;
  readonly syncCriConfig?: string;
  /** `--containerd unix:///path`: run containers through this containerd instead of runc directly. */
  readonly containerd?: string;
  readonly containerdNamespace?: string;
  /** `--live-restore`: plugins keep running while berthd is stopped (runc: through berth-spawner; or containerd). */
  readonly liveRestore?: boolean;
  /** `--metrics-addr HOST:PORT`: serve Prometheus metrics there (off when absent). */
  readonly metricsAddr?: string;
}

/** The effective settings. */
export interface DaemonConfig {
  readonly host: string;
  readonly dataRoot: string;
  readonly execRoot: string;
  readonly pidfile: string;
  readonly configFile: string | undefined;
  readonly logLevel: string;
  readonly runtimeSmokeTest: boolean;
  /** Group owning the socket (mode 0660); undefined: root only, unless a `berth` group exists. */
  readonly group: string | undefined;
  /** Authorization plugin names, in chain order. */
  readonly authorizationPlugins: readonly string[];
  /** Registries reachable over plain HTTP besides loopback ones (host[:port] or CIDR); re-read on reload. */
  readonly insecureRegistries: readonly string[];
  readonly runtimes: RuntimesConfigSource;
  /** daemon.json `log-driver`: the log-driver plugin runs use by default (undefined or `none`: none). */
  readonly logDriver: string | undefined;
  /** daemon.json `log-opts`, the default `--log-opt`s that go with it. */
  readonly logOpts: Readonly<Record<string, string>>;
  /** Keep a CRI drop-in in sync with the runtimes (flags only). */
  readonly criSync?: CriSyncOptions;
  /** containerd as the executor: its socket path and berth's namespace there; absent = runc directly. */
  readonly containerd?: { readonly socket: string; readonly namespace: string };
  /** Stopping berthd leaves plugins running, for the next berthd to adopt (dockerd's live-restore). */
  readonly liveRestore: boolean;
  /** Where Prometheus metrics are served (`GET /metrics`); absent = no metrics, nothing per request. */
  readonly metricsAddr?: MetricsAddress;
}

export const DEFAULT_CONFIG_FILE = '/etc/berth/daemon.json';
const DEFAULTS = {
  host: 'unix:///run/berth/berth.sock',
  dataRoot: '/var/lib/berth',
  execRoot: '/run/berth',
  pidfile: '/run/berth/berthd.pid',
  logLevel: 'info',
};
const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];

/** daemon.json key → flag it mirrors. */
const FILE_KEYS = {
  hosts: 'host',
  'data-root': 'dataRoot',
  'exec-root': 'execRoot',
  pidfile: 'pidfile',
  'log-level': 'logLevel',
  'default-runtime': 'defaultRuntime',
  'runtime-smoke-test': 'runtimeSmokeTest',
  group: 'group',
  'authorization-plugins': 'authorizationPlugins',
  'insecure-registries': 'insecureRegistries',
  containerd: 'containerd',
  'containerd-namespace': 'containerdNamespace',
  'live-restore': 'liveRestore',
  'metrics-addr': 'metricsAddr',
  runtimes: undefined,
  'log-driver': undefined,
  'log-opts': undefined,
} as const satisfies Record<string, keyof DaemonFlags | undefined>;

/** Reads and parses the config file. A missing default file is an empty config; an explicit one must exist. */
export function readConfigFile(path: string | undefined): Record<string, unknown> {
  const file = path ?? DEFAULT_CONFIG_FILE;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && path === undefined) return {};
    throw new InvalidParameterError(
      `unable to configure berthd with file ${file}: ${(err as Error).message}`,
    );
  }
  if (text.trim() === '') return {}; // an empty file configures nothing
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new InvalidParameterError(
      `unable to configure berthd with file ${file}: ${(err as Error).message}`,
    );
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new InvalidParameterError(
      `unable to configure berthd with file ${file}: the top level must be a JSON object`,
    );
  }
  return parsed as Record<string, unknown>;
}

function fileString(file: Record<string, unknown>, key: string, problems: string[]): string | undefined {
  const v = file[key];
  if (v === undefined) return undefined;
  if (typeof v === 'string' && v !== '') return v;
  problems.push(`${key} must be a non-empty string, got ${JSON.stringify(v)}`);
  return undefined;
}

function liveRestoreOf(flags: DaemonFlags, file: Record<string, unknown>, problems: string[]): boolean {
  if (flags.liveRestore !== undefined) return flags.liveRestore;
  const v = file['live-restore'];
  if (v === undefined) return false;
  if (typeof v === 'boolean') return v;
  problems.push(`live-restore must be true or false, got ${JSON.stringify(v)}`);
  return false;
}

function metricsAddrOf(
  flags: DaemonFlags,
  file: Record<string, unknown>,
  problems: string[],
): { metricsAddr?: MetricsAddress } {
  const text = flags.metricsAddr ?? fileString(file, 'metrics-addr', problems);
  if (text === undefined) return {};
  try {
    return { metricsAddr: parseMetricsAddress(text) };
  } catch (err) {
    problems.push((err as Error).message);
    return {};
  }
}

/** containerd namespaces are DNS labels joined by dots (containerd's identifiers.Validate). */
const NAMESPACE =
  /^[A-Za-z0-9](?:[A-Za-z0-9_-]{0,74}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9_-]{0,74}[A-Za-z0-9])?)*$/;

function containerdOf(
  flags: DaemonFlags,
  file: Record<string, unknown>,
  problems: string[],
): { containerd?: { socket: string; namespace: string } } {
  const address = flags.containerd ?? fileString(file, 'containerd', problems);
  const namespace =
    flags.containerdNamespace ?? fileString(file, 'containerd-namespace', problems) ?? 'berth';
  if (address === undefined) {
    if (flags.containerdNamespace ?? file['containerd-namespace'])
      problems.push('containerd-namespace needs containerd: name the socket with --containerd unix:///PATH');
    return {};
  }
  if (!/^unix:\/\/\/./.test(address)) {
    problems.push(`containerd must look like unix:///run/containerd/containerd.sock, got ${address}`);
    return {};
  }
  if (!NAMESPACE.test(namespace))
    problems.push(
      `containerd-namespace "${namespace}" must be letters, digits, "_", "-" and dots (like "berth")`,
    );
  return { containerd: { socket: address.slice('unix://'.length), namespace } };
}

/**
 * Merges flags and file into the effective configuration.
 * @throws {InvalidParameterError} listing every problem
 */
export function mergeDaemonConfig(flags: DaemonFlags, file: Record<string, unknown>): DaemonConfig {
  const problems: string[] = [];
  const unknown = Object.keys(file).filter((k) => !(k in FILE_KEYS));
  if (unknown.length)
    problems.push(`the following directives don't match any configuration option: ${unknown.join(', ')}`);
  const conflicts: string[] = [];
  for (const [key, flag] of Object.entries(FILE_KEYS)) {
    if (flag && file[key] !== undefined && flags[flag] !== undefined && key !== 'default-runtime') {
      conflicts.push(`${key}: (from flag: ${String(flags[flag])}, from file: ${JSON.stringify(file[key])})`);
    }
  }
  if (conflicts.length) {
    problems.push(
      `the following directives are specified both as a flag and in the configuration file: ${conflicts.join(', ')}`,
    );
  }
  let hostFromFile: string | undefined;
  if (file.hosts !== undefined) {
    if (Array.isArray(file.hosts) && file.hosts.length === 1 && typeof file.hosts[0] === 'string')
      hostFromFile = file.hosts[0];
    else
      problems.push(`hosts must be a list with one "unix:///path" entry, got ${JSON.stringify(file.hosts)}`);
  }
  const smoke = file['runtime-smoke-test'];
  if (smoke !== undefined && typeof smoke !== 'boolean')
    problems.push('runtime-smoke-test must be true or false');
  const config: DaemonConfig = {
    host: flags.host ?? hostFromFile ?? DEFAULTS.host,
    dataRoot: flags.dataRoot ?? fileString(file, 'data-root', problems) ?? DEFAULTS.dataRoot,
    execRoot: flags.execRoot ?? fileString(file, 'exec-root', problems) ?? DEFAULTS.execRoot,
    pidfile: flags.pidfile ?? fileString(file, 'pidfile', problems) ?? DEFAULTS.pidfile,
    configFile: flags.configFile,
    logLevel: flags.logLevel ?? fileString(file, 'log-level', problems) ?? DEFAULTS.logLevel,
    runtimeSmokeTest: flags.runtimeSmokeTest ?? (typeof smoke === 'boolean' ? smoke : true),
    group: flags.group ?? fileString(file, 'group', problems),
    authorizationPlugins: authorizationPlugins(flags, file, problems),
    insecureRegistries: insecureRegistryList(flags, file, problems),
    runtimes: runtimesSource(flags, file),
    logDriver: fileString(file, 'log-driver', problems),
    logOpts: logOpts(file, problems),
    ...criSyncOf(flags, problems),
    ...containerdOf(flags, file, problems),
    liveRestore: liveRestoreOf(flags, file, problems),
    ...metricsAddrOf(flags, file, problems),
  };
  if (!/^unix:\/\/\/./.test(config.host))
    problems.push(`host must look like unix:///run/berth/berth.sock, got ${config.host}`);
  for (const [key, dir] of [
    ['data-root', config.dataRoot],
    ['exec-root', config.execRoot],
    ['pidfile', config.pidfile],
  ] as const) {
    if (!dir.startsWith('/')) problems.push(`${key} must be an absolute path, got ${dir}`);
  }
  if (!LOG_LEVELS.includes(config.logLevel)) {
    problems.push(`log-level must be one of ${LOG_LEVELS.join(', ')}, got ${config.logLevel}`);
  }
  if (problems.length) throw new InvalidParameterError(problems.join('\n'));
  return config;
}

/** `--authorization-plugin` (repeatable) or daemon.json `authorization-plugins`; re-read on reload. */
export function authorizationPlugins(
  flags: DaemonFlags,
  file: Record<string, unknown>,
  problems: string[] = [],
): string[] {
  if (flags.authorizationPlugins) return [...flags.authorizationPlugins];
  const v = file['authorization-plugins'];
  if (v === undefined) return [];
  if (Array.isArray(v) && v.every((n) => typeof n === 'string' && n !== '')) return v as string[];
  problems.push(`authorization-plugins must be a list of plugin names, got ${JSON.stringify(v)}`);
  return [];
}

/** `--insecure-registry` (repeatable) or daemon.json `insecure-registries`; re-read on reload. */
export function insecureRegistryList(
  flags: DaemonFlags,
  file: Record<string, unknown>,
  problems: string[] = [],
): string[] {
  const v = flags.insecureRegistries ?? file['insecure-registries'] ?? [];
  if (!Array.isArray(v) || !v.every((n) => typeof n === 'string' && n !== '')) {
    problems.push(
      `insecure-registries must be a list of host[:port] or CIDR entries, got ${JSON.stringify(v)}`,
    );
    return [];
  }
  const bad = insecureRegistryProblems(v);
  problems.push(...bad);
  return bad.length ? [] : [...v];
}

/** daemon.json `log-opts`: string values only (as dockerd), checked like a run's `--log-opt`s. */
function logOpts(file: Record<string, unknown>, problems: string[]): Record<string, string> {
  const v = file['log-opts'];
  if (v === undefined) return {};
  if (
    typeof v !== 'object' ||
    v === null ||
    Array.isArray(v) ||
    !Object.values(v).every((x) => typeof x === 'string')
  ) {
    problems.push(
      `log-opts must be an object of string values, like {"mode": "non-blocking"}, got ${JSON.stringify(v)}`,
    );
    return {};
  }
  try {
    deliveryOptions(v as Record<string, string>);
  } catch (err) {
    problems.push(`log-opts: ${(err as Error).message}`);
  }
  return { ...(v as Record<string, string>) };
}

/** The runtime part of the configuration, re-read on every reload. */
export function runtimesSource(flags: DaemonFlags, file: Record<string, unknown>): RuntimesConfigSource {
  return {
    runtimes: file.runtimes,
    defaultRuntime: file['default-runtime'],
    ...(flags.addRuntime ? { addRuntime: flags.addRuntime } : {}),
    ...(flags.defaultRuntime ? { defaultRuntimeFlag: flags.defaultRuntime } : {}),
  };
}

function criSyncOf(flags: DaemonFlags, problems: string[]): { criSync?: CriSyncOptions } {
  const { syncCri, syncCriFormat, syncCriConfig } = flags;
  if (syncCri === undefined) {
    if (syncCriFormat !== undefined || syncCriConfig !== undefined)
      problems.push('--sync-cri-format and --sync-cri-config need --sync-cri FILE');
    return {};
  }
  if (!syncCri.startsWith('/')) problems.push(`--sync-cri must be an absolute path, got ${syncCri}`);
  return {
    criSync: {
      file: syncCri,
      ...(syncCriFormat ? { format: syncCriFormat } : {}),
      ...(syncCriConfig ? { containerdConfig: syncCriConfig } : {}),
    },
  };
}

/** The socket path of a `unix://` host. */
export function socketPath(host: string): string {
  return host.slice('unix://'.length);
}
