/**
 * One plugin as the manager holds it: its persisted state, the supervisor's run record, and what consumers
 * hold on it (client, references, the lock every operation on it takes). Also the views of it the API shows.
 *
 * @module
 */
import type { RunningContainer } from '../../executor/index.ts';
import type { HealthMonitor, HealthState } from '../health/index.ts';
import { type HealthConfig, healthConfigView, type Plugin } from '../model/index.ts';
import type { PluginClient } from '../rpc/index.ts';
import type { CappedLog, PluginState } from '../store/index.ts';
import type { Cancel } from './clock.ts';
import type { PluginRunState } from './transitions.ts';

/** berth's live view of a plugin, shown beside Docker's Plugin object. */
export interface PluginStatus {
  readonly State: PluginRunState;
  readonly Pid: number;
  readonly Runtime: string;
  readonly Restarts: number;
  readonly StartedAt: string;
  readonly LastError: string;
  readonly LastExitCode: number | null;
  readonly Warnings: string[];
  readonly RefCount: number;
  /** The health check's settings in effect (nanoseconds, as `POST /plugins/{name}/update` takes them). */
  readonly Healthcheck?: Required<HealthConfig>;
  /** Docker's container `Health` object, while the plugin runs with its health check on. */
  readonly Health?: HealthState;
}

/** What the supervisor knows about a plugin's process (in memory only). */
export interface RunRecord {
  status: {
    state: PluginRunState;
    pid: number;
    runtime: string;
    restarts: number;
    startedAt: string;
    lastError: string;
    lastExitCode: number | null;
    warnings: string[];
  };
  container: RunningContainer | undefined;
  logFile: CappedLog | undefined;
  /** When it failed within the current window (clock milliseconds). */
  failures: number[];
  cancelRestart: Cancel | undefined;
  /** Set while disable/remove stops it: an exit then is expected. */
  stopping: boolean;
  /** Probes it while it runs (absent when stopped or with its health check off). */
  health: HealthMonitor | undefined;
}

export interface Entry {
  state: PluginState;
  readonly run: RunRecord;
  client: PluginClient | undefined;
  lock: Promise<unknown>;
  refs: number;
}

export function newEntry(state: PluginState): Entry {
  return {
    state,
    run: {
      status: {
        state: 'disabled',
        pid: 0,
        runtime: '',
        restarts: 0,
        startedAt: '',
        lastError: '',
        lastExitCode: null,
        warnings: [],
      },
      container: undefined,
      logFile: undefined,
      failures: [],
      cancelRestart: undefined,
      stopping: false,
      health: undefined,
    },
    client: undefined,
    lock: Promise.resolve(),
    refs: 0,
  };
}

function statusOf(e: Entry): PluginStatus {
  const s = e.run.status;
  return {
    State: s.state,
    Pid: s.pid,
    Runtime: s.runtime || e.state.runtime || '',
    Restarts: s.restarts,
    StartedAt: s.startedAt,
    LastError: s.lastError,
    LastExitCode: s.lastExitCode,
    Warnings: [...(e.state.warnings ?? []), ...s.warnings],
    RefCount: e.refs,
    Healthcheck: healthConfigView(e.state.health),
    ...(e.run.health ? { Health: e.run.health.state } : {}),
  };
}

/** The Engine API Plugin object plus berth's status block. */
export function viewOf(e: Entry): Plugin & { Status: PluginStatus } {
  return { ...e.state.plugin, Status: statusOf(e) };
}

/** `Healthcheck` JSON by the stored settings' identity (a state is never changed in place; undefined = defaults). */
const healthcheckJson = new WeakMap<object, string>();
const DEFAULT_HEALTHCHECK_JSON = JSON.stringify(healthConfigView(undefined));

function healthcheckJsonOf(config: HealthConfig | undefined): string {
  if (config === undefined) return DEFAULT_HEALTHCHECK_JSON;
  let json = healthcheckJson.get(config);
  if (json === undefined) {
    json = JSON.stringify(healthConfigView(config));
    healthcheckJson.set(config, json);
  }
  return json;
}

/** A JSON array of strings, or undefined when one is not a string (the generic path serialises that). */
function stringsJson(a: readonly unknown[], b: readonly unknown[]): string | undefined {
  if (a.length + b.length === 0) return '[]';
  for (const x of a) if (typeof x !== 'string') return undefined;
  for (const x of b) if (typeof x !== 'string') return undefined;
  return JSON.stringify(a.length === 0 ? b : b.length === 0 ? a : [...a, ...b]);
}

/**
 * `JSON.stringify(statusOf(e))`, byte for byte, written field by field: a listing of 100 plugins serialises 100
 * status blocks per request, and building each object first cost ~2 µs of the ~2.3 µs per plugin. Any field of an
 * unexpected type (JSON.stringify would drop or print it differently) takes the generic path.
 */
function statusJson(e: Entry): string {
  const s = e.run.status;
  const runtime = s.runtime || e.state.runtime || '';
  const warnings = stringsJson(e.state.warnings ?? [], s.warnings);
  const exit = s.lastExitCode;
  const simple =
    typeof s.state === 'string' &&
    Number.isSafeInteger(s.pid) &&
    typeof runtime === 'string' &&
    Number.isSafeInteger(s.restarts) &&
    typeof s.startedAt === 'string' &&
    typeof s.lastError === 'string' &&
    (exit === null || Number.isSafeInteger(exit)) &&
    warnings !== undefined &&
    Number.isSafeInteger(e.refs);
  if (!simple) return JSON.stringify(statusOf(e));
  const healthState = e.run.health?.state; // an undefined Health is left out, as JSON.stringify leaves it out
  const healthJson = healthState === undefined ? undefined : JSON.stringify(healthState);
  const health = healthJson === undefined ? '' : `,"Health":${healthJson}`;
  return (
    `{"State":${JSON.stringify(s.state)},"Pid":${s.pid},"Runtime":${JSON.stringify(runtime)},` +
    `"Restarts":${s.restarts},"StartedAt":${JSON.stringify(s.startedAt)},` +
    `"LastError":${JSON.stringify(s.lastError)},"LastExitCode":${exit},"Warnings":${warnings},` +
    `"RefCount":${e.refs},"Healthcheck":${healthcheckJsonOf(e.state.health)}${health}}`
  );
}

/**
 * JSON of Plugin objects, by identity. A plugin's state is never changed in place (every change persists a new
 * object), so an object's JSON stays valid for as long as it lives; only the live status is serialised per call.
 */
const pluginJson = new WeakMap<Plugin, string>();

/**
 * `JSON.stringify(entries.map(viewOf))`, byte for byte, without serialising each Plugin object again: the one
 * changing part of a listing is the status block (a 100-plugin listing is ~75 kB, of which ~25 kB status).
 */
export function viewsJson(entries: readonly Entry[]): string {
  const parts: string[] = [];
  for (const e of entries) {
    const plugin = e.state.plugin;
    let json = pluginJson.get(plugin);
    if (json === undefined) {
      json = JSON.stringify(plugin);
      pluginJson.set(plugin, json);
    }
    // A plugin object with a Status key of its own would put the block elsewhere: serialise the view then.
    if (json === '{}' || 'Status' in plugin) parts.push(JSON.stringify(viewOf(e)));
    else parts.push(`${json.slice(0, -1)},"Status":${statusJson(e)}}`);
  }
  return `[${parts.join(',')}]`;
}

/** Filters of `GET /plugins`. */
export interface PluginFilters {
  readonly enabled?: boolean;
  readonly capability?: readonly string[];
}

export function matchesFilters(e: Entry, filters: PluginFilters): boolean {
  if (filters.enabled !== undefined && e.state.plugin.Enabled !== filters.enabled) return false;
  return !filters.capability?.length || matchesCapability(e.state.plugin, filters.capability);
}

/** A plugin matches if any of its types' capability equals a requested one (or matches it as a regex, as Docker). */
export function matchesCapability(plugin: Plugin, wanted: readonly string[]): boolean {
  const caps = (plugin.Config.Interface.Types ?? []).map((t) => /\.([^./]+)\//.exec(t)?.[1] ?? '');
  return wanted.some((w) => {
    const want = w.toLowerCase();
    let re: RegExp | undefined;
    try {
      re = new RegExp(want);
    } catch {
      re = undefined;
    }
    return caps.some((c) => c === want || (re?.test(c) ?? false));
  });
}
