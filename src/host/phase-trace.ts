/**
 * Phase timing of berthd's hot paths (plugin enable, disable, restore), for the benchmarks: with
 * `BERTHD_TRACE_PHASES=<file>` every traced operation appends one JSON line to that file, naming each phase it went
 * through and the milliseconds since the operation began. Without the variable the functions are no-ops chosen once
 * at load, so the daemon pays one call of an empty function per mark.
 *
 * @module
 */
import { appendFileSync } from 'node:fs';

/**
 * One traced operation as written: `{ op, key, at, phases: [[name, msSinceBegin], …], total }`; `at` is when it
 * began on the wall clock (`Date.now()`, ms since the epoch), so a client's own timestamps place it.
 */
export interface PhaseRecord {
  readonly op: string;
  readonly key: string;
  readonly at: number;
  readonly phases: [string, number][];
  readonly total: number;
}

const TRACE_FILE = process.env.BERTHD_TRACE_PHASES || undefined;
/** The operation being timed per key: one at a time per plugin, as the plugin's lock makes them. */
const open = new Map<string, { op: string; at: number; start: number; phases: [string, number][] }>();
const sinceStart = (start: number) => Math.round((performance.now() - start) * 1000) / 1000;

function beginReal(op: string, key: string): void {
  open.set(key, { op, at: Date.now(), start: performance.now(), phases: [] });
}

function markReal(key: string, phase: string): void {
  const t = open.get(key);
  if (t) t.phases.push([phase, sinceStart(t.start)]);
}

function endReal(key: string): void {
  const t = open.get(key);
  if (!t || !TRACE_FILE) return;
  open.delete(key);
  const record: PhaseRecord = { op: t.op, key, at: t.at, phases: t.phases, total: sinceStart(t.start) };
  appendFileSync(TRACE_FILE, `${JSON.stringify(record)}\n`);
}

const noop = (): void => {};

/** Starts timing operation `op` of `key` (a plugin id); a second begin replaces an unfinished one. */
export const traceBegin: (op: string, key: string) => void = TRACE_FILE ? beginReal : noop;
/** Records that the operation on `key` reached `phase` now (ignored when nothing is being timed for it). */
export const traceMark: (key: string, phase: string) => void = TRACE_FILE ? markReal : noop;
/** Ends the operation on `key` and appends its record to the trace file. */
export const traceEnd: (key: string) => void = TRACE_FILE ? endReal : noop;
