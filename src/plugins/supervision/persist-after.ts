import { traceBegin, traceEnd, traceMark } from '../../host/index.ts';
import type { PluginState, PluginStore } from '../store/index.ts';
import type { Entry } from './entry.ts';

/**
 * Saves `state` once `work` succeeded, as a save after it would, but with the write and its fsync done while
 * `work` runs (the runtime starting or stopping): only the commit (rename + directory fsync) is left after it.
 * Nothing is saved when `work` fails. The caller holds the plugin's lock. `phase` names it in the phase trace.
 */
export async function persistAfter(
  store: PluginStore,
  e: Entry,
  state: PluginState,
  work: () => Promise<void>,
  phase: 'enable' | 'disable',
): Promise<void> {
  const id = state.plugin.Id;
  traceBegin(phase, id);
  const prepared = store.prepareSave(state);
  try {
    await work();
  } catch (err) {
    await prepared.abandon();
    throw err;
  }
  await prepared.commit();
  e.state = state;
  traceMark(id, 'persisted');
  traceEnd(id);
}
