// The extension's settings, as plain data, turned into capture-service options. Pure, so that the
// mapping and its validation are tested without VS Code.
import { parseMapping, type HostMapping } from '../proxy/host-map';
import type { CaptureServiceOptions } from './capture-service';

export interface CaptureSettings {
  /** 0 picks a free port. */
  port: number;
  /** Host patterns to decrypt; empty means the built-in list. */
  interceptHosts: string[];
  upstreamCaFiles: string[];
  upstreamProxy: string;
  retentionDays: number;
  retentionMb: number;
  maxBodyMb: number;
  redactHeaders: string[];
  redactFields: string[];
  autoStart: boolean;
  /** `HOST:PORT=ADDR:PORT` entries from the `mapHosts` object (validated when the capture starts). */
  mapHosts: string[];
  /** The OpenTelemetry export (`llmCapture.otlp.*`, docs/otlp.md). */
  otlp: OtlpSettingsInput;
}

export interface OtlpSettingsInput {
  enabled: boolean;
  /** Empty: OTEL_EXPORTER_OTLP_ENDPOINT, else http://localhost:4318. */
  endpoint: string;
  /** Empty: OTEL_EXPORTER_OTLP_PROTOCOL, else http/protobuf. */
  protocol: '' | 'http/protobuf' | 'http/json';
  headers: Record<string, string>;
  content: boolean;
  agentIdleSeconds: number;
}

export const DEFAULT_SETTINGS: Readonly<CaptureSettings> = {
  port: 0,
  interceptHosts: [],
  upstreamCaFiles: [],
  upstreamProxy: '',
  retentionDays: 30,
  retentionMb: 512,
  maxBodyMb: 0,
  redactHeaders: [],
  redactFields: [],
  autoStart: false,
  mapHosts: [],
  otlp: { enabled: false, endpoint: '', protocol: '', headers: {}, content: false, agentIdleSeconds: 300 },
};

/** Reads settings through a getter (VS Code's `WorkspaceConfiguration.get`), falling back to defaults on bad values. */
export function readSettings(get: (key: string) => unknown): CaptureSettings {
  const num = (key: keyof CaptureSettings, min: number, max = Number.MAX_SAFE_INTEGER) => {
    const v = get(key);
    return typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max ? v : (DEFAULT_SETTINGS[key] as number);
  };
  const list = (key: keyof CaptureSettings) => {
    const v = get(key);
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string').map((x) => x.trim()).filter((x) => x.length > 0) : [];
  };
  const str = (key: keyof CaptureSettings) => {
    const v = get(key);
    return typeof v === 'string' ? v.trim() : '';
  };
  return {
    port: Math.floor(num('port', 0, 65535)),
    interceptHosts: list('interceptHosts'),
    upstreamCaFiles: list('upstreamCaFiles'),
    upstreamProxy: str('upstreamProxy'),
    retentionDays: num('retentionDays', 0),
    retentionMb: num('retentionMb', 0),
    maxBodyMb: num('maxBodyMb', 0),
    redactHeaders: list('redactHeaders'),
    redactFields: list('redactFields'),
    autoStart: get('autoStart') === true,
    mapHosts: mapEntries(get('mapHosts')),
    otlp: readOtlp(get),
  };
}

function readOtlp(get: (key: string) => unknown): OtlpSettingsInput {
  const protocol = get('otlp.protocol');
  const endpoint = get('otlp.endpoint');
  const idle = get('otlp.agentIdleSeconds');
  const headers = get('otlp.headers');
  return {
    enabled: get('otlp.enabled') === true,
    endpoint: typeof endpoint === 'string' ? endpoint.trim() : '',
    protocol: protocol === 'http/protobuf' || protocol === 'http/json' ? protocol : '',
    headers: typeof headers === 'object' && headers !== null && !Array.isArray(headers)
      ? Object.fromEntries(Object.entries(headers as Record<string, unknown>).filter((e): e is [string, string] => typeof e[1] === 'string')) : {},
    content: get('otlp.content') === true,
    agentIdleSeconds: typeof idle === 'number' && Number.isFinite(idle) && idle > 0 ? idle : DEFAULT_SETTINGS.otlp.agentIdleSeconds,
  };
}

function mapEntries(value: unknown): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [];
  return Object.entries(value as Record<string, unknown>)
    .filter((e): e is [string, string] => typeof e[1] === 'string')
    .map(([from, to]) => `${from.trim()}=${to.trim()}`);
}

/** The host mappings, or an error naming the bad entry (Start Capture shows it rather than guessing). */
export function parseHostMappings(entries: readonly string[]): HostMapping[] {
  return entries.map((entry) => {
    try {
      return parseMapping(entry);
    } catch (e) {
      throw new Error(`llmCapture.mapHosts: ${(e as Error).message}`);
    }
  });
}

/**
 * Capture-service options for the settings (0 for a retention limit or the body size means "none").
 * Throws on a malformed host mapping.
 */
export function serviceOptions(
  settings: CaptureSettings,
  base: Pick<CaptureServiceOptions, 'dataDir' | 'log' | 'auth'>,
): CaptureServiceOptions {
  return {
    ...base,
    port: settings.port,
    ...(settings.interceptHosts.length > 0 ? { intercept: settings.interceptHosts } : {}),
    ...(settings.upstreamCaFiles.length > 0 ? { upstreamCaFiles: settings.upstreamCaFiles } : {}),
    ...(settings.upstreamProxy ? { upstreamProxy: settings.upstreamProxy } : {}),
    ...(settings.mapHosts.length > 0 ? { map: parseHostMappings(settings.mapHosts) } : {}),
    retention: {
      ...(settings.retentionDays > 0 ? { maxAgeDays: settings.retentionDays } : {}),
      ...(settings.retentionMb > 0 ? { maxBytes: Math.round(settings.retentionMb * 1024 * 1024) } : {}),
    },
    capture: {
      ...(settings.maxBodyMb > 0 ? { maxBodyBytes: Math.round(settings.maxBodyMb * 1024 * 1024) } : {}),
      ...(settings.redactHeaders.length > 0 ? { redactHeaders: settings.redactHeaders } : {}),
      ...(settings.redactFields.length > 0 ? { redactFields: settings.redactFields } : {}),
    },
  };
}

/** Settings whose change needs a restart of a running capture (the export is reconfigured in place: `otlpChanged`). */
export function needsRestart(a: CaptureSettings, b: CaptureSettings): boolean {
  const { autoStart: _a, otlp: _oa, ...x } = a;
  const { autoStart: _b, otlp: _ob, ...y } = b;
  return JSON.stringify(x) !== JSON.stringify(y);
}

/** The OpenTelemetry export's settings changed: the engine restarts the export alone, never the proxy. */
export function otlpChanged(a: CaptureSettings, b: CaptureSettings): boolean {
  return JSON.stringify(a.otlp) !== JSON.stringify(b.otlp);
}
