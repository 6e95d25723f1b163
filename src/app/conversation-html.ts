// The conversation webview's HTML shell: a strict CSP with a nonce, the bundled script and styles
// from dist/webview, and, when the host has it in time, the page's first `session` message as JSON
// (docs/decisions.md, decision 89; otherwise it arrives by message after `ready`).
// The script and the styles are written into the page when the host has them (docs/decisions.md,
// decisions 65 and 86): fetched through VS Code's resource loading, each came ~100 ms after the
// page's own frame began, a script waits for every stylesheet before it in the page, and VS Code
// hands the page its messages only after its `load` event, which waits for every stylesheet.
import { randomBytes } from 'node:crypto';
import { FIRST_SESSION_ID, type HostToWebview } from '../../src/shared/conversation-protocol';

/** The webview's files, to write into the page instead of loading them by URL (decisions 65, 86). */
export interface InlineFiles {
  /** dist/webview/main.js. */
  script: string;
  /** dist/webview/style.css. */
  style: string;
  /** dist/webview/codicon.css, its font pointed at a URL the page can load (`codiconStyle`). */
  codicons: string;
}

export interface ConversationHtmlOptions {
  /** `webview.cspSource`. */
  cspSource: string;
  scriptUri: string;
  styleUri: string;
  codiconUri: string;
  /**
   * All three files written into the page, or none: a linked stylesheet would hold up the script
   * after it, and VS Code hands a page its messages only after its `load` event, which waits for
   * every stylesheet the page links.
   */
  inline?: InlineFiles;
  /** The page's first `session` message, written into it so that it draws before `ready` (decision 89). */
  first?: Extract<HostToWebview, { type: 'session' }>;
  nonce?: string;
}

export function makeNonce(): string {
  return randomBytes(18).toString('base64').replace(/[^A-Za-z0-9]/g, '');
}

const attr = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

export function conversationHtml(o: ConversationHtmlOptions): string {
  const nonce = o.nonce ?? makeNonce();
  const csp = [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    // Lit (inside @vscode-elements) injects component styles at run time.
    `style-src ${o.cspSource} 'unsafe-inline'`,
    `font-src ${o.cspSource}`,
    `img-src ${o.cspSource} https: data:`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${attr(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
${o.inline ? `<style id="vscode-codicon-stylesheet">${styleText(o.inline.codicons)}</style>` : `<link rel="stylesheet" href="${attr(o.codiconUri)}" id="vscode-codicon-stylesheet">`}
${o.inline ? `<style>${styleText(o.inline.style)}</style>` : `<link rel="stylesheet" href="${attr(o.styleUri)}">`}
<title>LLM Capture session</title>
</head>
<body>
<div id="root"></div>
${o.first ? `<script type="application/json" id="${FIRST_SESSION_ID}">${jsonInScript(o.first)}</script>` : ''}
${o.inline ? `<script nonce="${nonce}">${scriptText(o.inline.script)}</script>` : `<script nonce="${nonce}" src="${attr(o.scriptUri)}"></script>`}
</body>
</html>
`;
}

/** JSON that stays data inside a <script type="application/json">: every `<` escaped, so no tag can end it. */
export function jsonInScript(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/** CSS safe inside a <style> element: `</style` would end it. */
function styleText(css: string): string {
  return css.replace(/<\/(style)/gi, '<\\/$1');
}

/**
 * The codicons' stylesheet with its font (`./codicon.ttf?…`, relative to the stylesheet) at
 * `fontUrl`, as a page it is written into needs (the font's query only told versions apart, and a
 * webview's URL of it already names the extension's version).
 */
export function codiconStyle(css: string, fontUrl: string): string {
  return css.replace(/url\(["']?\.?\/?codicon\.ttf[^)]*\)/g, () => `url("${fontUrl}")`);
}

/**
 * Code safe inside a <script> element: `</script` would end the element and `<!--` changes how
 * the rest is parsed (HTML's script data states). Both only occur inside string, template or
 * regular-expression literals in our bundle, where `\x3C` is the same `<` (in `u` patterns too).
 * The source map comment is dropped: its relative URL means nothing in the page.
 */
function scriptText(code: string): string {
  return code.replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n').replace(/<(\/script|!--)/gi, '\\x3C$1');
}
