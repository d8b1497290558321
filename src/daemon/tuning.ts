/**
 * berthd's bounded waits, tunable through the environment (tests shorten them; operators rarely need to):
 *
 * | variable | default | bounds |
 * |---|---|---|
 * | `BERTHD_BODY_IDLE_TIMEOUT_MS` | 60000 | a request body sending nothing for this long → 408 |
 * | `BERTHD_ACTIVATE_TIMEOUT_MS` | 2000 | `Plugin.Activate` at enable; no answer → a warning in `Status.Warnings` |
 * | `BERTHD_VOLUME_LIST_TIMEOUT_MS` | 5000 | each driver's share of `GET /volumes` and `GET /volumes/NAME` |
 * | `BERTHD_VOLUME_ANSWER_TIMEOUT_MS` | 25000 | volume create/remove answer 504 by then (the docker CLI gives up at 30 s) |
 * | `BERTHD_STARTUP_HOLD_TIMEOUT_MS` | 20000 | while berthd starts: a request held for the authorization plugins, or a volume or log request waiting for its driver, is answered 503 by then |
 *
 * @module
 */
import { InvalidParameterError } from '../errdefs/index.ts';

export interface Tuning {
  readonly bodyIdleTimeoutMs: number;
  readonly activateTimeoutMs: number;
  readonly volumeListTimeoutMs: number;
  readonly volumeAnswerTimeoutMs: number;
  readonly startupHoldTimeoutMs: number;
}

const VARIABLES: Readonly<Record<keyof Tuning, readonly [string, number]>> = {
  bodyIdleTimeoutMs: ['BERTHD_BODY_IDLE_TIMEOUT_MS', 60_000],
  activateTimeoutMs: ['BERTHD_ACTIVATE_TIMEOUT_MS', 2_000],
  volumeListTimeoutMs: ['BERTHD_VOLUME_LIST_TIMEOUT_MS', 5_000],
  volumeAnswerTimeoutMs: ['BERTHD_VOLUME_ANSWER_TIMEOUT_MS', 25_000],
  startupHoldTimeoutMs: ['BERTHD_STARTUP_HOLD_TIMEOUT_MS', 20_000],
};

/**
 * Reads the tuning variables.
 * @throws {InvalidParameterError} naming a variable that is not a positive integer of milliseconds
 */
export function tuningFromEnv(env: NodeJS.ProcessEnv = process.env): Tuning {
  const out: Record<string, number> = {};
  for (const [key, [name, fallback]] of Object.entries(VARIABLES)) {
    const raw = env[name];
    if (raw === undefined || raw === '') {
      out[key] = fallback;
      continue;
    }
    if (!/^[1-9]\d*$/.test(raw))
      throw new InvalidParameterError(`${name} must be a positive integer of milliseconds, got "${raw}"`);
    out[key] = Number(raw);
  }
  return out as unknown as Tuning;
}
