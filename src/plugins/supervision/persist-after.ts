import { traceBegin, traceEnd, traceMark } from '../../host/index.ts';
import type { PluginState, PluginStore } from '../store/index.ts';
import type { Entry } from './entry.ts';

/**
 * Called by `work` once it has passed its point of no return (a disable: the stop signal was delivered); from then
 * on the commit may run beside the rest of `work` (the wait for the exit).
 */
export type CommitNow = () => void;

/**
 * Saves `state` once `work` succeeded, as a save after it would, but with the write and its fsync done while
 * `work` runs (the runtime starting or stopping): only the commit (rename + directory fsync) is left after it.
 * Nothing is saved when `work` fails. The caller holds the plugin's lock. `phase` names it in the phase trace.
 *
 * A `work` that calls {@link CommitNow} gets the commit started right then, beside the rest of it; should it fail
 * after that, the state it started from (`e.state`) is saved again, so a failed `work` still leaves the old state.
 * A crash in between leaves the new state with the work unfinished: for a disable, a leftover container that the
 * next start removes (the plugin ends disabled, as asked).
 */
export async function persistAfter(
  store: PluginStore,
  e: Entry,
  state: PluginState,
  work: (commitNow: CommitNow) => Promise<void>,
  phase: 'enable' | 'disable',
): Promise<void> {
  const id = state.plugin.Id;
  traceBegin(phase, id);
  const prepared = store.prepareSave(state);
  let early: Promise<void> | undefined;
  const commitNow: CommitNow = () => {
    early ??= prepared.commit();
    early.catch(() => undefined); // awaited below
  };
  try {
    await work(commitNow);
  } catch (err) {
    if (!early) await prepared.abandon();
    else if (
      await early.then(
        () => true,
        () => false,
      )
    )
      store.save(e.state);
    throw err;
  }
  await (early ?? prepared.commit());
  e.state = state;
  traceMark(id, 'persisted');
  traceEnd(id);
}
