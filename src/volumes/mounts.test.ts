import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { MountLedger } from './mounts.ts';

describe('MountLedger', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-ledger-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const m = (ID: string, Name = 'v', Run = 'r1') => ({ Name, Driver: 'p:latest', ID, Run });

  it('persists every add and remove, and reads it back in a new instance', () => {
    const file = join(dir, 'a.json');
    const ledger = new MountLedger(file);
    assert.deepEqual(ledger.load(), { problems: [] }); // no file yet
    ledger.add(m('1'));
    ledger.add(m('2', 'v', 'r2'));
    ledger.add(m('3', 'w'));
    ledger.remove('3');
    const again = new MountLedger(file);
    again.load();
    assert.deepEqual(again.all(), [m('1'), m('2', 'v', 'r2')]);
    assert.deepEqual(again.users('v'), ['r1', 'r2']);
    assert.deepEqual(again.users('w'), []);
    assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), [m('1'), m('2', 'v', 'r2')]);
  });

  it('reports broken entries and an unreadable file instead of trusting them', () => {
    const file = join(dir, 'b.json');
    writeFileSync(file, JSON.stringify([m('1'), { Name: 'v' }, 7]));
    const ledger = new MountLedger(file);
    assert.equal(ledger.load().problems.length, 2);
    assert.deepEqual(ledger.all(), [m('1')]);
    writeFileSync(file, '{');
    assert.match(new MountLedger(file).load().problems[0] ?? '', /b\.json/);
  });

  it('keeps memory as it was when the write fails', () => {
    const ledger = new MountLedger(join(dir, 'missing-dir', 'c.json'));
    assert.throws(() => ledger.add(m('1')));
    assert.deepEqual(ledger.all(), []);
  });
});
