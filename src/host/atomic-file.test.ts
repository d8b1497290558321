import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ATOMIC_TEMP_PREFIX, prepareFileAtomic } from './atomic-file.ts';

const dir = mkdtempSync(join(tmpdir(), 'berth-atomic-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('prepareFileAtomic', () => {
  it('keeps the old content until commit, then the new, with no temp file left', async () => {
    const path = join(dir, 'state.json');
    writeFileSync(path, 'old');
    const prepared = prepareFileAtomic(path, 'new');
    assert.equal(readFileSync(path, 'utf8'), 'old');
    await prepared.commit();
    assert.equal(readFileSync(path, 'utf8'), 'new');
    assert.deepEqual(readdirSync(dir), ['state.json']);
  });

  it('abandon leaves the file as it was and removes the temp file', async () => {
    const path = join(dir, 'kept.json');
    writeFileSync(path, 'old');
    await prepareFileAtomic(path, 'new').abandon();
    assert.equal(readFileSync(path, 'utf8'), 'old');
    assert.equal(readdirSync(dir).filter((n) => n.startsWith(ATOMIC_TEMP_PREFIX)).length, 0);
  });

  it('commit rejects when the content could not be written, leaving the file alone', async () => {
    const path = join(dir, 'missing-dir', 'x.json');
    await assert.rejects(prepareFileAtomic(path, 'new').commit(), /ENOENT/);
  });
});
