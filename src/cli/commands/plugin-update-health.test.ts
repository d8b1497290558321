import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Command } from 'commander';
import { pluginTable } from './plugin.ts';
import { addHealthOptions, healthBody } from './plugin-update-health.ts';

/** Parses `argv` with the health flags only; the body they make. */
function bodyOf(argv: string[]) {
  const cmd = addHealthOptions(new Command('update').exitOverride());
  cmd.parse(argv, { from: 'user' });
  return healthBody(cmd.opts());
}

describe('berth plugin update health flags', () => {
  const table: [string[], unknown][] = [
    [
      ['--health-interval', '10s', '--health-timeout', '2s', '--health-retries', '3'],
      { Interval: 10e9, Timeout: 2e9, Retries: 3 },
    ],
    [['--health-start-period', '1m'], { StartPeriod: 60e9 }],
    [['--health-interval', '0'], { Interval: 0 }],
    [['--no-healthcheck'], { Disable: true }],
    [['--healthcheck', '--health-interval', '200ms'], { Interval: 200e6, Disable: false }],
    [[], undefined],
  ];
  for (const [argv, body] of table)
    it(argv.join(' ') || '(no flags)', () => assert.deepEqual(bodyOf(argv), body));

  const bad: [string[], RegExp][] = [
    [['--no-healthcheck', '--health-retries', '2'], /^--no-healthcheck conflicts with --health-\* options$/],
    [['--health-interval', '-1s'], /^--health-interval cannot be negative, got -1s$/],
    [['--health-timeout', '10'], /^invalid duration "10" for --health-timeout/],
    [['--health-retries', 'three'], /^--health-retries must be a non-negative integer, got "three"$/],
  ];
  for (const [argv, message] of bad)
    it(`refuses ${argv.join(' ')}`, () => assert.throws(() => bodyOf(argv), { message }));
});

describe('berth plugin ls HEALTH column', () => {
  const plugin = (Status: unknown) =>
    ({ Id: 'a'.repeat(64), Name: 'p:latest', Enabled: true, Config: { Description: 'd' }, Status }) as never;
  it('shows the health status while it runs, none when off, nothing when there is none', () => {
    const out = pluginTable([
      plugin({ State: 'running', Health: { Status: 'healthy' } }),
      plugin({ State: 'running', Healthcheck: { Disable: true } }),
      plugin({ State: 'disabled', Healthcheck: { Disable: false } }),
    ]);
    const [head, ...rows] = out.trimEnd().split('\n');
    assert.match(head ?? '', /STATE\s+HEALTH$/);
    assert.deepEqual(
      rows.map((r) => r.split(/\s{3,}/).slice(4)),
      [['running', 'healthy'], ['running', 'none'], ['disabled']],
    );
  });
});
