/**
 * Probes one running plugin on a schedule: the first probe `intervalMs` after it started, each next one
 * `intervalMs` after the previous ended (probes never overlap, as Docker's), results folded into its
 * {@link HealthState}. Time comes from an injected clock, so tests drive the schedule without waiting.
 *
 * @module
 */
import type { EffectiveHealth } from '../model/index.ts';
import type { Probe } from './probe.ts';
import { afterProbe, type HealthState, initialHealth } from './state.ts';

/** The part of the supervisor's clock the monitor uses. */
export interface HealthClock {
  now(): number;
  schedule(ms: number, fn: () => void): () => void;
}

export interface HealthMonitorOptions {
  readonly clock: HealthClock;
  readonly probe: Probe;
  /** A connectable path to the plugin's socket for one probe, and what to release after it. */
  readonly address: () => { readonly path: string; close(): void };
  /** Called when the status changes (after the state is updated). */
  readonly onChange: (state: HealthState) => void;
}

export class HealthMonitor {
  readonly #o: HealthMonitorOptions;
  #config: EffectiveHealth;
  #state: HealthState = initialHealth();
  readonly #startedAt: number;
  #cancel: (() => void) | undefined;
  #probing = false;
  #stopped = false;

  constructor(o: HealthMonitorOptions, config: EffectiveHealth) {
    this.#o = o;
    this.#config = config;
    this.#startedAt = o.clock.now();
    this.#schedule();
  }

  get state(): HealthState {
    return this.#state;
  }

  get config(): EffectiveHealth {
    return this.#config;
  }

  /** New settings apply at once: the pending probe is rescheduled on the new interval; the state stays. */
  reconfigure(config: EffectiveHealth): void {
    this.#config = config;
    if (this.#probing || this.#stopped) return; // the probe under way schedules the next on the new interval
    this.#cancel?.();
    this.#schedule();
  }

  /** No more probes; a probe under way is ignored when it ends. */
  stop(): void {
    this.#stopped = true;
    this.#cancel?.();
    this.#cancel = undefined;
  }

  #schedule(): void {
    this.#cancel = this.#o.clock.schedule(this.#config.intervalMs, () => {
      this.#cancel = undefined;
      void this.#probeOnce();
    });
  }

  async #probeOnce(): Promise<void> {
    if (this.#stopped) return;
    this.#probing = true;
    const startedAt = this.#o.clock.now();
    const { timeoutMs, retries, startPeriodMs } = this.#config;
    let result: Awaited<ReturnType<Probe>>;
    try {
      const address = this.#o.address();
      try {
        result = await this.#o.probe(address.path, timeoutMs);
      } finally {
        address.close();
      }
    } catch (err) {
      const now = new Date().toISOString();
      result = { Start: now, End: now, ExitCode: -1, Output: `cannot probe: ${(err as Error).message}` };
    }
    this.#probing = false;
    if (this.#stopped) return;
    const inStartPeriod = startedAt - this.#startedAt < startPeriodMs;
    const next = afterProbe(this.#state, result, { retries, inStartPeriod });
    this.#state = next.state;
    this.#schedule();
    if (next.changed) this.#o.onChange(next.state);
  }
}
