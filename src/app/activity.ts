// The activity log, newest first: every exchange, plus tunnels and TLS handshakes that failed
// (which have no exchange to show them). Shared by `llm-capture log` and the Activity view.
import type { ConnectionRecord } from '../capture';
import type { CaptureStore, ExchangeSummary } from '../store';

export interface LogEntry {
  /** Stable key: `x<exchange id>` or `c<connection id>`. */
  key: string;
  time: string;
  label?: string;
  method?: string;
  url: string;
  status?: number;
  kind: string;
  requestBytes?: number;
  responseBytes?: number;
  durationMs?: number;
  error?: string;
}

export function activity(store: CaptureStore, limit: number): LogEntry[] {
  const connections = new Map<number, ConnectionRecord | undefined>();
  const connection = (id: number) => {
    if (!connections.has(id)) connections.set(id, store.getConnection(id));
    return connections.get(id);
  };
  const entries: { at: number; entry: LogEntry }[] = [];
  for (const x of store.listExchanges({ limit }).items) entries.push({ at: x.startedAt, entry: fromExchange(x, connection(x.connectionId)) });
  for (const c of store.listConnections({ limit }).items) {
    if (c.mode === 'tunnel' || (c.tlsOutcome && c.tlsOutcome !== 'ok')) entries.push({ at: c.openedAt, entry: fromConnection(c) });
  }
  return entries.sort((a, b) => b.at - a.at).slice(0, limit).map((e) => e.entry);
}

function fromExchange(x: ExchangeSummary, c: ConnectionRecord | undefined): LogEntry {
  return {
    key: `x${x.id}`,
    time: new Date(x.startedAt).toISOString(),
    ...(c?.label ? { label: c.label } : {}),
    method: x.method,
    url: x.url,
    ...(x.statusCode ? { status: x.statusCode } : {}),
    kind: x.kind,
    requestBytes: x.requestBody?.wireSize ?? 0,
    responseBytes: x.responseBody?.wireSize ?? 0,
    ...(x.endedAt ? { durationMs: x.endedAt - x.startedAt } : {}),
    ...(x.errors.length > 0 ? { error: x.errors.join('; ') } : {}),
  };
}

function fromConnection(c: ConnectionRecord): LogEntry {
  const error = c.tlsOutcome && c.tlsOutcome !== 'ok' ? (c.tlsDetail ?? c.tlsOutcome) : c.error;
  return {
    key: `c${c.id}`,
    time: new Date(c.openedAt).toISOString(),
    ...(c.label ? { label: c.label } : {}),
    url: `${c.targetHost}:${c.targetPort}`,
    kind: c.mode === 'tunnel' ? 'tunnel' : 'tls',
    ...(c.bytesFromClient !== undefined ? { requestBytes: c.bytesFromClient } : {}),
    ...(c.bytesToClient !== undefined ? { responseBytes: c.bytesToClient } : {}),
    ...(c.closedAt ? { durationMs: c.closedAt - c.openedAt } : {}),
    ...(error ? { error } : {}),
  };
}
