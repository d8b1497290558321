import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import type { RunFrame, RunRequest } from '../../api/index.ts';
import { SystemError } from '../../errdefs/index.ts';
import { clientFor } from '../host.ts';

const collect = (value: string, previous: string[] = []) => [...previous, value];

interface RunOptions {
  runtime?: string;
  rootfs: string;
  env?: string[];
  workdir?: string;
  readOnly?: boolean;
}

/**
 * Sends the run, copies its output to our stdout/stderr as it comes and returns its exit code.
 * Ctrl-C aborts the request, and berthd kills the container.
 */
async function run(cmd: Command, args: string[], o: RunOptions): Promise<number> {
  const body: RunRequest = {
    rootfs: resolve(o.rootfs),
    args,
    ...(o.runtime ? { runtime: o.runtime } : {}),
    ...(o.env ? { env: o.env } : {}),
    ...(o.workdir ? { cwd: o.workdir } : {}),
    ...(o.readOnly ? { readonlyRootfs: true } : {}),
  };
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const res = await clientFor(cmd).stream('POST', '/runs', { body, signal: abort.signal });
    for await (const line of createInterface({ input: res, crlfDelay: Number.POSITIVE_INFINITY })) {
      if (line === '') continue;
      const frame = JSON.parse(line) as RunFrame;
      if ('stdout' in frame) process.stdout.write(Buffer.from(frame.stdout, 'base64'));
      else if ('stderr' in frame) process.stderr.write(Buffer.from(frame.stderr, 'base64'));
      else if ('exit' in frame) return frame.exit.code;
      else throw new SystemError(`run failed: ${frame.error}`);
    }
    throw new SystemError('berthd closed the run stream without an exit status');
  } catch (err) {
    if (abort.signal.aborted) return 130;
    throw err;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description("run a command in a container made from Docker's default spec; exits with its exit code")
    .requiredOption('--rootfs <dir>', 'root filesystem directory (on the berthd host)')
    .option('--runtime <name>', 'runtime to use (default: berthd default runtime)')
    .option('-e, --env <NAME=value>', 'set an environment variable (repeatable)', collect)
    .option('-w, --workdir <dir>', 'working directory inside the container (default /)')
    .option('--read-only', 'mount the root filesystem read-only')
    .argument('<command...>', 'the command and its arguments (put -- before a command with flags)')
    .passThroughOptions()
    .action(async (args: string[], o: RunOptions, cmd: Command) => {
      process.exitCode = await run(cmd, args, o);
    });
}
