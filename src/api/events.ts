/**
 * The daemon's event log for `GET /events`: Docker's message shape, a bounded backlog for `since`, and live
 * subscribers. In memory only, as dockerd's.
 *
 * @module
 */
import { InvalidParameterError } from '../errdefs/index.ts';

/** An Engine API event message (API 1.41 shape, legacy `status`/`id`/`from` included as dockerd sends them). */
export interface EngineEvent {
  readonly status?: string;
  readonly id?: string;
  readonly from?: string;
  readonly Type: string;
  readonly Action: string;
  readonly Actor: { readonly ID: string; readonly Attributes: Readonly<Record<string, string>> };
  readonly scope: 'local';
  readonly time: number;
  readonly timeNano: number;
}

export type EventInput = Pick<EngineEvent, 'Type' | 'Action' | 'Actor'>;

export class EventLog {
  readonly #backlog: EngineEvent[] = [];
  readonly #subscribers = new Set<(e: EngineEvent) => void>();
  readonly #capacity: number;

  constructor(capacity = 1024) {
    this.#capacity = capacity;
  }

  publish(input: EventInput, now = Date.now()): EngineEvent {
    const event: EngineEvent = {
      ...(input.Type === 'plugin' ? {} : { status: input.Action, id: input.Actor.ID }),
      Type: input.Type,
      Action: input.Action,
      Actor: input.Actor,
      scope: 'local',
      time: Math.floor(now / 1000),
      timeNano: now * 1_000_000,
    };
    this.#backlog.push(event);
    if (this.#backlog.length > this.#capacity) this.#backlog.shift();
    for (const fn of this.#subscribers) fn(event);
    return event;
  }

  /** Events at or after `sinceNano`, oldest first. */
  since(sinceNano: number): EngineEvent[] {
    return this.#backlog.filter((e) => e.timeNano >= sinceNano);
  }

  subscribe(fn: (e: EngineEvent) => void): () => void {
    this.#subscribers.add(fn);
    return () => this.#subscribers.delete(fn);
  }
}

/** Docker's `since`/`until`: unix seconds with an optional fraction (`1700000000.5`), to nanoseconds. */
export function parseEventTime(raw: string, name: string): number {
  if (!/^\d+(\.\d{1,9})?$/.test(raw)) {
    throw new InvalidParameterError(
      `${name} must be a unix timestamp such as 1700000000 or 1700000000.5, got "${raw}"`,
    );
  }
  const [sec = '0', frac = ''] = raw.split('.');
  return Number(sec) * 1e9 + Number(frac.padEnd(9, '0'));
}

/** Whether an event passes `filters` (type, event, plugin, daemon; values ORed within a key, keys ANDed). */
export function eventMatches(e: EngineEvent, filters: ReadonlyMap<string, readonly string[]>): boolean {
  for (const [key, values] of filters) {
    const ok =
      key === 'type'
        ? values.includes(e.Type)
        : key === 'event'
          ? values.includes(e.Action) || values.includes(actionVerb(e.Action))
          : key === e.Type
            ? values.some(
                (v) => v === e.Actor.ID || v === e.Actor.Attributes.name || e.Actor.ID.startsWith(v),
              )
            : false;
    if (!ok) return false;
  }
  return true;
}

/** `health_status: healthy` → `health_status`: dockerd's event filter matches either (moby#25798). */
function actionVerb(action: string): string {
  const colon = action.indexOf(':');
  return colon < 0 ? action : action.slice(0, colon);
}

/** Filter keys `GET /events` understands. */
export const EVENT_FILTER_KEYS = ['type', 'event', 'plugin', 'daemon'];
