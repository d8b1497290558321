/**
 * Reconfigure in place (berth's `set`/`update` with `?restart=true`): the new state is persisted (one atomic
 * write), the plugin is stopped and started with it; when that start fails the old state is written back (one
 * atomic write) and the old configuration started again, and the error says what failed and that it was rolled
 * back. A disabled plugin just takes the new state: there is nothing to restart.
 *
 * A kill -9 in the middle leaves one of the two states on disk, each complete; the next berthd starts the plugin
 * with whichever it finds (the new one from the moment it was committed).
 *
 * @module
 */
import { BerthError, SystemError } from '../../errdefs/index.ts';
import type { PluginState } from '../store/index.ts';
import type { Entry } from './entry.ts';
import type { PluginCommand } from './transitions.ts';

/** `?restart=true` / `?force=true` of set and update. */
export interface ReconfigureOptions {
  /** Also on an enabled plugin: apply, restart, roll back if the restart fails. */
  readonly restart?: boolean;
  /** Restart even while the plugin is in use. */
  readonly force?: boolean;
}

/** The command table row a set/update takes: with restart on an enabled plugin it is a reconfigure. */
export function reconfigureCommand<C extends PluginCommand>(
  plain: C,
  o: ReconfigureOptions,
): (enabled: boolean) => C | 'reconfigure' {
  return (enabled) => (o.restart && enabled ? 'reconfigure' : plain);
}

/** What a reconfigure does to the plugin, given by the manager. */
export interface ReconfigureSteps {
  /** Writes the state atomically and makes it the entry's. */
  persist(e: Entry, state: PluginState): void;
  stop(e: Entry): Promise<void>;
  start(e: Entry): Promise<void>;
  log(level: 'info' | 'warn' | 'error', msg: string): void;
}

/** Whether the plugin was restarted (it was enabled) or only took the new state. */
export type ReconfigureOutcome = 'restarted' | 'applied';

/**
 * Applies `next` to the plugin and restarts it if it is enabled, rolling back on a failed start.
 * @throws the start's error kind, its message saying the settings were rolled back (and whether the old
 *   configuration runs again)
 */
export async function reconfigure(
  e: Entry,
  next: PluginState,
  steps: ReconfigureSteps,
): Promise<ReconfigureOutcome> {
  const old = e.state;
  if (!old.plugin.Enabled) {
    steps.persist(e, next);
    return 'applied';
  }
  const name = old.plugin.Name;
  steps.persist(e, next);
  try {
    await steps.stop(e);
    await steps.start(e);
    return 'restarted';
  } catch (err) {
    steps.persist(e, old);
    const why = (err as Error).message;
    steps.log('warn', `plugin ${name}: restart with the new configuration failed, rolling back: ${why}`);
    try {
      await steps.start(e);
    } catch (again) {
      throw sameKind(
        err,
        `restarting plugin ${name} with the new configuration failed: ${why}; the configuration was rolled back, but the old one did not start either: ${(again as Error).message}`,
      );
    }
    throw sameKind(
      err,
      `restarting plugin ${name} with the new configuration failed: ${why}; the configuration was rolled back and the plugin runs with its old configuration again`,
    );
  }
}

/** A new error of the same kind as `err` (a refused spec stays a 400, a plugin that did not start a 500). */
function sameKind(err: unknown, message: string): BerthError {
  if (err instanceof BerthError) {
    const Kind = err.constructor as new (m: string, o?: { cause?: unknown }) => BerthError;
    return new Kind(message, { cause: err });
  }
  return new SystemError(message, { cause: err });
}
