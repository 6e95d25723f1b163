// One conversation panel's page and what it is sent (src/shared/conversation-protocol.ts). The
// engine is asked for the session as the page boots; its answer is written into the page when it
// comes before the page is (decision 89), else posted when the page says `ready` (VS Code hands a
// loading page its messages only after the page's `load` event, so the page links no stylesheet
// for `load` to wait for: decision 86). The page's model is a
// revision the engine holds: after a change the page gets a patch against it (decision 76).
import { readFileSync } from 'node:fs';
import * as vscode from 'vscode';
import { codiconStyle, conversationHtml, type InlineFiles } from '../app/conversation-html';
import { parseWebviewMessage, type HostToWebview, type WebviewToHost } from '../../src/shared/conversation-protocol';
import type { ViewAnswer } from '../app/view-model-diff';
import type { CaptureData } from './capture-data';
import { Disposable } from './lifecycle';
import type { Logger } from './logger';

export interface ConversationFocus {
  threadId?: string;
  turnIndex?: number;
  /** Text to search the thread for: a match found by Search Sessions, highlighted. */
  query?: string;
}

let inlineFiles: { files: InlineFiles | undefined } | undefined;

/** The webview's script and styles, read once, to be written into each page (decisions 65, 86); undefined if they cannot be read (then they are loaded by URL). */
function webviewFiles(extensionUri: vscode.Uri): InlineFiles | undefined {
  if (!inlineFiles) {
    const read = (name: string) => readFileSync(vscode.Uri.joinPath(extensionUri, 'dist', 'webview', name).fsPath, 'utf8');
    try {
      inlineFiles = { files: { script: read('main.js'), style: read('style.css'), codicons: read('codicon.css') } };
    } catch {
      inlineFiles = { files: undefined };
    }
  }
  return inlineFiles.files;
}

/** A page's `session` message; its focus goes with it unless the turn may be past a head (then it follows the rest). */
function sessionMessage(answer: Extract<ViewAnswer, { model: unknown }>, focus: ConversationFocus): Extract<HostToWebview, { type: 'session' }> {
  const later = answer.head === true && focus.turnIndex !== undefined;
  return { type: 'session', model: answer.model, revision: answer.revision, ...(focus.threadId && !later ? { focus } : {}) };
}

/** How long a new page waits for the engine's answer to be written into it (decision 89). */
const FIRST_ANSWER_WAIT_MS = 100;

export function panelTitle(title: string | undefined, id: string): string {
  const t = (title || id).replace(/\s+/g, ' ').trim();
  return t.length > 40 ? `${t.slice(0, 39)}…` : t;
}

export class ConversationPanel extends Disposable {
  private ready = false;
  /** The engine's revision of the previews of calls in progress the page has (decision 76). */
  private liveRevision: number | undefined;
  /** One preview request at a time; a change meanwhile asks again after it. */
  private liveAsking = false;
  private liveAgain = false;
  private pendingFocus: ConversationFocus;
  /** The session was not loaded when last asked for (history still loading, or gone). */
  missing = false;
  /** The model asked for while the page boots, posted when it says `ready` (unless the session changed meanwhile). */
  private early: Promise<ViewAnswer | undefined> | undefined;
  /** The engine's revision of the model the page has (decision 76); undefined while it has none. */
  private revision: number | undefined;
  /** The page has only the session's head: the rest goes as a patch once its first frame is drawn (decision 65). */
  private headOnly = false;
  /** A focus to apply once the rest has gone (its thread or turn may be past the head). */
  private focusAfterRest: ConversationFocus | undefined;
  /** The `session` message written into the page (decision 89), until the page says whether it drew it. */
  private written: { sessionId: string; revision: number; head: boolean; focus: ConversationFocus } | undefined;
  /** Counts `session` messages: an update asked for before the last one is stale. */
  private generation = 0;
  /** One update is asked of the engine at a time; changes meanwhile ask for one more after it. */
  private refreshing = false;
  private refreshAgain = false;

  constructor(
    readonly panel: vscode.WebviewPanel,
    public sessionId: string,
    extensionUri: vscode.Uri,
    private readonly data: CaptureData,
    private readonly log: Logger,
    focus: ConversationFocus,
    /** A panel VS Code restored after a reload: its page has a state, so it would not draw a message written into it. */
    restored = false,
  ) {
    super();
    this.pendingFocus = focus;
    const web = panel.webview;
    const asset = (name: string) => web.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webview', name)).toString();
    panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'llm-capture.svg');
    this.register(web.onDidReceiveMessage((m: unknown) => this.onMessage(parseWebviewMessage(m))));
    const inline = webviewFiles(extensionUri);
    const html = (first?: Extract<HostToWebview, { type: 'session' }>) => conversationHtml({
      cspSource: web.cspSource, scriptUri: asset('main.js'), styleUri: asset('style.css'), codiconUri: asset('codicon.css'),
      // The font's URL is this webview's own, so the stylesheet read once is pointed at it per page.
      ...(inline ? { inline: { ...inline, codicons: codiconStyle(inline.codicons, asset('codicon.ttf')) } } : {}),
      ...(first ? { first } : {}),
    });
    // VS Code begins the page's frame 100-250 ms after the panel is made; the engine's answer comes
    // sooner, and written into the page it is drawn without the round trip of `ready` (decision 89).
    // If it is late, the page is written without it and gets it by message, as before.
    const early = this.loadFirst(focus);
    this.early = early;
    let pageWritten = false;
    const write = (answer: ViewAnswer | undefined) => {
      if (pageWritten || this.isDisposed) return;
      pageWritten = true;
      // Another session shown meanwhile (the preview panel reused): its message goes after `ready`.
      const model = answer && 'model' in answer && this.sessionId === sessionId ? answer : undefined;
      if (model) this.written = { sessionId, revision: model.revision, head: model.head === true, focus: this.pendingFocus };
      web.html = html(model ? sessionMessage(model, this.pendingFocus) : undefined);
    };
    if (restored) {
      write(undefined);
      return;
    }
    const late = setTimeout(() => write(undefined), FIRST_ANSWER_WAIT_MS);
    void early.then((answer) => {
      clearTimeout(late);
      write(answer);
    });
  }

  get closed(): boolean {
    return this.isDisposed;
  }

  /** Closes the webview too (the registry closes a panel whose session merged into one that has a panel). */
  override dispose(): void {
    if (this.isDisposed) return;
    this.forget(this.sessionId);
    super.dispose();
    this.panel.dispose();
  }

  /** The engine need not hold the model this page had of `sessionId` any more. */
  private forget(sessionId: string): void {
    if (!this.data.engine.started) return;
    this.data.engine.request('conversation.forget', { sessionId }).catch(() => undefined);
  }

  focus(focus: ConversationFocus): void {
    if (!this.ready) {
      this.pendingFocus = focus;
      return;
    }
    // The thread or turn may be past the head the page has so far: the rest goes first.
    if (this.headOnly && focus.threadId) {
      this.focusAfterRest = focus;
      this.refresh();
      return;
    }
    if (focus.threadId) {
      this.post({
        type: 'showThread', threadId: focus.threadId, ...(focus.turnIndex !== undefined ? { turnIndex: focus.turnIndex } : {}),
        ...(focus.query !== undefined ? { query: focus.query } : {}),
      });
    }
  }

  /**
   * Shows another session in this page (the preview panel reused): the page gets the new model as
   * its `session` message, and starts over at its top (decision 67).
   */
  show(sessionId: string, focus: ConversationFocus): void {
    if (sessionId !== this.sessionId) this.forget(this.sessionId);
    this.sessionId = sessionId;
    this.missing = false;
    this.revision = undefined;
    this.headOnly = false;
    this.focusAfterRest = undefined;
    this.pendingFocus = focus;
    this.panel.title = panelTitle(this.data.summary(sessionId)?.title, sessionId);
    this.early = this.loadFirst(focus);
    if (this.ready) this.sendSession();
  }

  /**
   * Sends the session's change (after a call, or the rest after its head), if the webview is
   * listening: what changed since the model the page has, or the whole model when the engine no
   * longer holds that one (decision 76).
   */
  refresh(): void {
    if (!this.ready) {
      // What was fetched (and written into the page) is older now: the page gets the current model.
      this.early = undefined;
      this.written = undefined;
      return;
    }
    if (this.refreshing) {
      this.refreshAgain = true;
      return;
    }
    this.refreshing = true;
    const { sessionId, generation, revision: since } = this;
    void this.loadModel(since).then((answer) => {
      // Another session is shown now: its own message is on its way.
      if (sessionId !== this.sessionId || this.isDisposed) return;
      // A `session` message went meanwhile, or (for a patch) the page's model is not the one it was made against.
      if (generation !== this.generation || (answer && 'patch' in answer && since !== this.revision)) {
        this.refreshAgain = true;
        return;
      }
      if (!answer) {
        this.missing = true;
        return;
      }
      const wasMissing = this.missing;
      this.missing = false;
      this.revision = answer.revision;
      this.headOnly = false;
      if ('patch' in answer) this.post({ type: 'sessionPatch', base: answer.base, revision: answer.revision, patch: answer.patch });
      else if (wasMissing) this.post({ type: 'session', model: answer.model, revision: answer.revision });
      else this.post({ type: 'sessionUpdated', model: answer.model, revision: answer.revision });
      const focus = this.focusAfterRest;
      this.focusAfterRest = undefined;
      if (focus) this.focus(focus);
    }).finally(() => {
      this.refreshing = false;
      if (!this.refreshAgain || this.isDisposed) return;
      this.refreshAgain = false;
      this.refresh();
    });
  }

  /**
   * The session's view model from the engine, as a patch against revision `since` when the engine
   * still holds it; undefined when the session is not loaded (yet, or any more).
   */
  private async loadModel(since?: number, head = false): Promise<ViewAnswer | undefined> {
    const sessionId = this.sessionId;
    try {
      const answer = await this.data.engine.request('conversation.view', { sessionId, ...(since !== undefined ? { since } : {}), ...(head ? { head } : {}) });
      if (!answer || this.isDisposed || sessionId !== this.sessionId) return undefined;
      const header = 'patch' in answer ? answer.patch : answer.model;
      this.panel.title = panelTitle(header.title, header.sessionId);
      return answer;
    } catch (e) {
      this.log.warn(`conversation ${sessionId}: ${(e as Error).message}`);
      return undefined;
    }
  }

  /** A new page's model: the head of a long session (the rest follows), unless a turn is to be shown. */
  private loadFirst(focus: ConversationFocus): Promise<ViewAnswer | undefined> {
    return this.loadModel(undefined, focus.turnIndex === undefined);
  }

  private sendSession(): void {
    const early = this.early;
    this.early = undefined;
    const sessionId = this.sessionId;
    void (early ?? this.loadFirst(this.pendingFocus)).then((answer) => {
      if (sessionId !== this.sessionId) return;
      // Asked for without a revision, the answer is a model (whole, or a head).
      if (!answer || !('model' in answer)) {
        this.generation++;
        this.revision = undefined;
        this.headOnly = false;
        this.focusAfterRest = undefined;
        this.missing = true;
        this.post({ type: 'sessionMissing', sessionId: this.sessionId });
        return;
      }
      const focus = this.pendingFocus;
      this.post(sessionMessage(answer, focus));
      this.pageHas(answer.revision, answer.head === true, focus);
    });
  }

  /** The page drew the `session` written into it: the state `sendSession` would have left, without sending it again. */
  private adoptWritten(written: { revision: number; head: boolean; focus: ConversationFocus }): void {
    this.early = undefined;
    // A focus asked for since the page was written (another click on the row) goes after it.
    const newer = this.pendingFocus === written.focus ? undefined : this.pendingFocus;
    this.pageHas(written.revision, written.head, newer ? {} : written.focus);
    if (newer) this.focus(newer);
  }

  /**
   * The page has (or is being sent) a new `session`, made with `focus`: its revision, whether only
   * its head went, and a turn to scroll to that may be past the head, shown once the rest has gone.
   */
  private pageHas(revision: number, head: boolean, focus: ConversationFocus): void {
    this.generation++;
    this.missing = false;
    this.pendingFocus = {};
    this.revision = revision;
    this.headOnly = head;
    this.focusAfterRest = undefined;
    if (head && focus.turnIndex !== undefined) {
      this.focusAfterRest = focus;
      this.refresh();
    }
    // A new page has no live turns yet.
    this.liveRevision = undefined;
    this.sendLive();
  }

  /**
   * Posts the session's calls still streaming (side calls left out) when they changed since the
   * previews the page has: as changes against those when the engine holds them (decision 76).
   */
  sendLive(): void {
    if (!this.ready || this.missing) return;
    if (this.liveAsking) {
      this.liveAgain = true;
      return;
    }
    this.liveAsking = true;
    const { sessionId, liveRevision: since } = this;
    void this.data.engine.request('conversation.live', { sessionId, ...(since !== undefined ? { since } : {}) }).then((answer) => {
      // Another session, or a new page meanwhile (which asks for its own): this answer is not for it.
      if (this.isDisposed || sessionId !== this.sessionId || since !== this.liveRevision) return;
      this.liveRevision = answer.revision;
      if ('changes' in answer) this.post({ type: 'livePatch', base: answer.base, revision: answer.revision, changes: answer.changes });
      else if ('turns' in answer) this.post({ type: 'live', turns: answer.turns, revision: answer.revision });
    }, (e: Error) => this.log.warn(`live turns of ${this.sessionId}: ${e.message}`)).finally(() => {
      this.liveAsking = false;
      if (!this.liveAgain || this.isDisposed) return;
      this.liveAgain = false;
      this.sendLive();
    });
  }

  private onMessage(m: WebviewToHost | undefined): void {
    if (!m) return;
    switch (m.type) {
      case 'ready': {
        // Also after the webview was hidden and shown again (its page is rebuilt).
        this.ready = true;
        const written = this.written;
        this.written = undefined;
        if (written && m.has === written.revision && written.sessionId === this.sessionId) this.adoptWritten(written);
        else this.sendSession();
        break;
      }
      case 'drawn':
        if (this.headOnly) this.refresh();
        break;
      case 'stale':
        this.log.warn(`conversation ${this.sessionId}: the page could not apply an update; sending the whole session`);
        this.revision = undefined;
        this.headOnly = false;
        this.refresh();
        this.liveRevision = undefined;
        this.sendLive();
        break;
      case 'openThread':
        this.post({ type: 'showThread', threadId: m.threadId });
        break;
      case 'copy':
        void vscode.env.clipboard.writeText(m.text).then(() => vscode.window.setStatusBarMessage('Copied', 1500));
        break;
      case 'requestRaw':
        void this.rawCall(m.callId).then((answer) => this.post(answer));
        break;
    }
  }

  /** Only calls of this panel's session are answered (the engine checks): the id comes from the webview. */
  private async rawCall(callId: string): Promise<HostToWebview> {
    try {
      const answer = await this.data.engine.request('conversation.raw', { sessionId: this.sessionId, callId });
      return 'error' in answer ? { type: 'raw', callId, error: answer.error } : { type: 'raw', callId, view: answer.view };
    } catch (e) {
      this.log.warn(`raw call ${callId}: ${(e as Error).message}`);
      return { type: 'raw', callId, error: `Could not read the call: ${(e as Error).message}` };
    }
  }

  private post(message: HostToWebview): void {
    void this.panel.webview.postMessage(message).then(undefined, (e: Error) => this.log.warn(`conversation view: ${e.message}`));
  }
}
