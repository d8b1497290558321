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
 * The UTF-8 JSON of Plugin objects up to their Status key (`{…,"Status":`), by identity. A plugin's state is never
 * changed in place (every change persists a new object), so it stays valid for as long as the object lives; only
 * the live status is serialised per call.
 */
const pluginHead = new WeakMap<Plugin, Buffer>();

/** The cached head of the entry's view, or undefined when the status block cannot go last (see below). */
function headOf(plugin: Plugin): Buffer | undefined {
  let head = pluginHead.get(plugin);
  if (head === undefined) {
    const json = JSON.stringify(plugin);
    // A plugin object with a Status key of its own would put the block elsewhere: serialise the view then.
    if (json === '{}' || 'Status' in plugin) return undefined;
    head = Buffer.from(`${json.slice(0, -1)},"Status":`);
    pluginHead.set(plugin, head);
  }
  return head;
}

const EMPTY = Buffer.from('[]');

/**
 * What an entry's listing tail (its status block and the closing brace, or its whole view) was written from, and
 * the tail. Every input is compared, by value or by identity where the object is replaced on every change (the
 * stored state, the health monitor's state), so no change can go unseen: a listing cache that relied on each
 * mutation path telling it would be stale the day one path forgets.
 */
interface TailMemo {
  readonly state: PluginState;
  readonly run: PluginRunState;
  readonly pid: number;
  readonly runtime: string;
  readonly restarts: number;
  readonly startedAt: string;
  readonly lastError: string;
  readonly lastExitCode: number | null;
  readonly warnings: readonly string[];
  readonly warningsCopy: readonly string[];
  readonly refs: number;
  readonly health: HealthState | undefined;
  readonly tail: string;
}

const tailMemo = new WeakMap<Entry, TailMemo>();

function sameStrings(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function memoValid(m: TailMemo, e: Entry): boolean {
  const s = e.run.status;
  return (
    m.state === e.state &&
    m.run === s.state &&
    m.pid === s.pid &&
    m.runtime === s.runtime &&
    m.restarts === s.restarts &&
    m.startedAt === s.startedAt &&
    m.lastError === s.lastError &&
    m.lastExitCode === s.lastExitCode &&
    m.warnings === s.warnings &&
    sameStrings(m.warningsCopy, s.warnings) && // also an array changed in place
    m.refs === e.refs &&
    m.health === e.run.health?.state
  );
}

/** The entry's part of a listing after its cached head: `statusJson}`, or the whole view when it has no head. */
function tailOf(e: Entry): string {
  const m = tailMemo.get(e);
  if (m !== undefined && memoValid(m, e)) return m.tail;
  const s = e.run.status;
  const tail = headOf(e.state.plugin) ? `${statusJson(e)}}` : JSON.stringify(viewOf(e));
  tailMemo.set(e, {
    state: e.state,
    run: s.state,
    pid: s.pid,
    runtime: s.runtime,
    restarts: s.restarts,
    startedAt: s.startedAt,
    lastError: s.lastError,
    lastExitCode: s.lastExitCode,
    warnings: s.warnings,
    warningsCopy: [...s.warnings],
    refs: e.refs,
    health: e.run.health?.state,
    tail,
  });
  return tail;
}

function assemble(entries: readonly Entry[], tails: readonly string[]): Buffer {
  if (entries.length === 0) return EMPTY;
  const heads: (Buffer | undefined)[] = [];
  let max = 1 + entries.length; // `[`, the commas and `]`
  for (let i = 0; i < entries.length; i++) {
    const head = headOf((entries[i] as Entry).state.plugin);
    heads.push(head);
    max += (head?.length ?? 0) + 3 * (tails[i] ?? '').length; // UTF-8 takes at most 3 bytes per UTF-16 unit
  }
  const out = Buffer.allocUnsafe(max);
  let n = out.write('[');
  for (let i = 0; i < entries.length; i++) {
    if (i > 0) n += out.write(',', n);
    n += heads[i]?.copy(out, n) ?? 0;
    n += out.write(tails[i] ?? '', n);
  }
  n += out.write(']', n);
  return out.subarray(0, n);
}

/**
 * `Buffer.from(JSON.stringify(entries.map(viewOf)))`, byte for byte, without serialising each Plugin object
 * again: the one changing part of a listing is the status block (a 100-plugin listing is ~84 kB, of which ~25 kB
 * status), and that is written again only when something it shows changed (see TailMemo). The answer is built
 * in one buffer outside V8's heap: an 84 kB string per request, encoded again on the socket write, kept
 * berthd's 1 MiB young generation collecting every few requests.
 *
 * The last listing answered is given again while the same entries would give the same bytes: same entries in the
 * same order, each with the same Plugin object (its head) and the same tail string (a tail is the same object
 * while its memo holds, so the check costs a dozen comparisons per plugin instead of writing ~85 kB for 100
 * plugins). The Buffer is shared between answers: callers only write it out, never change it.
 */
export class ListingCache {
  #entries: readonly Entry[] = [];
  #plugins: readonly Plugin[] = [];
  #tails: readonly string[] = [];
  #answer: Buffer = EMPTY;

  json(entries: readonly Entry[]): Buffer {
    const tails = entries.map(tailOf);
    if (!this.#same(entries, tails)) {
      this.#answer = assemble(entries, tails);
      this.#entries = [...entries]; // the caller's array may change after
      this.#plugins = entries.map((e) => e.state.plugin);
      this.#tails = tails;
    }
    return this.#answer;
  }

  #same(entries: readonly Entry[], tails: readonly string[]): boolean {
    if (entries.length !== this.#entries.length) return false;
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i] as Entry;
      if (e !== this.#entries[i] || e.state.plugin !== this.#plugins[i] || tails[i] !== this.#tails[i])
        return false;
    }
    return true;
  }
}

/** Filters of `GET /plugins`. */
export interface PluginFilters {
  readonly enabled?: boolean;
  readonly capability?: readonly string[];
}

/** Whether `filters` leave any plugin out (none given: every plugin is listed). */
export function filtersAny(filters: PluginFilters): boolean {
  return filters.enabled !== undefined || (filters.capability?.length ?? 0) > 0;
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
