/**
 * What a {@link PluginManager} is built with, and the defaults of its bounded waits and crash-loop policy.
 *
 * @module
 */
import type { Executor } from '../../executor/index.ts';
import type { Probe } from '../health/index.ts';
import type { RpcObserver } from '../rpc/index.ts';
import type { PreflightFacts } from '../spec/index.ts';
import type { Clock } from './clock.ts';
import type { CommandDone } from './command-timing.ts';
import type { PluginRuntimes } from './supervisor.ts';

export interface PluginManagerOptions {
  readonly dataRoot: string;
  readonly execRoot: string;
  readonly runtimes: PluginRuntimes;
  readonly executor: Executor;
  readonly preflight: PreflightFacts;
  /** Time for backoff and the failure window (the system clock unless a test drives it). */
  readonly clock?: Clock;
  /** Time for health probes (`clock` unless a test drives them apart from the restart backoff). */
  readonly healthClock?: Clock;
  /** The health probe (`POST /Plugin.Activate` over the plugin's socket unless a test brings its own). */
  readonly probe?: Probe;
  /** How long enable waits for the socket. */
  readonly readyTimeoutMs?: number;
  /** How long enable waits for `Plugin.Activate` (best effort; no answer is a warning, not an error). */
  readonly activateTimeoutMs?: number;
  /** SIGTERM → SIGKILL grace at disable. */
  readonly stopGraceMs?: number;
  /** Per-plugin log cap (the file rotates once: at most twice this on disk). */
  readonly logMaxBytes?: number;
  /** Crash loop: this many failures within `failureWindowMs` mark the plugin failed. */
  readonly maxFailures?: number;
  readonly failureWindowMs?: number;
  readonly backoffBaseMs?: number;
  readonly backoffMaxMs?: number;
  readonly log?: (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;
  /** Told about every call through the plugins' clients (metrics). */
  readonly rpcObserver?: RpcObserver;
  /** Told when a command's work has run (metrics): seconds under the lock, the error if it failed. */
  readonly onCommandDone?: (done: CommandDone) => void;
}

export const DEFAULTS = {
  readyTimeoutMs: 10_000,
  activateTimeoutMs: 2_000,
  stopGraceMs: 10_000,
  logMaxBytes: 1 << 20,
  maxFailures: 5,
  failureWindowMs: 60_000,
  backoffBaseMs: 100,
  backoffMaxMs: 10_000,
};

export type Options = PluginManagerOptions & typeof DEFAULTS & { clock: Clock };
