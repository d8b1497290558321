import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { pruneWrappers, shellQuote, wrapperFileName, wrapperScript, writeWrapper } from './wrapper.ts';

const dir = mkdtempSync(join(tmpdir(), 'berth-wrapper-'));
after(() => rmSync(dir, { recursive: true, force: true }));

// A fake runtime that prints each argv element NUL-terminated, so any byte sequence round-trips visibly.
const printer = join(dir, 'print-argv');
writeFileSync(printer, '#!/bin/sh\nfor a in "$@"; do printf "%s\\0" "$a"; done\n');
chmodSync(printer, 0o755);

function argvThrough(script: string, callerArgs: string[]): string[] {
  const r = spawnSync(script, callerArgs, { cwd: dir, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\0').slice(0, -1);
}

describe('shellQuote()', () => {
  it('quotes a single quote the POSIX way', () => assert.equal(shellQuote("it's"), `'it'\\''s'`));
});

describe('wrapper scripts', () => {
  it('exec the runtime with quoted args and quoted "$@"', () => {
    assert.equal(
      wrapperScript('/usr/bin/runsc', ['--a b']),
      `#!/bin/sh\nexec '/usr/bin/runsc' '--a b' "$@"\n`,
    );
  });

  // The five argv cases of runtimes.md §1.5, on both sides of the wrapper.
  const cases = ['/var/log/my runtime.log', '--x=$(id -u)', '--semi;echo INJECTED', '', '*'];
  it('round-trip spaces, $(…), ;, the empty string and globs exactly', () => {
    writeFileSync(join(dir, 'a-file-a-glob-would-match'), '');
    const script = writeWrapper(join(dir, 'runtimes'), 'fake', printer, ['--log', ...cases]);
    assert.deepEqual(argvThrough(script, ['--bundle', '/run/b dir', ...cases]), [
      '--log',
      ...cases,
      '--bundle',
      '/run/b dir',
      ...cases,
    ]);
  });

  it('leave no shell behind: the runtime replaces it (exec)', () => {
    const script = writeWrapper(join(dir, 'runtimes'), 'ps', '/bin/sh', [
      '-c',
      'cat /proc/$$/comm; cat /proc/$PPID/comm',
    ]);
    const r = spawnSync(
      process.execPath,
      ['-e', `require('child_process').spawnSync(${JSON.stringify(script)}, {stdio: 'inherit'})`],
      {
        encoding: 'utf8',
      },
    );
    // The wrapper's own process became the runtime (sh), whose parent is node, not another sh.
    assert.deepEqual(r.stdout.trim().split('\n'), ['sh', 'node']);
  });

  it('round-trip arbitrary argv (property)', () => {
    const script = writeWrapper(join(dir, 'runtimes'), 'prop', printer, []);
    const word = fc.string({
      unit: fc.constantFrom('a', ' ', "'", '"', '$', '`', '\\', '*', ';', '\n', '(', '|', '-'),
    });
    fc.assert(
      fc.property(fc.array(word, { maxLength: 5 }), fc.array(word, { maxLength: 5 }), (args, caller) => {
        const s = writeWrapper(join(dir, 'prop'), 'p', printer, args);
        assert.deepEqual(argvThrough(s, caller), [...args, ...caller]);
      }),
      { numRuns: 60 },
    );
    assert.ok(script);
  });

  it('are content-addressed, immutable, mode 0700 and reused when identical', () => {
    const wdir = join(dir, 'immutable');
    const a = writeWrapper(wdir, 'gvisor', '/usr/bin/runsc', ['--platform=ptrace']);
    const again = writeWrapper(wdir, 'gvisor', '/usr/bin/runsc', ['--platform=ptrace']);
    const b = writeWrapper(wdir, 'gvisor', '/usr/bin/runsc', ['--platform=kvm']);
    assert.equal(a, again);
    assert.notEqual(a, b);
    assert.match(a, /\/gvisor\.[0-9a-f]{64}$/);
    assert.equal(readFileSync(a, 'utf8'), wrapperScript('/usr/bin/runsc', ['--platform=ptrace']));
    assert.deepEqual(readdirSync(wdir).sort(), [a, b].map((p) => p.slice(wdir.length + 1)).sort());
  });

  it('refuse names that would escape the directory', () => {
    assert.throws(() => wrapperFileName('../x', ''), /invalid runtime name "..\/x"/);
    assert.throws(() => wrapperFileName('..', ''), /contains ".."/);
  });

  it('prune removes temp leftovers and scripts no longer configured', () => {
    const wdir = join(dir, 'prune');
    const keep = writeWrapper(wdir, 'k', '/bin/true', ['-a']);
    const old = writeWrapper(wdir, 'k', '/bin/true', ['-b']);
    writeFileSync(join(wdir, '.tmp-123-abc'), '#!/bin/sh\nexec');
    assert.deepEqual(pruneWrappers(wdir, new Set([keep])).sort(), [join(wdir, '.tmp-123-abc'), old].sort());
    assert.deepEqual(readdirSync(wdir), [keep.slice(wdir.length + 1)]);
  });
});
