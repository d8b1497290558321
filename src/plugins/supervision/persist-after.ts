import { SystemError } from '../../errdefs/index.ts';
import { traceBegin, traceEnd, traceMark } from '../../host/index.ts';
import type { PluginState, PluginStore } from '../store/index.ts';
import type { Entry } from './entry.ts';

/**
 * What `work` may call once its outcome is as good as known (an enable: the plugin's socket answered; only
 * `Plugin.Activate`, best effort, is left): the commit then runs beside the rest of `work`.
 */
export type CommitNow = () => void;

/**
 * Saves `state` once `work` succeeded, as a save after it would, but with the write and its fsync done while
 * `work` runs (the runtime starting or stopping): only the commit (rename + directory fsync) is left, and it
 * starts when `work` calls {@link CommitNow}, or after `work` if it never does. Nothing is saved when `work`
 * fails. The caller holds the plugin's lock. `phase` names it in the phase trace.
 *
 * A `work` that fails after calling {@link CommitNow} has its commit undone by a new atomic write of the state
 * the plugin had (`e.state`, untouched until success). What `kill -9` of berthd leaves at each point:
 * - before the commit's rename: the old state and a temp file, which `PluginStore.load()` drops;
 * - between the rename and the rollback's rename: the new state, while the request that asked for it got no
 *   answer: as for a crash between a commit after `work` and the answer (the order before this overlap), the
 *   next berthd does what the disk says (an enabled plugin is restored);
 * - after the rollback's rename: the old state.
 * The disk holds one whole state file or the other at every point: each write is temp + fsync + rename +
 * directory fsync. When the answer is sent, the disk says what the answer says (both are awaited first).
 */
export async function persistAfter(
  store: Pick<PluginStore, 'prepareSave' | 'save'>,
  e: Entry,
  state: PluginState,
  work: (commitNow: CommitNow) => Promise<void>,
  phase: 'enable' | 'disable',
): Promise<void> {
  const id = state.plugin.Id;
  traceBegin(phase, id);
  const prepared = store.prepareSave(state);
  let committing: Promise<void> | undefined;
  const commitNow = () => {
    // On the next turn of the event loop: what `work` starts in this one (Activate's request) is on its way by
    // then, and the commit's rename and directory fsync (synchronous: cheaper than four hops through the
    // thread pool) run while the plugin answers.
    committing ??= new Promise((r) => setImmediate(r)).then(() => prepared.commit());
    committing.catch(() => undefined); // awaited below, whichever way `work` ends
  };
  try {
    await work(commitNow);
  } catch (err) {
    const committed = committing !== undefined && (await succeeded(committing));
    if (committed) rollBack(store, e.state, err as Error);
    else await prepared.abandon(); // a commit that failed left the old state (and maybe its temp file)
    throw err;
  }
  await (committing ?? prepared.commit());
  e.state = state;
  traceMark(id, 'persisted');
  traceEnd(id);
}

const succeeded = (p: Promise<unknown>): Promise<boolean> => p.then(() => true).catch(() => false);

/** Writes the state the plugin had again, over a commit whose work then failed. */
function rollBack(store: Pick<PluginStore, 'save'>, before: PluginState, failure: Error): void {
  try {
    store.save(before);
  } catch (err) {
    throw new SystemError(
      `${failure.message}; and saving plugin ${before.plugin.Name} as it was again failed, so its state ` +
        `on disk is the new one: ${(err as Error).message}`,
    );
  }
}
