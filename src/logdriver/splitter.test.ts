import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LineSplitter, PARTIAL_SPLIT_BYTES } from './splitter.ts';

const K16 = PARTIAL_SPLIT_BYTES;
let tick = 0n;
const clock = () => ++tick;
const shape = (ms: ReturnType<LineSplitter['push']>) =>
  ms.map((m) => [m.line.length, m.partial ? `${m.partial.ordinal}${m.partial.last ? 'L' : ''}` : '-']);

describe('LineSplitter (moby copier rules)', () => {
  const cases: [string, Buffer, (string | number)[][]][] = [
    ['an empty line', Buffer.from('\n'), [[0, '-']]],
    [
      'two lines in one chunk',
      Buffer.from('a\nbc\n'),
      [
        [1, '-'],
        [2, '-'],
      ],
    ],
    ['a line of 16 KiB - 1', Buffer.alloc(K16, 'x').fill('\n', K16 - 1), [[K16 - 1, '-']]],
    [
      'a line of exactly 16 KiB',
      Buffer.concat([Buffer.alloc(K16, 'x'), Buffer.from('\n')]),
      [
        [K16, '1'],
        [0, '2L'],
      ],
    ],
    [
      'a line of 40000 bytes',
      Buffer.concat([Buffer.alloc(40_000, 'x'), Buffer.from('\n')]),
      [
        [K16, '1'],
        [K16, '2'],
        [40_000 - 2 * K16, '3L'],
      ],
    ],
  ];
  for (const [what, input, want] of cases)
    it(`splits ${what}`, () => assert.deepEqual(shape(new LineSplitter({ clock }).push(input)), want));

  it('gives the pieces of one series the same id and first timestamp; a following line is whole', () => {
    const s = new LineSplitter({ clock });
    const ms = s.push(Buffer.concat([Buffer.alloc(K16 + 5, 'y'), Buffer.from('\nnext\n')]));
    assert.equal(ms.length, 3);
    assert.equal(ms[0]?.partial?.id, ms[1]?.partial?.id);
    assert.match(ms[0]?.partial?.id ?? '', /^[0-9a-f]{64}$/);
    assert.equal(ms[0]?.timeNano, ms[1]?.timeNano);
    assert.equal(ms[2]?.partial, undefined);
    assert.equal(ms[2]?.line.toString(), 'next');
  });

  it('handles lines split across chunks byte by byte, binary bytes untouched', () => {
    const s = new LineSplitter({ clock });
    const input = Buffer.from([0, 1, 2, 255, 254, 0x0a, 7, 0x0a]);
    const out = [...input].flatMap((b) => s.push(Buffer.from([b])));
    assert.deepEqual(
      out.map((m) => [...m.line]),
      [[0, 1, 2, 255, 254], [7]],
    );
  });

  it('sends an unterminated rest at the end as a partial that is not last (as Docker)', () => {
    const s = new LineSplitter({ clock });
    assert.deepEqual(s.push(Buffer.from('abc')), []);
    assert.deepEqual(shape(s.end()), [[3, '1']]);
    assert.deepEqual(s.end(), []);
  });

  it('splits 1 MiB into 64 partials and an empty last piece', () => {
    const ms = new LineSplitter({ clock }).push(
      Buffer.concat([Buffer.alloc(1 << 20, 'z'), Buffer.from('\n')]),
    );
    assert.equal(ms.length, 65);
    assert.ok(
      ms
        .slice(0, 64)
        .every((m, i) => m.line.length === K16 && m.partial?.ordinal === i + 1 && !m.partial.last),
    );
    assert.deepEqual(shape(ms.slice(64)), [[0, '65L']]);
  });
});
