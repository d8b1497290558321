/**
 * berthd's start, as the API's startup gate sees it (api/startup-gate.ts): berthd listens at once and restores
 * its authorization plugins first; until they are restored requests are held, each at most `holdTimeoutMs`,
 * then answered 503 naming the first plugin of the chain that is not ready. A restore that fails still opens
 * the gate: the chain then fails closed (every request is denied naming the plugin), as it does for a plugin
 * that crashes later.
 *
 * @module
 */
import type { StartupPort } from '../api/index.ts';
import { UnavailableError } from '../errdefs/index.ts';
import { type Clock, systemClock } from '../plugins/index.ts';

/** What the gate needs of the plugin manager: the bounded wait for one plugin's restore. */
export interface RestoringPlugins {
  whenRestored(ref: string, timeoutMs: number, late: (name: string) => Error): Promise<void> | undefined;
}

export interface StartupOptions {
  /** The authorization chain's plugin names, in order (re-read: a reload may change them). */
  readonly authzNames: () => readonly string[];
  readonly plugins: RestoringPlugins;
  readonly holdTimeoutMs: number;
  readonly clock?: Clock;
}

export class Startup implements StartupPort {
  /** Set once the authorization plugins' restore is over; read by the gate on every request. */
  authzReady = false;
  readonly #o: StartupOptions;
  readonly #clock: Clock;

  constructor(o: StartupOptions) {
    this.#o = o;
    this.#clock = o.clock ?? systemClock;
  }

  /** The authorization plugins are restored (running, or failed and so denying). */
  markAuthzReady(): void {
    this.authzReady = true;
  }

  /**
   * Waits for each authorization plugin still being restored, all within one hold from now.
   * @throws {UnavailableError} `starting: authorization plugin X not ready`, X the first one still pending
   */
  async untilAuthzReady(): Promise<void> {
    const deadline = this.#clock.now() + this.#o.holdTimeoutMs;
    for (const name of this.#o.authzNames()) {
      const left = Math.max(0, deadline - this.#clock.now());
      await this.#o.plugins.whenRestored(
        name,
        left,
        () => new UnavailableError(`starting: authorization plugin ${name} not ready`),
      );
    }
  }
}
