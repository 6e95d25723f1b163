// Runs one HTTP fuzz case through the proxy and says what went wrong, if anything: the client must
// get the upstream's status and body byte for byte (or, for a reset, an error after a prefix of
// it), and the upstream must get the client's request body byte for byte.
import { createHash } from 'node:crypto';
import type { Agent } from 'node:https';
import { request } from 'node:https';
import type { HttpFuzzCase } from './http-cases';
import type { ScriptedUpstream } from './scripted-upstream';

export interface ClientView {
  status?: number;
  body: Buffer;
  error?: string;
}

/** Only catches a hang; a case normally takes milliseconds. */
const CASE_TIMEOUT_MS = 30_000;

export function sendCase(agent: Agent, host: string, c: HttpFuzzCase): Promise<ClientView> {
  return new Promise((resolve) => {
    const req = request({ host, port: 443, path: c.path, method: 'POST', agent, headers: c.requestHeaders });
    const chunks: Buffer[] = [];
    let status: number | undefined;
    let settled = false;
    const done = (error?: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...(status !== undefined ? { status } : {}), body: Buffer.concat(chunks), ...(error ? { error } : {}) });
    };
    const timer = setTimeout(() => {
      req.destroy();
      done(`no answer within ${CASE_TIMEOUT_MS} ms`);
    }, CASE_TIMEOUT_MS);
    req.on('response', (res) => {
      status = res.statusCode;
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => done());
      res.on('aborted', () => done('aborted'));
      res.on('error', (e) => done(e.message));
    });
    req.on('error', (e) => done(e.message));
    for (const piece of c.requestPieces) req.write(piece);
    req.end();
  });
}

/** What is wrong with a case's outcome, or undefined when the client and upstream saw each other's bytes. */
export function checkCase(c: HttpFuzzCase, got: ClientView, upstream: ScriptedUpstream, id: string): string | undefined {
  const sent = Buffer.concat(c.response.pieces);
  const received = upstream.received(id);
  const uploaded = Buffer.concat(c.requestPieces);
  if (received === undefined || !received.equals(uploaded)) {
    return `the upstream got ${describe(received)} of the request body, the client sent ${describe(uploaded)}`;
  }
  if (c.response.end === 'reset') {
    if (got.error === undefined) return `a reset stream reached the client as a clean end (${describe(got.body)})`;
    if (!sent.subarray(0, got.body.length).equals(got.body)) return `before the reset the client got ${describe(got.body)}, not a prefix of ${describe(sent)}`;
    return undefined;
  }
  if (got.error !== undefined) return `the client failed: ${got.error} after ${describe(got.body)}`;
  if (got.status !== c.response.status) return `status ${got.status}, upstream sent ${c.response.status}`;
  if (!got.body.equals(sent)) return `the client got ${describe(got.body)}, the upstream sent ${describe(sent)}`;
  return undefined;
}

function describe(bytes: Buffer | undefined): string {
  if (bytes === undefined) return 'nothing';
  return `${bytes.length} bytes (sha256 ${createHash('sha256').update(bytes).digest('hex').slice(0, 12)})`;
}
