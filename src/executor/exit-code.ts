import { constants } from 'node:os';

/**
 * A process's exit as the shell reports it: its exit code, or 128 + n when signal n killed it, from the host's
 * full signal table (`SIGSEGV` → 139, `SIGABRT` → 134), not a short list.
 */
export function shellExitCode(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  const n = signal ? constants.signals[signal] : undefined;
  return 128 + (n ?? 0);
}
