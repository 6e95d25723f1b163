// Every word of the CLI's help, in one place: the top-level overview (`llm-capture --help`), each
// command's page (`llm-capture <command> --help`) and the version line.
import { version } from '../../package.json';
import { OTLP_HELP } from './otlp-options';

interface CommandHelp {
  name: string;
  /** The line in the top-level command list. */
  summary: string;
  usage: string;
  description: string;
  /** [option with its value, what it does] */
  options: readonly (readonly [string, string])[];
  /** [what it shows, the command line] */
  examples: readonly (readonly [string, string])[];
}

const WIDTH = 100;

const DATA_DIR = ['--data-dir DIR', 'the data directory: the CA and the captures (default: $LLM_CAPTURE_DATA_DIR, '
  + 'else ~/.local/share/llm-capture; ~/Library/Application Support/llm-capture on macOS, %LOCALAPPDATA%\\llm-capture on Windows)'] as const;
const HELP = ['-h, --help', 'this help'] as const;

const COMMANDS: readonly CommandHelp[] = [
  {
    name: 'demo',
    summary: 'see it work: a scripted agent and a fake model, captured on loopback into a demo store',
    usage: 'llm-capture demo [--data-dir DIR]',
    description: 'Runs a scripted agent against a built-in fake model server, through the capturing proxy, on loopback only: '
      + 'an Anthropic Messages conversation with a tool call and a subagent, and an OpenAI Responses WebSocket turn. '
      + 'The captures go to a demo data directory of their own (default: <data dir>/demo), never the user\'s store; '
      + 'afterwards it lists the sessions and the commands to look closer.',
    options: [['--data-dir DIR', 'the demo\'s own data directory (default: the "demo" folder inside the usual data directory)'], HELP],
    examples: [['run the demo, then follow the commands it prints', 'llm-capture demo']],
  },
  {
    name: 'proxy',
    summary: 'run the capturing proxy in the foreground until Ctrl-C',
    usage: 'llm-capture proxy [options]',
    description: 'Runs the capturing proxy on 127.0.0.1 until SIGINT or SIGTERM. It prints "listening on 127.0.0.1:<port>", the hosts '
      + 'it decrypts, the data directory, and a block of shell variables that sends a shell\'s agents through it (llm-capture env prints '
      + 'the same block later). Traffic to the intercepted LLM hosts is decrypted with a local CA, stored in the data directory with '
      + 'secrets redacted, and passed on unchanged; every other host is tunnelled blind. While it runs it prints one line per '
      + 'completed LLM call (time, client, model, short session id, tokens in/out, cost, duration, status; errors are marked) and one '
      + 'line the first time a host is tunnelled blind or refused.',
    options: [
      ['--port N', 'listen on 127.0.0.1:N (default 0: a free port)'],
      DATA_DIR,
      ['--intercept HOST,…', 'the hosts to decrypt, instead of the built-in LLM API hosts; "*.example.com" matches every subdomain; repeatable'],
      ['--upstream-ca FILE', 'also trust this CA (PEM) for upstream servers, beside the system roots; repeatable'],
      ['--upstream-proxy URL', 'reach upstream servers through this HTTP proxy (http://[user:pass@]host:port)'],
      ['--map HOST:PORT=ADDR:PORT', 'dial ADDR:PORT for HOST:PORT, still verifying HOST\'s certificate; repeatable'],
      ['--only-mapped', 'refuse every upstream that no --map names (tests, air-gapped use)'],
      ['--require-auth', 'refuse clients without the proxy credentials http://<label>:<token>@127.0.0.1:<port> (the printed environment '
        + 'block has them); the token is random unless --auth-token gives one'],
      ['--auth-token TOKEN', 'the token of those credentials; a client that sends it has its connections tagged with its <label>. '
        + 'Without --require-auth, clients without it are served too'],
      ['--max-body-mb N', 'keep bodies and WebSocket messages whole up to N MiB each (default 64); larger ones are cut and marked so'],
      ['--redact-header NAME', 'also redact this header, beyond the built-in secrets; repeatable'],
      ['--redact-field NAME', 'also redact this JSON, form or query field, at any depth; repeatable'],
      ['--quiet', 'print nothing per call; only the start-up block, warnings and errors'],
      ['--verbose', 'also print a line for every other captured exchange (token counts, telemetry, other requests to intercepted hosts) and debug messages'],
      ...OTLP_HELP,
      HELP,
    ],
    examples: [
      ['start it, and in another shell send that shell\'s agents through it', 'llm-capture proxy\n  eval "$(llm-capture env)"'],
      ['also send the sessions to an OpenTelemetry collector as they happen (docs/otlp.md)', 'llm-capture proxy --otlp-endpoint http://localhost:4318'],
      ['capture only one host, on a fixed port', 'llm-capture proxy --port 8080 --intercept api.anthropic.com'],
    ],
  },
  {
    name: 'env',
    summary: 'print the shell variables that send a shell\'s agents through the running proxy',
    usage: 'llm-capture env [--port N] [--data-dir DIR]',
    description: 'Prints the environment block (HTTPS_PROXY and friends, and the CA variables for Node, Python, curl and git) for the '
      + 'proxy running on this data directory, as "llm-capture proxy" printed it at start-up. Fails if no proxy is running there, '
      + 'unless --port names one.',
    options: [['--port N', 'the port of a proxy on 127.0.0.1, instead of the one the data directory knows of'], DATA_DIR, HELP],
    examples: [['send this shell\'s agents through the running proxy', 'eval "$(llm-capture env)"']],
  },
  {
    name: 'log',
    summary: 'the activity log: every request, tunnel and refused handshake, newest first',
    usage: 'llm-capture log [--json] [--limit N] [--data-dir DIR]',
    description: 'Prints the activity log, newest first, one line each: time, client label, method, URL, status, kind (http, sse, '
      + 'websocket, tunnel, tls), request and response sizes (for a WebSocket, its messages and their bytes each way), duration '
      + 'and any error.',
    options: [
      ['--json', 'a JSON array of the entries instead (see docs/cli.md)'],
      ['--limit N', 'the newest N entries (default 50)'],
      DATA_DIR,
      HELP,
    ],
    examples: [['the last 10 requests', 'llm-capture log --limit 10'], ['only the failures', 'llm-capture log --json --limit 1000 | jq \'.[] | select(.error)\'']],
  },
  {
    name: 'sessions',
    summary: 'the captured sessions (conversations), newest first',
    usage: 'llm-capture sessions [--json] [--data-dir DIR]',
    description: 'Lists the captured sessions, newest first, one line each: id, start time, client, model, turns, tokens, cost and title. '
      + 'Give an id (or a unique prefix of it) to "llm-capture show".',
    options: [['--json', 'a JSON array of session summaries instead (the fields are in docs/cli.md)'], DATA_DIR, HELP],
    examples: [['the sessions', 'llm-capture sessions'], ['the ids of the sessions', 'llm-capture sessions --json | jq -r \'.[].id\'']],
  },
  {
    name: 'search',
    summary: 'the turns of every session that mention a word or phrase',
    usage: 'llm-capture search QUERY [--client NAME] [--model TEXT] [--since DATE] [--until DATE] [--errors] [--limit N] [--json] [--data-dir DIR]',
    description: 'Finds QUERY (case does not matter) in the prompts, answers, thinking, tool names, arguments and results, injected context '
      + 'and system prompts of every captured session, newest sessions first, one line per turn: session id, time, client, turn, where '
      + 'it matched and the words around it. Give the session id to "llm-capture show".',
    options: [
      ['--client NAME', 'only sessions of this client (claude-code, codex, opencode, gemini-cli, …)'],
      ['--model TEXT', 'only sessions whose model contains TEXT (opus, gpt-5)'],
      ['--since DATE', 'only sessions active on or after DATE (2026-12-03, or 2026-12-03T14:00)'],
      ['--until DATE', 'only sessions that started on or before DATE'],
      ['--errors', 'only turns with a failed tool call'],
      ['--limit N', 'at most N turns (default 50)'],
      ['--json', 'a JSON array of matches instead (the fields are in docs/cli.md)'],
      DATA_DIR,
      HELP,
    ],
    examples: [
      ['where a file was discussed', 'llm-capture search "src/server.ts"'],
      ['failed tool calls in Codex sessions since yesterday', 'llm-capture search error --client codex --errors --since 2026-12-02'],
    ],
  },
  {
    name: 'show',
    summary: 'one session as a Markdown transcript or JSON',
    usage: 'llm-capture show SESSION [--markdown [--full] | --json | --html FILE] [--data-dir DIR]',
    description: 'Prints one session: its threads (main, subagents, side calls), turns, what the model said and did, tool calls with '
      + 'their results, tokens and cost, and for each model call what its request changed since the previous one (system prompt, '
      + 'tools, options, history) and what it read from the prompt cache, with the cause of each cache break and what it cost. '
      + 'SESSION is a session id or a unique prefix of one. The default is a Markdown transcript in '
      + 'which long system prompts, injected context and tool input and output are cut to 4000 characters; --full shows them whole.',
    options: [
      ['--markdown', 'a Markdown transcript (the default)'],
      ['--full', 'with --markdown: cut nothing (system prompts, injected context, tool calls, side-call answers)'],
      ['--json', 'the whole session as JSON, never cut (the fields are in docs/cli.md); not with --full'],
      ['--html FILE', 'write the session as one HTML file that opens offline in any browser, drawn as in VS Code (secrets already redacted)'],
      DATA_DIR,
      HELP,
    ],
    examples: [
      ['a transcript to read', 'llm-capture show 5b0c2c36 | less'],
      ['everything, uncut, into a file', 'llm-capture show 5b0c2c36 --markdown --full > session.md'],
      ['a page to share', 'llm-capture show 5b0c2c36 --html session.html'],
      ['why each cache break happened', 'llm-capture show 5b0c2c36 --json | jq \'.threads[].calls[] | select(.cache.missedTokens) | .cache.explanation\''],
    ],
  },
  {
    name: 'export',
    summary: 'write everything captured to a HAR 1.2 file, or send the sessions to an OpenTelemetry collector',
    usage: 'llm-capture export --har FILE [--data-dir DIR]\n       llm-capture export --otlp [--otlp-endpoint URL] [--session ID]… [--since DATE] [--otlp-content] [--data-dir DIR]',
    description: 'With --har: writes every captured exchange as HAR 1.2: bodies decoded (base64 for binary ones), WebSocket messages as '
      + '_webSocketMessages. Secrets were redacted when they were captured; the file is written readable by you only (0600). '
      + 'With --otlp: sends the stored sessions (all, or those named) to an OpenTelemetry collector over OTLP/HTTP as GenAI spans '
      + 'and metrics, whole, with the ids the live export (proxy --otlp) gives them; see docs/otlp.md.',
    options: [
      ['--har FILE', 'the file to write'],
      ['--session ID', 'with --otlp: only this session (an id or a unique prefix); may repeat'],
      ['--since DATE', 'with --otlp: only sessions active on or after DATE (2026-12-03, or 2026-12-03T14:00)'],
      ...OTLP_HELP,
      DATA_DIR,
      HELP,
    ],
    examples: [
      ['export to a file for a HAR viewer', 'llm-capture export --har capture.har'],
      ['send yesterday\'s sessions to a local collector', 'llm-capture export --otlp-endpoint http://localhost:4318 --since 2026-12-02'],
    ],
  },
  {
    name: 'import',
    summary: 'read a HAR file (this tool, Chrome, HTTP Toolkit, mitmproxy) into the store',
    usage: 'llm-capture import FILE.har [--data-dir DIR]',
    description: 'Reads a HAR file written by this tool, Chrome, HTTP Toolkit or mitmproxy into the data directory, redacting secrets '
      + 'on the way in, so that "sessions" and "show" can show its LLM calls. The whole file is checked before anything is written: '
      + 'a file that is not HAR stops the import and writes nothing; an entry with a wrong or missing field is skipped with its '
      + 'number and the field named, and the rest is imported (if none can be, nothing is).',
    options: [DATA_DIR, HELP],
    examples: [['look at a HAR from a colleague, away from your own captures', 'llm-capture import their.har --data-dir /tmp/theirs\n  llm-capture sessions --data-dir /tmp/theirs']],
  },
];

const OVERVIEW = 'LLM Capture shows what coding agents (Claude Code, Codex, OpenCode, …) send to their models and what comes back. '
  + '"llm-capture proxy" runs a capturing proxy on 127.0.0.1; the agents of a shell with its environment send their model traffic '
  + 'through it, and every call is stored in a data directory with secrets redacted. The other commands read the store: the '
  + 'sessions, each one\'s turns, tool calls, subagents, tokens and cost, and the raw requests.';

/** Word-wraps `text` to WIDTH, each line after the first indented by `indent` spaces. */
function wrap(text: string, indent: number, first = ''): string {
  const lines: string[] = [];
  let line = first;
  for (const word of text.split(' ')) {
    const space = line === '' || line.endsWith(' ') ? '' : ' ';
    if (line.trim() !== '' && line.length + space.length + word.length > WIDTH) {
      lines.push(line);
      line = ' '.repeat(indent) + word;
    } else {
      line += space + word;
    }
  }
  lines.push(line.trimEnd());
  return lines.join('\n');
}

export function topLevelHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 3;
  const list = COMMANDS.map((c) => wrap(c.summary, width + 2, `  ${c.name.padEnd(width)}`));
  return [
    wrap(OVERVIEW, 0),
    'usage: llm-capture <command> [options]',
    `commands:\n${list.join('\n')}`,
    'Run "llm-capture <command> --help" for its options; "llm-capture --version" prints the version.',
  ].join('\n\n') + '\n';
}

/** The help page of one command, or undefined if there is no such command. */
export function commandHelp(name: string): string | undefined {
  const c = COMMANDS.find((h) => h.name === name);
  if (!c) return undefined;
  const width = Math.min(26, Math.max(...c.options.map(([o]) => o.length))) + 3;
  const options = c.options.map(([option, text]) => option.length + 2 >= width
    ? `  ${option}\n${wrap(text, width + 2, ' '.repeat(width + 2))}`
    : wrap(text, width + 2, `  ${option.padEnd(width)}`));
  const examples = c.examples.map(([what, line]) => `  # ${what}\n  ${line}`);
  return [
    `usage: ${c.usage}`,
    wrap(c.description, 0),
    `options:\n${options.join('\n')}`,
    `examples:\n${examples.join('\n\n')}`,
  ].join('\n\n') + '\n';
}

export function versionLine(): string {
  return `llm-capture ${version}\n`;
}
