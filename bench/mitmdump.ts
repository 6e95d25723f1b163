// mitmdump started the one way every bench compares against it: on 127.0.0.1, its own confdir,
// verifying the fake upstream against the fake's CA, no per-flow printing. Each bench adds the
// options that make its comparison fair (stream_large_bodies, -w FILE) and says why there.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startChild, waitForPort } from './processes';

export interface StartedMitmdump {
  child: Awaited<ReturnType<typeof startChild>>['child'];
  port: number;
  confdir: string;
  /** The CA mitmproxy made, to trust on the client's side. */
  ca: Buffer;
  cleanup(): void;
}

/** Starts mitmdump and waits until it listens; a failure stops it and says why, with its stderr. */
/** `extra` gets the confdir, where a bench may put its flow file. */
export async function launchMitmdump(upstreamCaPath: string, confPrefix: string, extra: (confdir: string) => readonly string[]): Promise<StartedMitmdump> {
  const confdir = mkdtempSync(join(tmpdir(), confPrefix));
  const port = await freePort();
  const cleanup = (): void => rmSync(confdir, { recursive: true, force: true });
  const { child } = await startChild('mitmdump', [
    '--listen-host', '127.0.0.1', '--listen-port', String(port),
    '--set', `confdir=${confdir}`,
    '--set', `ssl_verify_upstream_trusted_ca=${upstreamCaPath}`,
    // No per-flow printing and no info logs: terminal output is not what is compared.
    '--set', 'flow_detail=0', '--set', 'termlog_verbosity=warn',
    ...extra(confdir),
  ]);
  try {
    await waitForPort(port, 20_000, () => child.proc.exitCode === null);
    const caPath = join(confdir, 'mitmproxy-ca-cert.pem');
    if (!existsSync(caPath)) throw new Error(`mitmproxy wrote no CA in ${confdir}`);
    return { child, port, confdir, ca: readFileSync(caPath), cleanup };
  } catch (e) {
    await child.stop();
    cleanup();
    throw new Error(`${e instanceof Error ? e.message : String(e)}: ${child.stderrTail()}`);
  }
}
