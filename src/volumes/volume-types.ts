/** The Engine API Volume objects and the options and limits of the volume service. */
/** The Engine API Volume object. */
export interface Volume {
  readonly CreatedAt: string;
  readonly Driver: string;
  readonly Labels: Record<string, string>;
  readonly Mountpoint: string;
  readonly Name: string;
  readonly Options: Record<string, string>;
  readonly Scope: string;
  readonly Status?: Record<string, unknown>;
}

export interface CreateVolume {
  readonly Name?: string;
  readonly Driver?: string;
  readonly DriverOpts?: Record<string, string>;
  readonly Labels?: Record<string, string>;
}

export const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

export const CAPABILITY = 'volumedriver';

export interface VolumeServiceOptions {
  /** Each driver's share of `GET /volumes` (drivers are asked in parallel) and of `GET /volumes/NAME`. */
  readonly listTimeoutMs?: number;
  /**
   * Create and remove answer by then, before the docker CLI gives up (30 s): 504 naming the plugin and the call
   * it has not answered. The call itself keeps its own timeout, and its outcome is recorded when it comes.
   */
  readonly answerTimeoutMs?: number;
  /** While berthd restores plugins: how long a request waits for its driver before a 503 naming it. */
  readonly restoreWaitMs?: number;
}

export const DEFAULT_LIST_TIMEOUT_MS = 5_000;
export const DEFAULT_ANSWER_TIMEOUT_MS = 25_000;
export const DEFAULT_RESTORE_WAIT_MS = 20_000;
