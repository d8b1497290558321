/**
 * The restore at start, in groups: the plugins of the first group (berthd's authorization plugins) are started
 * in parallel, then those of the next group, and so on. Every plugin is pending from the moment the restore is
 * scheduled, not from when its group starts, so a request that needs one (a volume operation and its driver)
 * waits for it from the first instant the socket answers, instead of failing with "not found" or a refused
 * connection. Once every restore has settled nothing is pending and the checks cost one `size` read.
 *
 * @module
 */
import type { Plugin } from '../model/index.ts';
import type { Cancel, Clock } from './clock.ts';
import type { Entry } from './entry.ts';

/** Names of the plugins that started again, and of those whose start failed. */
export interface RestoreReport {
  readonly restored: string[];
  readonly failed: string[];
}

/** The first group's report (settled before the others start) and the report of all. */
export interface RestoreGroups {
  readonly first: Promise<RestoreReport>;
  readonly all: Promise<RestoreReport>;
}

/**
 * Resolves when `pending` settles, or rejects with `late()` after `timeoutMs` (the timer is cancelled either
 * way, so a settled wait leaves nothing scheduled).
 */
export function boundedWait(
  pending: Promise<unknown>,
  timeoutMs: number,
  clock: Clock,
  late: () => Error,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let cancel: Cancel | undefined;
    const settle = () => {
      cancel?.();
      resolve();
    };
    pending.then(settle, settle);
    cancel = clock.schedule(timeoutMs, () => reject(late()));
  });
}

export class PendingRestores {
  readonly #clock: Clock;
  /** By plugin id: resolves when that plugin's restore is over (started, adopted or failed). */
  readonly #pending = new Map<string, Promise<void>>();

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Whether any restore is still pending (false for good once start is over). */
  get any(): boolean {
    return this.#pending.size > 0;
  }

  /**
   * Restores the plugins `first` selects, in parallel, then once they have all settled the others, in parallel.
   * `restoreOne` starts one (a rejection is a failed restore, reported through `failed`).
   */
  schedule(
    enabled: readonly Entry[],
    first: (p: Plugin) => boolean,
    restoreOne: (e: Entry) => Promise<void>,
    failed: (e: Entry, err: Error) => void,
  ): RestoreGroups {
    const attempt = (e: Entry) =>
      restoreOne(e).then(
        () => true,
        (err: Error) => {
          failed(e, err);
          return false;
        },
      );
    const head = this.#group(
      enabled.filter((e) => first(e.state.plugin)),
      Promise.resolve(),
      attempt,
    );
    const rest = this.#group(
      enabled.filter((e) => !first(e.state.plugin)),
      head,
      attempt,
    );
    const all = Promise.all([head, rest]).then(([x, y]) => ({
      restored: [...x.restored, ...y.restored],
      failed: [...x.failed, ...y.failed],
    }));
    return { first: head, all };
  }

  /** One group: every plugin pending at once, started in parallel once `after` settles. */
  #group(
    group: readonly Entry[],
    after: Promise<unknown>,
    attempt: (e: Entry) => Promise<boolean>,
  ): Promise<RestoreReport> {
    const outcomes = group.map((e) => {
      const done = after.then(() => attempt(e));
      const id = e.state.plugin.Id;
      const pending: Promise<void> = done.then(() => {
        if (this.#pending.get(id) === pending) this.#pending.delete(id);
      });
      this.#pending.set(id, pending);
      return done;
    });
    return Promise.all(outcomes).then((oks) => {
      const names = (ok: boolean) => group.filter((_, i) => oks[i] === ok).map((e) => e.state.plugin.Name);
      return { restored: names(true), failed: names(false) };
    });
  }

  /**
   * Waits (at most `timeoutMs`, then rejects with `late()`) for the restore of plugin `id`; undefined when none
   * is pending.
   */
  wait(id: string, timeoutMs: number, late: () => Error): Promise<void> | undefined {
    const pending = this.#pending.get(id);
    return pending && boundedWait(pending, timeoutMs, this.#clock, late);
  }
}
