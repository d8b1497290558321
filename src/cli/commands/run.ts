import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import type { RunFrame, RunRequest } from '../../api/index.ts';
import { InvalidParameterError, SystemError } from '../../errdefs/index.ts';
import { clientFor } from '../host.ts';

const collect = (value: string, previous: string[] = []) => [...previous, value];

interface RunOptions {
  runtime?: string;
  rootfs: string;
  env?: string[];
  workdir?: string;
  readOnly?: boolean;
  volume?: string[];
  volumeDriver?: string;
  logDriver?: string;
  logOpt?: string[];
  label?: string[];
  cidfile?: string;
}

/** `KEY=VALUE` items (`--log-opt`, `--label`) into a map; a label may omit `=VALUE` (empty, as Docker). */
export function keyValues(
  flag: string,
  items: readonly string[],
  valueRequired: boolean,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of items) {
    const at = item.indexOf('=');
    if (at === 0 || (at < 0 && valueRequired))
      throw new InvalidParameterError(`invalid ${flag} "${item}": use KEY=VALUE`);
    if (at < 0) out[item] = '';
    else out[item.slice(0, at)] = item.slice(at + 1);
  }
  return out;
}

/** The `POST /runs` body for the command line. */
export function runRequest(args: string[], o: RunOptions): RunRequest {
  return {
    rootfs: resolve(o.rootfs),
    args,
    ...(o.runtime ? { runtime: o.runtime } : {}),
    ...(o.env ? { env: o.env } : {}),
    ...(o.workdir ? { cwd: o.workdir } : {}),
    ...(o.readOnly ? { readonlyRootfs: true } : {}),
    ...(o.volume ? { binds: o.volume } : {}),
    ...(o.volumeDriver ? { volumeDriver: o.volumeDriver } : {}),
    ...(o.logDriver ? { logDriver: o.logDriver } : {}),
    ...(o.logOpt ? { logOpts: keyValues('--log-opt', o.logOpt, true) } : {}),
    ...(o.label ? { labels: keyValues('--label', o.label, false) } : {}),
  };
}

/**
 * Sends the run, copies its output to our stdout/stderr as it comes and returns its exit code.
 * Ctrl-C aborts the request, and berthd kills the container.
 */
async function run(cmd: Command, args: string[], o: RunOptions): Promise<number> {
  const body = runRequest(args, o);
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const res = await clientFor(cmd).stream('POST', '/runs', { body, signal: abort.signal });
    const id = res.headers['x-berth-run-id'];
    if (o.cidfile && typeof id === 'string') writeFileSync(o.cidfile, id, { flag: 'wx' });
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

/** `berth logs RUN-ID`: the run's output read back from its log driver (one that declares ReadLogs). */
async function logs(cmd: Command, id: string, o: { follow?: boolean; tail?: string }): Promise<void> {
  const query = new URLSearchParams({
    ...(o.follow ? { follow: '1' } : {}),
    ...(o.tail ? { tail: o.tail } : {}),
  });
  const res = await clientFor(cmd).stream('GET', `/runs/${encodeURIComponent(id)}/logs?${query}`);
  for await (const line of createInterface({ input: res, crlfDelay: Number.POSITIVE_INFINITY })) {
    if (line === '') continue;
    const frame = JSON.parse(line) as RunFrame;
    if ('stdout' in frame) process.stdout.write(Buffer.from(frame.stdout, 'base64'));
    else if ('stderr' in frame) process.stderr.write(Buffer.from(frame.stderr, 'base64'));
    else if ('error' in frame) throw new SystemError(`reading logs failed: ${frame.error}`);
  }
}

export function registerRun(program: Command): void {
  program
    .command('logs')
    .description("print a run's output as its log driver stored it (drivers that support ReadLogs)")
    .argument('<run-id>', 'the run id (X-Berth-Run-Id; berthd logs it)')
    .option('-f, --follow', 'keep following new output')
    .option('-n, --tail <lines>', 'only this many lines from the end (default all)')
    .action((id: string, o: { follow?: boolean; tail?: string }, cmd: Command) => logs(cmd, id, o));
  program
    .command('run')
    .description("run a command in a container made from Docker's default spec; exits with its exit code")
    .requiredOption('--rootfs <dir>', 'root filesystem directory (on the berthd host)')
    .option('--runtime <name>', 'runtime to use (default: berthd default runtime)')
    .option('-e, --env <NAME=value>', 'set an environment variable (repeatable)', collect)
    .option('-w, --workdir <dir>', 'working directory inside the container (default /)')
    .option('--read-only', 'mount the root filesystem read-only')
    .option(
      '-v, --volume <NAME:/path[:ro]>',
      'mount a volume, or a host dir as /host/dir:/path (repeatable)',
      collect,
    )
    .option('--volume-driver <plugin>', 'volume plugin that creates volumes of -v that do not exist yet')
    .option('--log-driver <plugin>', 'also ship output to this log-driver plugin (none: no driver)')
    .option('--log-opt <KEY=VALUE>', 'log driver option, e.g. mode=non-blocking (repeatable)', collect)
    .option('--cidfile <file>', 'write the run id (for berth logs) to this new file')
    .option('-l, --label <KEY=VALUE>', 'label, passed to the log driver (repeatable)', collect)
    .argument('<command...>', 'the command and its arguments (put -- before a command with flags)')
    .passThroughOptions()
    .action(async (args: string[], o: RunOptions, cmd: Command) => {
      process.exitCode = await run(cmd, args, o);
    });
}
