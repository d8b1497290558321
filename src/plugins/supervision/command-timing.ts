/**
 * Timing of the manager's commands for an observer (metrics): how long a command's work took once the
 * plugin's lock was its turn (queueing behind other commands is not the command's cost), and how it ended.
 *
 * @module
 */
import type { Plugin } from '../model/index.ts';
import type { Entry } from './entry.ts';
import type { PluginCommand } from './transitions.ts';

/** A command the transition table allowed, once its work is over. */
export interface CommandDone {
  readonly command: PluginCommand;
  readonly plugin: Plugin;
  readonly seconds: number;
  readonly error?: unknown;
}

/** Runs `work`, then tells `observe` (when there is one) how it went; the outcome is passed on unchanged. */
export async function timed<T>(
  command: PluginCommand,
  e: Entry,
  work: (e: Entry) => Promise<T>,
  observe: ((done: CommandDone) => void) | undefined,
): Promise<T> {
  if (!observe) return work(e);
  const started = performance.now();
  const done = (error?: unknown) =>
    observe({
      command,
      plugin: e.state.plugin,
      seconds: (performance.now() - started) / 1000,
      ...(error === undefined ? {} : { error }),
    });
  try {
    const result = await work(e);
    done();
    return result;
  } catch (err) {
    done(err);
    throw err;
  }
}
