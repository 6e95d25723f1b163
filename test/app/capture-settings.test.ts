// Settings → capture-service options, and the shell formatting of the terminal variables.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DEFAULT_SETTINGS, needsRestart, otlpChanged, readSettings, serviceOptions } from '../../src/app/capture-settings';
import { formatEnvironment } from '../../src/app/shell-format';

describe('capture settings', () => {
  test('bad or missing values fall back to the defaults', () => {
    const s = readSettings((key) => ({ port: 70000, interceptHosts: ['api.example.com', ' ', 3], retentionDays: -1, autoStart: 'yes' } as Record<string, unknown>)[key]);
    assert.equal(s.port, DEFAULT_SETTINGS.port);
    assert.deepEqual(s.interceptHosts, ['api.example.com']);
    assert.equal(s.retentionDays, DEFAULT_SETTINGS.retentionDays);
    assert.equal(s.autoStart, false);
  });

  test('maps to service options; zero means no limit', () => {
    const s = { ...DEFAULT_SETTINGS, port: 8899, upstreamProxy: 'http://corp:3128', retentionDays: 0, retentionMb: 100, maxBodyMb: 2, redactFields: ['secret'] };
    const o = serviceOptions(s, { dataDir: '/tmp/x' });
    assert.equal(o.port, 8899);
    assert.equal(o.dataDir, '/tmp/x');
    assert.equal(o.intercept, undefined, 'an empty host list keeps the built-in defaults');
    assert.equal(o.upstreamProxy, 'http://corp:3128');
    assert.deepEqual(o.retention, { maxBytes: 100 * 1024 * 1024 });
    assert.deepEqual(o.capture, { maxBodyBytes: 2 * 1024 * 1024, redactFields: ['secret'] });
  });

  test('mapHosts: an object of HOST:PORT → ADDR:PORT; a bad entry is an error naming it', () => {
    const s = readSettings((key) => (key === 'mapHosts' ? { 'api.anthropic.com:443': '127.0.0.1:8443', 'bad:1': 7 } : undefined));
    assert.deepEqual(s.mapHosts, ['api.anthropic.com:443=127.0.0.1:8443']);
    assert.deepEqual(serviceOptions(s, { dataDir: '/tmp/x' }).map, [{ from: { host: 'api.anthropic.com', port: 443 }, to: { host: '127.0.0.1', port: 8443 } }]);
    assert.equal(serviceOptions(DEFAULT_SETTINGS, { dataDir: '/tmp/x' }).map, undefined);
    assert.deepEqual(readSettings((key) => (key === 'mapHosts' ? ['x'] : undefined)).mapHosts, []);
    assert.throws(() => serviceOptions({ ...DEFAULT_SETTINGS, mapHosts: ['api.anthropic.com=127.0.0.1:1'] }, { dataDir: '/tmp/x' }), /llmCapture\.mapHosts: .*not HOST:PORT/);
  });

  test('only capture-relevant changes need a restart', () => {
    assert.equal(needsRestart(DEFAULT_SETTINGS, { ...DEFAULT_SETTINGS, autoStart: true }), false);
    assert.equal(needsRestart(DEFAULT_SETTINGS, { ...DEFAULT_SETTINGS, port: 1234 }), true);
    // The export is reconfigured in place: the proxy, and the agents' connections through it, stay.
    const exporting = { ...DEFAULT_SETTINGS, otlp: { ...DEFAULT_SETTINGS.otlp, enabled: true, endpoint: 'http://127.0.0.1:4318' } };
    assert.equal(needsRestart(DEFAULT_SETTINGS, exporting), false);
    assert.equal(otlpChanged(DEFAULT_SETTINGS, exporting), true);
    assert.equal(otlpChanged(exporting, { ...exporting }), false);
  });

  test('llmCapture.otlp.*: bad values fall back to the defaults', () => {
    const values: Record<string, unknown> = { 'otlp.enabled': true, 'otlp.endpoint': ' http://c:4318 ', 'otlp.protocol': 'grpc', 'otlp.headers': { a: '1', b: 2 }, 'otlp.content': 'yes', 'otlp.agentIdleSeconds': -3 };
    assert.deepEqual(readSettings((key) => values[key]).otlp, { enabled: true, endpoint: 'http://c:4318', protocol: '', headers: { a: '1' }, content: false, agentIdleSeconds: 300 });
  });

  test('formatEnvironment quotes values for a POSIX shell', () => {
    assert.equal(formatEnvironment({ A: "it's", B: '$HOME' }), "export A='it'\\''s'\nexport B='$HOME'\n");
  });
});
