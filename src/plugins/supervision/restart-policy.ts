/**
 * When a plugin that exited on its own is started again: exponential backoff from `backoffBaseMs` up to
 * `backoffMaxMs`, and after `maxFailures` failures within `failureWindowMs` not at all (the plugin is failed
 * until the user disables and enables it). Pure: the supervisor passes the clock's time in.
 *
 * @module
 */

export interface RestartPolicy {
  readonly maxFailures: number;
  readonly failureWindowMs: number;
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
}

export type RestartDecision =
  | { readonly kind: 'restart'; readonly delayMs: number; readonly failures: readonly number[] }
  | { readonly kind: 'give-up'; readonly failures: readonly number[] };

/** The delay before restart number `attempt` (1-based) of the current window. */
export function backoffDelay(policy: RestartPolicy, attempt: number): number {
  return Math.min(policy.backoffBaseMs * 2 ** (attempt - 1), policy.backoffMaxMs);
}

/** Records a failure at `now` (forgetting those older than the window) and decides what follows it. */
export function decideRestart(
  policy: RestartPolicy,
  failures: readonly number[],
  now: number,
): RestartDecision {
  const recent = [...failures.filter((t) => now - t < policy.failureWindowMs), now];
  if (recent.length >= policy.maxFailures) return { kind: 'give-up', failures: recent };
  return { kind: 'restart', delayMs: backoffDelay(policy, recent.length), failures: recent };
}

/** The status text of a plugin the policy gave up on. */
export function gaveUpMessage(policy: RestartPolicy, why: string, failures: number): string {
  return `${why}; ${failures} failures within ${policy.failureWindowMs / 1000} s: not restarting (disable and enable it again after fixing it)`;
}
