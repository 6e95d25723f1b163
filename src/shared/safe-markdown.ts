// Markdown for captured content: markdown-it with raw HTML off (so `<script>` and `<img onerror>`
// come out as escaped text) and a link validator that lets through only http(s) and mailto.
// Its output is the only HTML the conversation webview ever assigns to innerHTML.
import MarkdownIt from 'markdown-it';

const ALLOWED_LINK = /^(https?:|mailto:)/i;

export function isSafeLink(url: string): boolean {
  // Browsers ignore control characters and whitespace inside schemes ("java\nscript:").
  const compact = url.replace(/[\u0000-\u0020\u007f]+/g, '');
  return ALLOWED_LINK.test(compact);
}

const md = new MarkdownIt({ html: false, linkify: true, breaks: false, typographer: false });
md.validateLink = isSafeLink;
// Images would fetch from anywhere; show their alt text and address as a link instead.
md.renderer.rules.image = (tokens, idx) => {
  const token = tokens[idx]!;
  const src = String(token.attrGet('src') ?? '');
  const alt = md.utils.escapeHtml(token.content || 'image');
  return isSafeLink(src) ? `<a href="${md.utils.escapeHtml(src)}">[${alt}]</a>` : `[${alt}]`;
};
const defaultLinkOpen = md.renderer.rules.link_open ?? ((tokens, idx, options, _env, self) => self.renderToken(tokens, idx, options));
md.renderer.rules.link_open = (tokens, idx, options, env, self) => {
  tokens[idx]!.attrSet('title', String(tokens[idx]!.attrGet('href') ?? ''));
  return defaultLinkOpen(tokens, idx, options, env, self);
};

export function renderMarkdown(text: string): string {
  return md.render(text);
}
