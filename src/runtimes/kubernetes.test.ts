import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseRuntimesConfig } from './config.ts';
import { handlerNameProblem, suggestHandler } from './kubernetes.ts';

describe('handlerNameProblem', () => {
  const cases: [string, boolean][] = [
    ['gvisor', true],
    ['kata-qemu', true],
    ['a', true],
    ['0x1', true],
    ['x'.repeat(63), true],
    ['x'.repeat(64), false],
    ['io.containerd.runc.v2', false],
    ['My_Runtime', false],
    ['-lead', false],
    ['trail-', false],
    ['', false],
    ['under_score', false],
  ];
  for (const [name, ok] of cases) {
    it(`${ok ? 'accepts' : 'refuses'} ${JSON.stringify(name.length > 20 ? `${name.slice(0, 8)}…(${name.length})` : name)}`, () => {
      assert.equal(handlerNameProblem(name) === undefined, ok);
    });
  }
  it('suggests a valid handler for any name', () => {
    for (const [name, want] of [
      ['My_Runtime', 'my-runtime'],
      ['io.containerd.kata.v2', 'io-containerd-kata-v2'],
      ['__', 'runtime'],
    ]) {
      assert.equal(suggestHandler(name as string), want);
      assert.equal(handlerNameProblem(suggestHandler(name as string)), undefined);
    }
  });
});

describe('parseRuntimesConfig: kubernetes', () => {
  const parse = (runtimes: unknown) => parseRuntimesConfig({ runtimes });

  it('keeps a valid kubernetes object on the entry', () => {
    const k = {
      handler: 'gvisor',
      overhead: { podFixed: { cpu: '250m', memory: 120 } },
      nodeSelector: { 'berth.io/runtime.gvisor': 'true' },
    };
    const config = parse({ 'gvisor.v1': { path: 'runsc', kubernetes: k } });
    assert.deepEqual(config.runtimes['gvisor.v1']?.kubernetes, {
      ...k,
      overhead: { podFixed: { cpu: '250m', memory: '120' } },
    });
  });

  const refused: [string, unknown, RegExp][] = [
    [
      'an unknown key with a suggestion',
      { node_selector: {} },
      /kubernetes: unknown key "node_selector" \(did you mean "nodeSelector"\?\)/,
    ],
    [
      'an invalid handler with a suggestion',
      { handler: 'My.Handler' },
      /kubernetes.handler "My.Handler" is invalid: .*RFC 1123.*\(e.g. "my-handler"\)/,
    ],
    [
      'a bad quantity',
      { overhead: { podFixed: { cpu: 'lots' } } },
      /overhead.podFixed.cpu: "lots" is not a Kubernetes quantity/,
    ],
    ['overhead without podFixed', { overhead: { cpu: '1' } }, /overhead must be \{"podFixed"/],
    ['a bad label key', { nodeSelector: { 'bad key': 'x' } }, /label key "bad key" is invalid/],
    [
      'a non-string label value',
      { nodeSelector: { a: true } },
      /nodeSelector\["a"\]: true is not a label value/,
    ],
    ['a non-object', 'gvisor', /kubernetes must be an object/],
  ];
  for (const [what, kubernetes, message] of refused) {
    it(`refuses ${what}`, () => {
      assert.throws(() => parse({ x: { path: 'runsc', kubernetes } }), message);
    });
  }

  it('refuses two runtimes on one handler, and a handler taken by runc', () => {
    assert.throws(
      () =>
        parse({
          gvisor: { path: 'runsc' },
          'gvisor.b': { path: 'runsc', kubernetes: { handler: 'gvisor' } },
        }),
      /runtime gvisor.b: Kubernetes handler "gvisor" is already used by runtime gvisor/,
    );
    assert.throws(
      () => parse({ mine: { path: 'runc', kubernetes: { handler: 'runc' } } }),
      /"runc" is already used by runtime runc/,
    );
  });

  it('suggests "kubernetes" for a misspelt key', () => {
    assert.throws(
      () => parse({ x: { path: 'runsc', k8s: {} } }),
      /unknown key "k8s" \(did you mean "kubernetes"\?\)/,
    );
  });
});
