// The Markdown renderer of the conversation webview: captured content must stay inert.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isSafeLink, renderMarkdown } from '../../src/shared/safe-markdown';

describe('safe markdown', () => {
  test('raw HTML is escaped text, not markup', () => {
    const html = renderMarkdown('Look: <img src=x onerror=alert(1)> and <script>alert(2)</script>\n\n<div onclick="x()">hi</div>');
    assert.doesNotMatch(html, /<img/);
    assert.doesNotMatch(html, /<script/);
    assert.doesNotMatch(html, /<div/);
    assert.match(html, /&lt;img src=x onerror=alert\(1\)&gt;/);
    assert.match(html, /&lt;script&gt;alert\(2\)&lt;\/script&gt;/);
  });

  test('javascript: and data: links get no href', () => {
    for (const src of ['[x](javascript:alert(1))', '[x](JaVaScRiPt:alert(1))', '[x](data:text/html;base64,PHNjcmlwdD4=)', '[x](vbscript:msgbox)', '<javascript:alert(1)>']) {
      const html = renderMarkdown(src);
      assert.doesNotMatch(html, /href=/, src);
      assert.doesNotMatch(html, /<a /, src);
    }
  });

  test('http, https and mailto links work; linkify too', () => {
    assert.match(renderMarkdown('[docs](https://example.com/a?b=1)'), /<a href="https:\/\/example\.com\/a\?b=1"/);
    assert.match(renderMarkdown('[me](mailto:a@example.com)'), /href="mailto:a@example.com"/);
    assert.match(renderMarkdown('see https://example.com/x'), /<a href="https:\/\/example\.com\/x"/);
  });

  test('images become links (or text), never <img>', () => {
    assert.doesNotMatch(renderMarkdown('![pic](https://example.com/a.png)'), /<img/);
    assert.match(renderMarkdown('![pic](https://example.com/a.png)'), /<a href="https:\/\/example\.com\/a\.png">\[pic\]<\/a>/);
    assert.equal(renderMarkdown('![pic](javascript:alert(1))').includes('href'), false);
  });

  test('code blocks keep their content as text', () => {
    const html = renderMarkdown('```html\n<script>alert(1)</script>\n```');
    assert.match(html, /<pre><code class="language-html">&lt;script&gt;/);
  });

  test('isSafeLink ignores control characters in a scheme', () => {
    assert.equal(isSafeLink('java\nscript:alert(1)'), false);
    assert.equal(isSafeLink(' https://example.com'), true);
    assert.equal(isSafeLink('/relative'), false);
  });
});
