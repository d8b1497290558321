import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidParameterError } from '../errdefs/index.ts';
import { formatMetricsAddress, parseMetricsAddress } from './metrics-addr.ts';

describe('parseMetricsAddress', () => {
  it('takes the address written, and loopback for a bare port', () => {
    const cases: [string, string, number][] = [
      ['127.0.0.1:9323', '127.0.0.1', 9323],
      ['0.0.0.0:9323', '0.0.0.0', 9323],
      ['[::1]:9323', '::1', 9323],
      ['[::]:0', '::', 0],
      ['localhost:9323', 'localhost', 9323],
      ['metrics.example.com:80', 'metrics.example.com', 80],
      [':9323', '127.0.0.1', 9323],
      ['9323', '127.0.0.1', 9323],
      [' 10.0.0.5:65535 ', '10.0.0.5', 65535],
    ];
    for (const [text, host, port] of cases) assert.deepEqual(parseMetricsAddress(text), { host, port }, text);
  });

  it('refuses anything else, naming the setting, the value and why', () => {
    const cases: [string, RegExp][] = [
      ['', /it has no :PORT/],
      ['127.0.0.1', /it has no :PORT/],
      ['127.0.0.1:', /port "" is not 0-65535/],
      ['127.0.0.1:65536', /port "65536" is not 0-65535/],
      ['127.0.0.1:-1', /port "-1"/],
      ['127.0.0.1:http', /port "http"/],
      ['::1:9323', /IPv6 address in brackets/],
      ['[127.0.0.1]:9323', /not an IPv6 address/],
      ['http://127.0.0.1:9323', /not a URL/],
      ['bad_host:9323', /"bad_host" is neither an IP address nor a host name/],
    ];
    for (const [text, why] of cases) {
      assert.throws(
        () => parseMetricsAddress(text),
        (e: unknown) =>
          e instanceof InvalidParameterError &&
          e.message.startsWith(
            `metrics-addr must be HOST:PORT like 127.0.0.1:9323 (or :PORT for loopback), got ${JSON.stringify(text)}: `,
          ) &&
          why.test(e.message),
        text,
      );
    }
  });

  it('formats IPv6 in brackets', () => {
    assert.equal(formatMetricsAddress({ host: '::1', port: 1 }), '[::1]:1');
    assert.equal(formatMetricsAddress({ host: '127.0.0.1', port: 9323 }), '127.0.0.1:9323');
  });
});
