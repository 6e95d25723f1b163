// A second extension for bench/extension-bench.ts: it runs in the same extension host process,
// on the same main thread, as LLM Capture, and measures that thread's event-loop delay with
// perf_hooks.monitorEventLoopDelay, i.e. what everything running there (LLM Capture above all)
// costs the thread. Plain CommonJS, no build step; the bench copies this folder beside the
// extension under test.
//
// `llmCaptureBench.blankWebview` opens a webview with nothing in it: VS Code's own floor for a first paint.
// Reading: the command `llmCaptureBench.loopDelay` returns the figures since the last reset and
// resets. With LLM_CAPTURE_BENCH_PROBE=<dir> in the environment, the probe also answers
// http://127.0.0.1:<port>/read (figures, no reset), /reset, /read?reset=1 and /marks?extension=ID
// (VS Code's activation marks of that extension) on loopback, and
// writes {port, pid, isMainThread} to <dir>/probe.json once it listens; the bench uses that, so
// that no UI action is needed in the middle of a measurement. A request costs the thread well
// under a millisecond and the bench makes one per phase boundary.
//
// With LLM_CAPTURE_BENCH_STARTUP_PROFILE=<file>, it profiles the first 20 s and writes it there.
// /profile/start and /profile/stop?file=PATH take a CPU profile of the main thread (node:inspector,
// sampling every 1 ms) and write it as a .cpuprofile, with a sampled allocation profile beside it (.heapprofile), for `extension-bench.ts --profile-main`.
//
// Figures are in ms. monitorEventLoopDelay records the interval between the firings of a
// `resolution` ms timer, so an idle loop records ~resolution; the probe subtracts the resolution,
// so 0 means "the timer fired on time" and 40 means a 40 ms stall.
/* eslint-disable @typescript-eslint/no-require-imports */
'use strict';
const { monitorEventLoopDelay, performance } = require('node:perf_hooks');
const { createServer } = require('node:http');
const { writeFileSync, renameSync } = require('node:fs');
const { join } = require('node:path');
const { isMainThread } = require('node:worker_threads');

const RESOLUTION_MS = 10;

function activate(context) {
  const vscode = require('vscode');
  const total = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  total.enable();
  // The worst stall of each second since the reset, to see when stalls happen.
  const second = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  second.enable();
  let perSecondMax = [];
  let since = performance.now();
  let elu = performance.eventLoopUtilization();
  const tick = setInterval(() => {
    perSecondMax.push(Math.max(0, second.max / 1e6 - RESOLUTION_MS));
    if (perSecondMax.length > 3600) perSecondMax.shift();
    second.reset();
  }, 1000);
  const ms = (ns) => Math.max(0, ns / 1e6 - RESOLUTION_MS);

  const read = () => ({
    pid: process.pid,
    isMainThread,
    resolutionMs: RESOLUTION_MS,
    sinceMs: performance.now() - since,
    samples: total.count,
    p50: ms(total.percentile(50)),
    p90: ms(total.percentile(90)),
    p99: ms(total.percentile(99)),
    max: ms(total.max),
    mean: ms(total.mean),
    // Event-loop utilization: the share of wall time the thread was busy (not idle in epoll).
    utilization: performance.eventLoopUtilization(elu).utilization,
    perSecondMax: perSecondMax.slice(),
    // The main thread's own heap (every extension's and VS Code's), whose size its major collections scale with.
    heapUsedMb: require('node:v8').getHeapStatistics().used_heap_size / 1048576,
  });
  const reset = () => {
    total.reset();
    second.reset();
    perSecondMax = [];
    since = performance.now();
    elu = performance.eventLoopUtilization();
  };

  context.subscriptions.push(vscode.commands.registerCommand('llmCaptureBench.loopDelay', () => {
    const r = read();
    reset();
    return r;
  }));
  context.subscriptions.push({ dispose: () => { clearInterval(tick); total.disable(); second.disable(); } });

  // VS Code's floor for a conversation's first paint: a webview panel with LLM Capture's options, its
  // page a heading and one "turn" with a nonce'd script, nothing to fetch and nothing to ask for. The
  // bench stamps it as it stamps ours (the same h1.title and .turns .turn).
  context.subscriptions.push(vscode.commands.registerCommand('llmCaptureBench.blankWebview', () => {
    const panel = vscode.window.createWebviewPanel('llmCaptureBench.blank', 'Blank webview', vscode.ViewColumn.Active, { enableScripts: true, enableFindWidget: true });
    const nonce = Math.random().toString(36).slice(2);
    panel.webview.html = `<!DOCTYPE html><html><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'nonce-${nonce}';">
</head><body><h1 class="title">Blank webview</h1><div class="turns"><div class="turn">The first turn</div></div>
<script nonce="${nonce}">performance.mark('llm-capture:script');</script></body></html>`;
  }));

  // The main thread's first 20 s (every extension's activation), when the bench asks for it.
  const startupProfile = process.env.LLM_CAPTURE_BENCH_STARTUP_PROFILE;
  if (startupProfile) startProfile((err) => !err && setTimeout(() => stopProfile(startupProfile, () => undefined), 20_000));

  const dir = process.env.LLM_CAPTURE_BENCH_PROBE;
  if (!dir) return;
  const server = createServer((req, res) => {
    const url = new URL(req.url || '/', 'http://probe');
    let body;
    if (url.pathname === '/read') {
      body = read();
      if (url.searchParams.get('reset') === '1') reset();
    } else if (url.pathname === '/profile/start' || url.pathname === '/profile/stop') {
      const answer = (err) => res.writeHead(err ? 500 : 200, { 'content-type': 'application/json' }).end(JSON.stringify(err ? { error: String(err.message || err) } : { ok: true }));
      if (url.pathname === '/profile/start') startProfile(answer);
      else stopProfile(url.searchParams.get('file'), answer);
      return;
    } else if (url.pathname === '/marks') {
      body = activationMarks(url.searchParams.get('extension') || '');
    } else if (url.pathname === '/reset') {
      reset();
      body = { reset: true };
    } else {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  server.listen(0, '127.0.0.1', () => {
    const file = join(dir, 'probe.json');
    writeFileSync(`${file}.tmp`, JSON.stringify({ port: server.address().port, pid: process.pid, isMainThread }));
    renameSync(`${file}.tmp`, file);
  });
  context.subscriptions.push({ dispose: () => server.close() });
}

/**
 * VS Code's own marks for one extension's activation (code/extHost/willLoadExtensionCode/<id> and
 * the like, kept by its performance module on globalThis.MonacoPerformanceMarks): how long its code
 * took to load and its activate() to return. Running Extensions shows codeLoadingTime +
 * activateCallTime, whose clock starts before an await that lets the other extensions of the same
 * activation batch load their code first; `sameBatch` lists the extensions whose code loaded in the
 * second before this one's, with how long before it their loading began: the bench keeps those
 * that began inside the window that figure counts.
 */
function activationMarks(id) {
  const marks = globalThis.MonacoPerformanceMarks?.getMarks?.() ?? [];
  const at = (kind, ext) => marks.find((m) => m.name === `code/extHost/${kind}/${ext}`)?.startTime;
  const willLoad = at('willLoadExtensionCode', id);
  const didLoad = at('didLoadExtensionCode', id);
  const willActivate = at('willActivateExtension', id);
  const didActivate = at('didActivateExtension', id);
  if ([willLoad, didLoad, willActivate, didActivate].some((t) => t === undefined)) return { found: false };
  const sameBatch = [];
  for (const m of marks) {
    const other = /^code\/extHost\/willLoadExtensionCode\/(.+)$/.exec(m.name)?.[1];
    if (!other || other === id) continue;
    const done = at('didLoadExtensionCode', other);
    if (done !== undefined && done <= willLoad && willLoad - m.startTime < 1000) {
      sameBatch.push({ id: other, codeMs: done - m.startTime, startedBefore: willLoad - m.startTime });
    }
  }
  return { found: true, codeMs: didLoad - willLoad, activateMs: didActivate - willActivate, sameBatch };
}

let session;

/** Starts a CPU profile (a sample a millisecond) and a sampled allocation profile of this thread; done(err). */
function startProfile(done) {
  if (session) return done(new Error('a profile is already running'));
  const inspector = require('node:inspector');
  session = new inspector.Session();
  session.connect();
  // What the thread allocates too (a sample every 32 KiB): whose garbage its collector spends time on.
  session.post('Profiler.enable', () =>
    session.post('Profiler.setSamplingInterval', { interval: 1000 }, () =>
      session.post('Profiler.start', (err) => {
        if (err) return done(err);
        session.post('HeapProfiler.startSampling', { samplingInterval: 32768, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true }, done);
      })));
}

/** Stops both and writes FILE.cpuprofile (the path given) and FILE.heapprofile beside it; done(err). */
function stopProfile(file, done) {
  if (!session) return done(new Error('no profile started'));
  const s = session;
  const finish = (err) => {
    s.disconnect();
    if (session === s) session = undefined;
    done(err);
  };
  s.post('Profiler.stop', (err, result) => {
    if (err) return finish(err);
    writeFileSync(file, JSON.stringify(result.profile));
    s.post('HeapProfiler.stopSampling', (e2, heap) => {
      if (!e2) writeFileSync(file.replace(/\.cpuprofile$/, '.heapprofile'), JSON.stringify(heap.profile));
      finish(e2);
    });
  });
}

function deactivate() {}

module.exports = { activate, deactivate };
