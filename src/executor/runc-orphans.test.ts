import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  findRuncOrphans,
  killRuncOrphans,
  type ProcEntry,
  parseProcEntry,
  readProcEntries,
  runcInits,
} from './runc-orphans.ts';

const ROOT = '/x/exec root/runtime-runc/ns';
const p = (pid: number, ppid: number, argv: string[], stateDir?: string): ProcEntry => ({
  pid,
  ppid,
  startTime: pid * 10,
  argv,
  ...(stateDir ? { stateDir } : {}),
});
const SHIM = ['/usr/bin/containerd-shim-runc-v2', '-namespace', 'ns', '-id', 'a', '-address', '/s'];

describe('findRuncOrphans', () => {
  // A base table: pid 1, a shim with a task being created under it (runc create → runc init), a running task.
  const base = [
    p(1, 0, ['/sbin/init']),
    p(10, 1, SHIM),
    p(11, 10, ['runc', '--root', '/x/exec root/runtime-runc', 'create', 'a']),
    p(12, 11, ['runc', 'init'], `${ROOT}/a`),
    p(20, 1, SHIM),
    p(21, 20, ['/mini-plugin']),
  ];
  const none = { knownIds: new Set<string>(), knownPids: new Set<number>() };
  const cases: [string, ProcEntry[], Partial<Parameters<typeof findRuncOrphans>[1]>, number[]][] = [
    [
      'a runc init reparented to pid 1, state dir under the root: killed',
      [p(30, 1, ['runc', 'init'], `${ROOT}/b`)],
      {},
      [30],
    ],
    [
      'the same under a subreaper that is no shim',
      [p(40, 1, ['tini']), p(41, 40, ['runc', 'init'], `${ROOT}/b`)],
      {},
      [41],
    ],
    [
      'argv[0] of a wrapper (the binary runc was started as)',
      [p(30, 1, ['/usr/sbin/runc', 'init'], `${ROOT}/b`)],
      {},
      [30],
    ],
    [
      'a root given with a trailing slash',
      [p(30, 1, ['runc', 'init'], `${ROOT}/b`)],
      { stateRoots: [`${ROOT}/`] },
      [30],
    ],
    [
      'its id is a task or record containerd knows: kept',
      [p(30, 1, ['runc', 'init'], `${ROOT}/b`)],
      { knownIds: new Set(['b']) },
      [],
    ],
    [
      'its pid is a known task init: kept',
      [p(30, 1, ['runc', 'init'], `${ROOT}/b`)],
      { knownPids: new Set([30]) },
      [],
    ],
    [
      'a state dir under another namespace: kept',
      [p(30, 1, ['runc', 'init'], '/x/exec root/runtime-runc/other/b')],
      {},
      [],
    ],
    ['a state dir deeper under the root: kept', [p(30, 1, ['runc', 'init'], `${ROOT}/b/c`)], {}, []],
    [
      'an ancestor vanished while the table was read: kept',
      [p(30, 99, ['runc', 'init'], `${ROOT}/b`)],
      {},
      [],
    ],
    [
      'an ancestor without a command line (a shim exiting): kept',
      [p(40, 1, []), p(41, 40, ['runc', 'init'], `${ROOT}/b`)],
      {},
      [],
    ],
    ['an ancestry loop: kept', [p(30, 31, ['runc', 'init'], `${ROOT}/b`), p(31, 30, ['x'])], {}, []],
    ['an `init` without runc state (another program): kept', [p(30, 1, ['runc', 'init'])], {}, []],
    [
      'a process with the variable that is not `init`: kept',
      [p(30, 1, ['runc', 'create'], `${ROOT}/b`)],
      {},
      [],
    ],
  ];
  for (const [what, extra, query, pids] of cases)
    it(what, () => {
      const found = findRuncOrphans([...base, ...extra], { stateRoots: [ROOT], ...none, ...query });
      assert.deepEqual(
        found.map((o) => o.pid),
        pids,
      );
    });
  it('names the container id and the state dir as found', () =>
    assert.deepEqual(
      findRuncOrphans([p(30, 1, ['runc', 'init'], `${ROOT}/b`)], { stateRoots: [ROOT], ...none }),
      [{ pid: 30, startTime: 300, stateDir: `${ROOT}/b`, id: 'b' }],
    ));
  it('a runc init under its shim is supervised', () =>
    assert.deepEqual(
      runcInits(base).map((i) => [i.pid, i.supervised]),
      [[12, true]],
    ));
});

describe('parseProcEntry', () => {
  it('reads ppid and start time after a command name with spaces and parentheses', () => {
    const stat = '42 (a (b) c) S 7 42 42 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 123456 1000 1';
    const e = parseProcEntry(42, stat, 'runc\0init\0', 'A=1\0_LIBCONTAINER_STATEDIR=/r/ns/id\0B=2\0');
    assert.deepEqual(e, {
      pid: 42,
      ppid: 7,
      startTime: 123456,
      argv: ['runc', 'init'],
      stateDir: '/r/ns/id',
    });
  });
  it('has no state dir without the variable', () =>
    assert.equal(
      parseProcEntry(1, '1 (x) S 0 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5', 'x\0', 'A=1\0').stateDir,
      undefined,
    ));
});

describe('readProcEntries and killRuncOrphans', () => {
  it('reads a proc directory, skipping what vanished, and reads the environment of `init`s only', () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-proc-'));
    try {
      const add = (pid: number, argv: string, environ?: string) => {
        mkdirSync(join(dir, String(pid)));
        writeFileSync(
          join(dir, String(pid), 'stat'),
          `${pid} (c) S 1 0 0 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 ${pid}7`,
        );
        writeFileSync(join(dir, String(pid), 'cmdline'), argv);
        if (environ !== undefined) writeFileSync(join(dir, String(pid), 'environ'), environ);
      };
      add(5, 'runc\0init\0', '_LIBCONTAINER_STATEDIR=/r/ns/b\0');
      add(6, 'sleep\0', '_LIBCONTAINER_STATEDIR=/r/ns/c\0');
      add(7, 'runc\0init\0'); // no environ: it vanished between its files
      mkdirSync(join(dir, '8')); // vanished before its stat was read
      mkdirSync(join(dir, 'self'));
      assert.deepEqual(
        readProcEntries(dir).map((e) => [e.pid, e.startTime, e.stateDir]),
        [
          [5, 57, '/r/ns/b'],
          [6, 67, undefined],
        ],
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it('kills a process only while it is the same one', async () => {
    // A stand-in for `runc init`: argv `runc init`, runc's state-dir variable, blocked (here on a timer).
    const dir = mkdtempSync(join(tmpdir(), 'berth-init-'));
    writeFileSync(join(dir, 'init'), 'setTimeout(() => {}, 30_000);');
    const child = spawn(process.execPath, ['init'], {
      cwd: dir,
      argv0: 'runc',
      env: { _LIBCONTAINER_STATEDIR: `${ROOT}/b` },
      stdio: 'ignore',
    });
    const exited = new Promise((r) => child.once('exit', (_code, signal) => r(signal)));
    try {
      const [found] = readProcEntries().filter((e) => e.pid === child.pid);
      assert.deepEqual(found?.argv, ['runc', 'init']);
      const orphan = {
        pid: child.pid ?? 0,
        startTime: found?.startTime ?? 0,
        stateDir: `${ROOT}/b`,
        id: 'b',
      };
      assert.deepEqual(killRuncOrphans([{ ...orphan, startTime: orphan.startTime + 1 }]), [], 'pid reused');
      assert.deepEqual(killRuncOrphans([{ ...orphan, stateDir: `${ROOT}/c` }]), [], 'another state dir');
      assert.deepEqual(killRuncOrphans([orphan]), [orphan]);
      assert.equal(await exited, 'SIGKILL');
    } finally {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
