// The --otlp flags shared by `proxy` (live export) and `export --otlp` (after the fact).
import { OtlpConfigError, parseHeaderList, resolveOtlpConfig, type OtlpConfig, type OtlpProtocol } from '../telemetry/otlp-config';
import { UsageError } from './args';

export const OTLP_FLAGS = {
  otlp: { type: 'boolean' },
  'otlp-endpoint': { type: 'string' },
  'otlp-protocol': { type: 'string' },
  'otlp-header': { type: 'string', multiple: true },
  'otlp-content': { type: 'boolean' },
  'otlp-agent-idle': { type: 'string' },
} as const;

export interface OtlpFlagValues {
  otlp?: boolean;
  'otlp-endpoint'?: string;
  'otlp-protocol'?: string;
  'otlp-header'?: string[];
  'otlp-content'?: boolean;
  'otlp-agent-idle'?: string;
}

export const OTLP_HELP: Array<[string, string]> = [
  ['--otlp', 'send the sessions to an OpenTelemetry collector (OTLP/HTTP), at OTEL_EXPORTER_OTLP_ENDPOINT or http://localhost:4318'],
  ['--otlp-endpoint URL', 'the collector\'s base URL (implies --otlp; /v1/traces and /v1/metrics are added)'],
  ['--otlp-protocol P', 'http/protobuf (the default) or http/json; OTEL_EXPORTER_OTLP_PROTOCOL otherwise'],
  ['--otlp-header K=V', 'a request header for the collector (an API key), as OTEL_EXPORTER_OTLP_HEADERS; may repeat'],
  ['--otlp-content', 'also send prompts, answers, system prompts, tool definitions, arguments and results (redacted as stored)'],
  ['--otlp-agent-idle S', 'seconds a thread must be quiet before its agent span is sent (default 300)'],
];

/** The export's configuration, or undefined when no --otlp flag was given. */
export function otlpConfigFrom(values: OtlpFlagValues): OtlpConfig | undefined {
  const wanted = values.otlp || values['otlp-endpoint'] !== undefined;
  const other = values['otlp-protocol'] ?? values['otlp-header'] ?? values['otlp-content'] ?? values['otlp-agent-idle'];
  if (!wanted) {
    if (other !== undefined) throw new UsageError('the --otlp-… options go with --otlp or --otlp-endpoint URL');
    return undefined;
  }
  const protocol = values['otlp-protocol'];
  if (protocol !== undefined && protocol !== 'http/protobuf' && protocol !== 'http/json') {
    throw new UsageError(`--otlp-protocol must be http/protobuf or http/json, not "${protocol}"`);
  }
  const idle = values['otlp-agent-idle'];
  if (idle !== undefined && !(Number(idle) > 0)) throw new UsageError(`--otlp-agent-idle must be a positive number of seconds, not "${idle}"`);
  try {
    return resolveOtlpConfig({
      endpoint: values['otlp-endpoint'], protocol: protocol as OtlpProtocol | undefined, headers: parseHeaderList(values['otlp-header'] ?? []),
      content: values['otlp-content'] ?? false, agentIdleMs: idle !== undefined ? Number(idle) * 1000 : undefined,
    });
  } catch (e) {
    if (e instanceof OtlpConfigError) throw new UsageError(e.message);
    throw e;
  }
}
