/**
 * berthd `--sync-cri FILE`: keeps a CRI drop-in equal to the live runtime registry. Run after the first load
 * and after every successful reload; a write happens only when the content changes and then publishes a
 * `daemon` event `cri-sync`. A failed write is logged and leaves the reload itself successful.
 *
 * @module
 */
import type { Logger } from 'pino';
import type { EventLog } from '../api/index.ts';
import { type CriSyncOptions, criSyncPlan, syncCri } from '../cluster/index.ts';
import type { RuntimeSet } from '../runtimes/index.ts';

export type CriSyncer = (set: RuntimeSet) => void;

/** Checks the options now (a bad main config stops the start) and returns the function that syncs. */
export function criSyncer(
  options: CriSyncOptions,
  log: Logger,
  events: EventLog,
  actor: { readonly id: string; readonly name: string },
): CriSyncer {
  const plan = criSyncPlan(options);
  return (set) => {
    try {
      const r = syncCri(plan, set);
      if (!r.changed) {
        log.debug({ file: r.file }, 'CRI drop-in unchanged');
        return;
      }
      log.info(
        { file: r.file, handlers: r.handlers, leftOut: r.leftOut },
        `CRI drop-in rewritten; apply with: ${r.restart}`,
      );
      events.publish({
        Type: 'daemon',
        Action: 'cri-sync',
        Actor: {
          ID: actor.id,
          Attributes: {
            name: actor.name,
            file: r.file,
            format: r.format,
            handlers: r.handlers.join(' '),
            'left-out': r.leftOut.map((l) => l.name).join(' '),
            restart: r.restart,
          },
        },
      });
    } catch (err) {
      log.error({ file: plan.file }, `cannot sync the CRI drop-in: ${(err as Error).message}`);
    }
  };
}
