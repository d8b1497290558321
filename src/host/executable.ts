import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';

/** Where a command was found, or why not. */
export type ExecutableLookup =
  | { readonly found: true; readonly path: string }
  | { readonly found: false; readonly reason: string };

function checkFile(path: string): string | undefined {
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st) return `${path}: no such file`;
  if (!st.isFile()) return `${path}: not a regular file`;
  try {
    accessSync(path, constants.X_OK);
  } catch {
    return `${path}: not executable`;
  }
  return undefined;
}

/**
 * Resolves a command the way `execvp` would: an absolute path is checked as is, a bare name is searched in
 * `PATH`. The result names the resolved file or the reason nothing usable was found.
 */
export function findExecutable(command: string, pathEnv = process.env.PATH ?? ''): ExecutableLookup {
  if (isAbsolute(command)) {
    const problem = checkFile(command);
    return problem ? { found: false, reason: problem } : { found: true, path: command };
  }
  const dirs = pathEnv.split(delimiter).filter((d) => d !== '');
  const problems: string[] = [];
  for (const dir of dirs) {
    const candidate = join(dir, command);
    const problem = checkFile(candidate);
    if (!problem) return { found: true, path: candidate };
    if (!problem.endsWith('no such file')) problems.push(problem);
  }
  return {
    found: false,
    reason: problems[0] ?? `"${command}" not found in PATH (${dirs.join(delimiter) || 'empty'})`,
  };
}
