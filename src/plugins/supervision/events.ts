import type { HealthStatus } from '../health/index.ts';
import type { Plugin } from '../model/index.ts';

/** A plugin event, shaped like the Engine API's. */
export interface PluginEvent {
  readonly Type: 'plugin';
  readonly Action:
    | 'create'
    | 'pull'
    | 'enable'
    | 'disable'
    | 'remove'
    | 'crash'
    | 'restart'
    | 'failed'
    // Docker's container health events carry the status in the action.
    | `health_status: ${HealthStatus}`;
  readonly Actor: { readonly ID: string; readonly Attributes: Record<string, string> };
  readonly time: number;
  readonly timeNano: number;
}

/** What an event says beyond its action and plugin: the name as typed, extra attributes, another actor id. */
export interface EventDetail {
  readonly typed?: string | undefined;
  readonly extra?: Record<string, string>;
  readonly actorId?: string;
}

export function pluginEvent(
  action: PluginEvent['Action'],
  plugin: Plugin,
  now: number,
  d: EventDetail = {},
): PluginEvent {
  return {
    Type: 'plugin',
    Action: action,
    Actor: { ID: d.actorId ?? plugin.Id, Attributes: { name: d.typed ?? plugin.Name, ...d.extra } },
    time: Math.floor(now / 1000),
    timeNano: now * 1e6,
  };
}
