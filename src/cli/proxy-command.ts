// `llm-capture proxy`: runs the proxy in the foreground until SIGINT or SIGTERM, printing a line
// per LLM call as it completes (and per host tunnelled or refused) unless --quiet.
import { randomBytes } from 'node:crypto';
import { CallFeed } from '../app/call-feed';
import { CaptureService } from '../app/capture-service';
import { parseMapping, type HostMapping } from '../proxy';
import { parse, parsePort, splitList, UsageError } from './args';
import { defaultDataDir } from './data-dir';
import { formatEnvironment } from './env-command';
import { startLiveOtlpExport } from '../app/otlp-export';
import { removeNote, writeNote } from '../app/serving-note';
import { FileTextSpill } from '../engine/file-text-spill';
import { SessionFollower } from '../engine/session-follower';
import { OTLP_FLAGS, otlpConfigFrom } from './otlp-options';

export async function proxyCommand(args: string[]): Promise<void> {
  const { values, positionals } = parse(args, {
    port: { type: 'string' },
    'data-dir': { type: 'string' },
    intercept: { type: 'string', multiple: true },
    'upstream-ca': { type: 'string', multiple: true },
    'upstream-proxy': { type: 'string' },
    map: { type: 'string', multiple: true },
    'only-mapped': { type: 'boolean' },
    'require-auth': { type: 'boolean' },
    'auth-token': { type: 'string' },
    'max-body-mb': { type: 'string' },
    'redact-header': { type: 'string', multiple: true },
    'redact-field': { type: 'string', multiple: true },
    quiet: { type: 'boolean' },
    verbose: { type: 'boolean' },
    ...OTLP_FLAGS,
  });
  const otlp = otlpConfigFrom(values);
  if (values.quiet && values.verbose) throw new UsageError('--quiet and --verbose cannot be combined');
  const maxBodyMb = values['max-body-mb'] === undefined ? undefined : Number(values['max-body-mb']);
  if (maxBodyMb !== undefined && !(maxBodyMb > 0)) throw new UsageError(`--max-body-mb must be a positive number, not "${values['max-body-mb']}"`);
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  let map: HostMapping[];
  try {
    map = (values.map ?? []).map(parseMapping);
  } catch (e) {
    throw new UsageError(`--map: ${(e as Error).message}`);
  }
  const dataDir = values['data-dir'] ?? defaultDataDir();
  const token = values['auth-token'] ?? (values['require-auth'] ? randomBytes(16).toString('hex') : undefined);
  const verbose = values.verbose ?? false;
  const quiet = values.quiet ?? false;

  let service: CaptureService;
  try {
    service = await CaptureService.start({
      port: parsePort(values.port) ?? 0,
      dataDir,
      intercept: splitList(values.intercept),
      upstreamCaFiles: values['upstream-ca'],
      upstreamProxy: values['upstream-proxy'],
      map,
      onlyMapped: values['only-mapped'] ?? false,
      auth: token ? { token, required: values['require-auth'] ?? false } : undefined,
      capture: {
        ...(maxBodyMb ? { maxBodyBytes: Math.round(maxBodyMb * 1024 * 1024) } : {}),
        redactHeaders: values['redact-header'],
        redactFields: values['redact-field'],
      },
      log: (level, message) => {
        if ((level !== 'debug' || verbose) && (level !== 'info' || !quiet)) process.stderr.write(`[${level}] ${message}\n`);
      },
    });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'EADDRINUSE') throw new Error(`port ${values.port} is already in use`);
    if (/host pattern|upstream proxy|CA file/.test(err.message)) throw new UsageError(err.message);
    throw e;
  }

  const proxy = service.proxy;
  const env = proxy.environment(token ? 'cli' : undefined);
  writeNote(dataDir, {
    pid: process.pid, port: proxy.port, proxyUrl: env.HTTPS_PROXY, startedAt: new Date().toISOString(), server: 'cli',
    caCertPath: proxy.ca.certPath, caBundlePath: proxy.ca.bundlePath, interceptedHosts: [...proxy.interceptedHosts],
  });
  process.stdout.write(`listening on 127.0.0.1:${proxy.port}\n`);
  process.stdout.write(`intercepting ${proxy.interceptedHosts.join(', ')}\n`);
  process.stdout.write(`storing captures in ${dataDir}\n`);
  process.stdout.write(`CA certificate: ${proxy.ca.certPath}\n\n# paste into a shell to send its agents through the proxy:\n`);
  process.stdout.write(formatEnvironment(env));

  // Reads the store the proxy writes, debounced, so forwarding never waits for it.
  // The feed's assembly keeps its long texts in a file, as the engine's does (docs/decisions.md, decision 83).
  const spill = quiet ? undefined : FileTextSpill.open(dataDir, { log: (m) => process.stderr.write(`[warn] ${m}\n`) });
  const feed = quiet ? undefined : new CallFeed(service.store, {
    verbose,
    spill,
    write: (line) => process.stdout.write(`${line}\n`),
    onError: (e) => process.stderr.write(`[error] reading captured calls: ${e.message}\n`),
  });
  if (feed) {
    process.stdout.write('\n');
    feed.start();
  }
  // The export follows every session of the store (their earlier calls too), and keeps the derived
  // files current as VS Code's engine does, so a restart resumes without reading every call again.
  const log = (level: 'info' | 'warn' | 'error', message: string) => {
    if (level !== 'info' || !quiet) process.stderr.write(`[${level}] OpenTelemetry: ${message}\n`);
  };
  const follower = otlp ? new SessionFollower(() => undefined, (level, m) => { if (level !== 'debug') log(level, m); }) : undefined;
  follower?.use(service.store, { dataDir, keep: false, persist: true });
  const exporter = follower && otlp ? startLiveOtlpExport(follower, otlp, dataDir, log) : undefined;

  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      if (!quiet) process.stderr.write(`[info] ${signal}: stopping\n`);
      removeNote(dataDir, process.pid);
      feed?.stop(true);
      void (async () => {
        await exporter?.stop();
        follower?.detach();
        await follower?.settle();
        follower?.close();
        spill?.close();
      })().then(() => service.stop()).then(resolve, (e: Error) => {
        process.stderr.write(`[error] stopping: ${e.message}\n`);
        resolve();
      });
      // A second signal means "now".
      process.once(signal as NodeJS.Signals, () => process.exit(130));
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
}
