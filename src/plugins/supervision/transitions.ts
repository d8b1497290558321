/**
 * The two state machines of a plugin, as tables rather than guards spread over methods:
 *
 * - commands: the desired state the user set (`Enabled`, persisted) × a command → the desired state after
 *   it, or the refusal Docker answers (409, with Docker's wording);
 * - the run state the supervisor keeps (in memory) × what happened → the run state after it.
 *
 * @module
 */

export type PluginRunState = 'disabled' | 'starting' | 'running' | 'restarting' | 'stopping' | 'failed';

export type PluginCommand =
  | 'enable'
  | 'disable'
  | 'set'
  | 'set-runtime'
  | 'upgrade'
  | 'remove'
  | 'update'
  | 'reconfigure';

type Desired = 'enabled' | 'disabled' | 'removed';
type Outcome = { readonly next: Desired } | { readonly refuse: (name: string) => string };

interface CommandRow {
  readonly enabled: Outcome;
  readonly disabled: Outcome;
  /** Refused while something uses the plugin: checked before or after the desired state. */
  readonly inUse?: 'before' | 'after';
  /** What `force` lifts: the in-use refusal only, or that and the desired state's. */
  readonly force?: 'in-use' | 'all';
  /** The in-use refusal, when it says more than Docker's. */
  readonly busy?: (name: string) => string;
}

const inUse = (name: string) => `plugin ${name} is in use`;

export const COMMANDS: Readonly<Record<PluginCommand, CommandRow>> = {
  enable: {
    enabled: { refuse: (n) => `plugin already enabled: plugin ${n} is enabled` },
    disabled: { next: 'enabled' },
  },
  disable: {
    enabled: { next: 'disabled' },
    disabled: { refuse: (n) => `plugin is already disabled: plugin ${n} found but disabled` },
    inUse: 'after',
    force: 'in-use',
  },
  set: {
    enabled: { refuse: () => 'cannot set on an active plugin, disable plugin before setting' },
    disabled: { next: 'disabled' },
  },
  'set-runtime': {
    enabled: { refuse: () => 'cannot change the runtime of an active plugin, disable it first' },
    disabled: { next: 'disabled' },
  },
  upgrade: {
    enabled: { refuse: (n) => `plugin must be disabled before upgrading: plugin ${n} is enabled` },
    disabled: { next: 'disabled' },
  },
  // berth's: limits (and the like) of `POST /plugins/{name}/update` without restart.
  update: {
    enabled: {
      refuse: (n) =>
        `cannot update an active plugin: disable plugin ${n} first, or update with restart (?restart=true, berth plugin update --restart)`,
    },
    disabled: { next: 'disabled' },
  },
  // berth's: set/update with restart; restarting a plugin in use cuts off its users, so only with force.
  reconfigure: {
    enabled: { next: 'enabled' },
    disabled: { next: 'disabled' },
    inUse: 'after',
    force: 'in-use',
    busy: (n) =>
      `plugin ${n} is in use: restarting it interrupts its users; restart it anyway with force (?force=true, --force)`,
  },
  remove: {
    enabled: { refuse: (n) => `plugin ${n} is enabled` },
    disabled: { next: 'removed' },
    inUse: 'before',
    force: 'all',
  },
};

export interface CommandFacts {
  readonly name: string;
  readonly enabled: boolean;
  readonly inUse: boolean;
  readonly force?: boolean | undefined;
}

/** Why `command` is refused for a plugin in this state, or undefined when it may run. */
export function commandRefusal(command: PluginCommand, f: CommandFacts): string | undefined {
  const row = COMMANDS[command];
  const forced = row.force !== undefined && Boolean(f.force);
  const busy = row.inUse && f.inUse && !forced ? (row.busy ?? inUse)(f.name) : undefined;
  const outcome = f.enabled ? row.enabled : row.disabled;
  const stateForced = forced && row.force === 'all';
  const refused = 'refuse' in outcome && !stateForced ? outcome.refuse(f.name) : undefined;
  return row.inUse === 'before' ? (busy ?? refused) : (refused ?? busy);
}

/** What happens to a supervised plugin. */
export type RunEvent =
  | 'start' // its container is being started
  | 'ready' // it listens on its socket
  | 'start-failed' // the start failed; nothing of it runs
  | 'stop' // disable, remove or shutdown stops its container
  | 'stopped' // nothing of it runs any more
  | 'backoff' // it exited on its own (or a restart failed): a restart is scheduled
  | 'give-up'; // too many failures in the window: no more restarts

export const RUN_TRANSITIONS: Readonly<Record<PluginRunState, Partial<Record<RunEvent, PluginRunState>>>> = {
  disabled: { start: 'starting', stopped: 'disabled', backoff: 'restarting', 'give-up': 'failed' },
  starting: { ready: 'running', 'start-failed': 'disabled', stop: 'stopping', stopped: 'disabled' },
  running: { stop: 'stopping', stopped: 'disabled', backoff: 'restarting', 'give-up': 'failed' },
  restarting: { start: 'starting', stopped: 'disabled', backoff: 'restarting', 'give-up': 'failed' },
  stopping: { stopped: 'disabled' },
  failed: { stopped: 'disabled' },
};

/** The run state after `event`. @throws {Error} a BUG: an event the table does not allow in that state */
export function nextRunState(state: PluginRunState, event: RunEvent): PluginRunState {
  const next = RUN_TRANSITIONS[state][event];
  if (!next) throw new Error(`BUG: plugin run state ${state} does not allow "${event}"`);
  return next;
}
