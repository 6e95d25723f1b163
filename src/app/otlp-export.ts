// Starts the live OpenTelemetry export of a capture's sessions (src/telemetry), for the engine and
// for `llm-capture proxy --otlp`: a bad configuration is said in one line and capture goes on
// without the export, since the agents' traffic matters more than its copy.
import { version } from '../../package.json';
import { LiveOtlpExport, type ExportLog, type SessionSource } from '../telemetry/live-export';
import { OtlpConfigError, resolveOtlpConfig, type OtlpConfig } from '../telemetry/otlp-config';
import type { OtlpSettingsInput } from './capture-settings';

export function otlpConfigFromSettings(s: OtlpSettingsInput): OtlpConfig {
  return resolveOtlpConfig({
    endpoint: s.endpoint || undefined, protocol: s.protocol || undefined, headers: s.headers, content: s.content, agentIdleMs: s.agentIdleSeconds * 1000,
  });
}

/**
 * Starts the export. The OpenTelemetry packages load here, when export is on, not when the
 * engine boots (a quarter of its bundle).
 */
export function startLiveOtlpExport(source: SessionSource, config: OtlpConfig | (() => OtlpConfig), dataDir: string, log: ExportLog): LiveOtlpExport | undefined {
  let resolved: OtlpConfig;
  try {
    resolved = typeof config === 'function' ? config() : config;
  } catch (e) {
    if (!(e instanceof OtlpConfigError)) throw e;
    log('error', `OpenTelemetry export is off: ${e.message}`);
    return undefined;
  }
  // require, not import(): the bundle evaluates the OpenTelemetry packages only now, and the worker
  // threads that tests run from source have tsx's CommonJS hook only, where import() finds no .ts.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { OtlpSender } = require('../telemetry/otlp-sender') as typeof import('../telemetry/otlp-sender');
  const exporter = new LiveOtlpExport(source, new OtlpSender(resolved, { version }), resolved, dataDir, log);
  exporter.start();
  return exporter;
}
