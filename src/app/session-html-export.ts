// A session as one self-contained HTML file (docs/decisions.md, decision 70): the conversation view's own page (its
// bundled script and styles), the session's view model inside it as data, the codicon font as a
// data: URL, and VS Code's Light+ / Dark+ colours for the theme variables a webview would get from
// the editor. Captured content stays inert as in the webview: the same rendering code (text nodes
// and the sanitising Markdown renderer), and a CSP that runs only this file's two scripts and loads
// nothing from anywhere. What the store holds is already redacted; raw calls are left out.
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { ConversationViewModel } from '../../src/shared/conversation-view-model';
import { codiconStyle, jsonInScript, makeNonce } from './conversation-html';

export interface ExportAssets {
  /** dist/webview/main.js, style.css, codicon.css and codicon.ttf. */
  script: string;
  style: string;
  codiconCss: string;
  codiconFont: Buffer;
}

/** The theme variables the page and its components read, as VS Code's default themes set them. */
const LIGHT: Record<string, string> = {
  'font-family': 'system-ui, -apple-system, "Segoe UI", Ubuntu, sans-serif', 'font-size': '13px', 'font-weight': 'normal',
  'editor-font-family': 'ui-monospace, "SF Mono", Menlo, Consolas, "Liberation Mono", monospace', 'editor-font-size': '13px',
  foreground: '#3b3b3b', 'editor-background': '#ffffff', 'panel-background': '#f8f8f8', 'sideBar-background': '#f8f8f8',
  descriptionForeground: '#717171', 'panel-border': '#e5e5e5', focusBorder: '#005fb8', contrastBorder: 'transparent',
  'badge-background': '#cccccc', 'badge-foreground': '#3b3b3b', 'activityBarBadge-background': '#005fb8', 'activityBarBadge-foreground': '#ffffff',
  'button-background': '#005fb8', 'button-foreground': '#ffffff', 'button-hoverBackground': '#0258a8',
  'charts-blue': '#1a85ff', 'charts-green': '#388a34', 'charts-orange': '#d18616', 'charts-purple': '#652d90', 'charts-red': '#e51400', 'charts-yellow': '#bf8803',
  'diffEditor-insertedLineBackground': 'rgba(155, 185, 85, 0.2)', 'diffEditor-removedLineBackground': 'rgba(255, 0, 0, 0.2)',
  'gitDecoration-addedResourceForeground': '#587c0c', 'gitDecoration-deletedResourceForeground': '#ad0707',
  'dropdown-background': '#ffffff', 'dropdown-border': '#cecece', 'dropdown-foreground': '#3b3b3b',
  'editor-findMatchHighlightBackground': 'rgba(234, 92, 0, 0.33)', 'editorWarning-foreground': '#bf8803', errorForeground: '#f85149',
  'icon-foreground': '#3b3b3b', 'input-placeholderForeground': '#767676', 'inputValidation-errorBackground': '#f2dede', 'inputValidation-errorBorder': '#be1100',
  'list-hoverBackground': '#f2f2f2', 'panelTitle-activeBorder': '#005fb8', 'panelTitle-activeForeground': '#3b3b3b', 'panelTitle-inactiveForeground': '#3b3b3b',
  'settings-headerBorder': '#e5e5e5', 'settings-textInputBackground': '#ffffff', 'settings-textInputBorder': '#cecece', 'settings-textInputForeground': '#3b3b3b',
  'sideBarSectionHeader-background': '#f8f8f8', 'sideBarSectionHeader-border': '#e5e5e5', 'sideBarTitle-foreground': '#3b3b3b',
  'textCodeBlock-background': '#f8f8f8', 'textLink-foreground': '#005fb8', 'toolbar-hoverBackground': 'rgba(184, 184, 184, 0.31)',
};
const DARK: Record<string, string> = {
  ...LIGHT,
  foreground: '#cccccc', 'editor-background': '#1f1f1f', 'panel-background': '#181818', 'sideBar-background': '#181818',
  descriptionForeground: '#9d9d9d', 'panel-border': '#2b2b2b', focusBorder: '#0078d4', 'badge-background': '#616161', 'badge-foreground': '#f8f8f8',
  'activityBarBadge-background': '#0078d4', 'button-background': '#0078d4', 'button-hoverBackground': '#026ec1',
  'charts-blue': '#3794ff', 'charts-green': '#89d185', 'charts-orange': '#d18616', 'charts-purple': '#b180d7', 'charts-red': '#f14c4c', 'charts-yellow': '#cca700',
  'gitDecoration-addedResourceForeground': '#81b88b', 'gitDecoration-deletedResourceForeground': '#c74e39',
  'dropdown-background': '#313131', 'dropdown-border': '#3c3c3c', 'dropdown-foreground': '#cccccc', 'editorWarning-foreground': '#cca700',
  'icon-foreground': '#cccccc', 'input-placeholderForeground': '#989898', 'inputValidation-errorBackground': '#5a1d1d',
  'list-hoverBackground': '#2a2d2e', 'panelTitle-activeBorder': '#0078d4', 'panelTitle-activeForeground': '#cccccc', 'panelTitle-inactiveForeground': '#9d9d9d',
  'settings-headerBorder': '#2b2b2b', 'settings-textInputBackground': '#313131', 'settings-textInputBorder': '#3c3c3c', 'settings-textInputForeground': '#cccccc',
  'sideBarSectionHeader-background': '#181818', 'sideBarSectionHeader-border': '#2b2b2b', 'sideBarTitle-foreground': '#cccccc',
  'textCodeBlock-background': '#2b2b2b', 'textLink-foreground': '#4daafc', 'toolbar-hoverBackground': 'rgba(90, 93, 94, 0.31)',
};

const variables = (theme: Record<string, string>): string => Object.entries(theme).map(([k, v]) => `--vscode-${k}: ${v};`).join(' ');

const THEME = `:root { ${variables(LIGHT)} }
@media (prefers-color-scheme: dark) { :root { ${variables(DARK)} } }
body { background: var(--vscode-editor-background); color: var(--vscode-foreground); font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); margin: 0 auto; max-width: 1100px; padding: 12px 20px; }`;

/**
 * Stands in for the editor: answers the page's `ready` with the session, and what an exported
 * file cannot do (raw calls) with a sentence. Plain ES5-level code: it runs before the bundle.
 */
const BOOT = `(function () {
  var data = JSON.parse(document.getElementById('llm-capture-session').textContent);
  function send(message) { window.dispatchEvent(new MessageEvent('message', { data: message })); }
  window.acquireVsCodeApi = function () {
    return {
      postMessage: function (m) {
        if (m.type === 'ready') setTimeout(function () { send({ type: 'session', model: data }); }, 0);
        else if (m.type === 'openThread') send({ type: 'showThread', threadId: m.threadId });
        else if (m.type === 'requestRaw') send({ type: 'raw', callId: m.callId, error: 'Raw calls are not kept in an exported session.' });
        else if (m.type === 'copy' && navigator.clipboard) navigator.clipboard.writeText(m.text).catch(function () {});
      },
      getState: function () { return undefined; },
      setState: function () {},
    };
  };
})();`;

/** Text safe inside a <script> or <style> element: nothing in it can end the element or open a comment. */
function inElement(text: string, tag: 'script' | 'style'): string {
  return text.replace(new RegExp(`<(/${tag}|!--)`, 'gi'), tag === 'script' ? '\\x3C$1' : '\\3C $1');
}

export function sessionHtml(model: ConversationViewModel, assets: ExportAssets, nonce = makeNonce()): string {
  const csp = ["default-src 'none'", `script-src 'nonce-${nonce}'`, "style-src 'unsafe-inline'", 'font-src data:', 'img-src data:'].join('; ');
  const codicons = codiconStyle(assets.codiconCss, `data:font/ttf;base64,${assets.codiconFont.toString('base64')}`);
  const title = model.title.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
  const script = assets.script.replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<meta name="generator" content="LLM Capture">
<title>${title} · LLM Capture</title>
<style>${inElement(THEME, 'style')}</style>
<style>${inElement(codicons, 'style')}</style>
<style>${inElement(assets.style, 'style')}</style>
</head>
<body>
<div id="root"></div>
<script type="application/json" id="llm-capture-session">${jsonInScript(model)}</script>
<script nonce="${nonce}">${BOOT}</script>
<script nonce="${nonce}">${inElement(script, 'script')}</script>
</body>
</html>
`;
}

/**
 * The conversation page's files, from `dir` (an extension's or the CLI's dist/webview). Throws a
 * sentence that says what to do when they are not there (a source checkout that was not built).
 */
export async function loadExportAssets(dir: string): Promise<ExportAssets> {
  const read = async (name: string): Promise<Buffer> => {
    try {
      return await fsp.readFile(join(dir, name));
    } catch {
      throw new Error(`the conversation page's ${name} is not in ${dir}: build it first (npm run build)`);
    }
  };
  const [script, style, codiconCss, codiconFont] = await Promise.all(['main.js', 'style.css', 'codicon.css', 'codicon.ttf'].map(read));
  return { script: script!.toString('utf8'), style: style!.toString('utf8'), codiconCss: codiconCss!.toString('utf8'), codiconFont: codiconFont! };
}
