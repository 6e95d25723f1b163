// Connection records: one per CONNECT (or plain HTTP connection), updated as the TLS handshake
// and the close are reported. Connection events go to the sink at once; they never wait behind
// an exchange's decoding (only the order within one connection and within one exchange counts).
import type { ConnectionClosed, ConnectionOpened, TlsHandshake } from '../proxy/tap';
import type { CaptureSink, ConnectionRecord } from './records';

/** Closed connections kept for late events (a TLS failure is seen only after the client hung up). */
const RECENTLY_CLOSED = 256;

export class ConnectionRecords {
  private readonly open = new Map<number, ConnectionRecord>();
  private readonly closedRecords = new Map<number, ConnectionRecord>();

  constructor(private readonly sink: CaptureSink, private readonly report: (message: string) => void) {}

  has(id: number): boolean {
    return this.open.has(id) || this.closedRecords.has(id);
  }

  opened(event: ConnectionOpened): void {
    const record: ConnectionRecord = {
      id: event.connectionId, clientAddress: event.clientAddress, clientPort: event.clientPort,
      targetHost: event.targetHost, targetPort: event.targetPort, mode: event.mode, openedAt: event.time,
    };
    if (event.label !== undefined) record.label = event.label;
    this.open.set(event.connectionId, record);
    this.emit(record);
  }

  handshake(event: TlsHandshake): void {
    this.update(event.connectionId, (c) => {
      c.tlsOutcome = event.outcome;
      if (event.detail !== undefined) c.tlsDetail = event.detail;
    });
  }

  /** Records the close; the record is let go once a few hundred more have closed. */
  closed(event: ConnectionClosed): void {
    this.update(event.connectionId, (c) => {
      c.closedAt = event.time;
      c.bytesFromClient = event.bytesFromClient;
      c.bytesToClient = event.bytesToClient;
      if (event.error !== undefined) c.error = appendError(c.error, event.error);
      if (event.connectStatus !== undefined) c.connectStatus = event.connectStatus;
    });
    const record = this.open.get(event.connectionId);
    this.open.delete(event.connectionId);
    if (!record) return;
    this.closedRecords.set(event.connectionId, record);
    if (this.closedRecords.size > RECENTLY_CLOSED) this.closedRecords.delete(this.closedRecords.keys().next().value as number);
  }

  error(id: number, message: string): void {
    this.update(id, (c) => { c.error = appendError(c.error, message); });
  }

  private update(id: number, change: (c: ConnectionRecord) => void): void {
    const record = this.open.get(id) ?? this.closedRecords.get(id);
    if (!record) return this.report(`event for unknown connection ${id}`);
    change(record);
    this.emit(record);
  }

  private emit(record: ConnectionRecord): void {
    try {
      this.sink.connectionUpdated({ ...record });
    } catch (e) {
      this.report(`sink.connectionUpdated failed for connection ${record.id}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}

function appendError(existing: string | undefined, message: string): string {
  return existing ? `${existing}; ${message}` : message;
}
