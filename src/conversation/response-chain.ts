// The Responses API's chaining (Codex over WebSocket): a request names the response it follows
// (`previous_response_id`) and carries only new input items. Its full history is the history
// after that response (the previous request's history plus the response's output) followed by
// the new items. Each response id is remembered as a point in a segment, so that rebuilding a
// chained request's history costs nothing but the new items.
import type { LlmCall } from '../llm/llm-call';
import type { Placement } from './continuity';
import { ConcatHistory, FlatInput, ItemHistory, makeItem, PrefixHistory, type History, type Item } from './history';
import type { Segment } from './segment';

/** The history after a response: a segment prefix, plus entries held apart (a prewarm's input). */
export interface ChainPoint {
  segment?: Segment;
  length: number;
  extra: Item[];
  fingerprint?: string;
}

export interface ChainedRequest {
  /** The request's full history. */
  history: History;
  /** Set when the chain continues a segment's tip: the place is known, nothing to compare. */
  tip?: Placement & { kind: 'extend' };
  /** The system fingerprint, inherited along the chain (chained requests do not resend it). */
  fingerprint?: string;
}

export class ResponseChains {
  private readonly points = new Map<string, ChainPoint>();

  has(responseId: string): boolean {
    return this.points.has(responseId);
  }

  /** The full history of a request: its input, after its chain's history when it has one. */
  request(call: LlmCall): ChainedRequest {
    const input = new FlatInput(call.input);
    const previous = call.identity.previousResponseId;
    const point = previous === undefined ? undefined : this.points.get(previous);
    const own = call.identity.systemFingerprint;
    if (!point) return { history: input, fingerprint: own };
    const fingerprint = own ?? point.fingerprint ?? point.segment?.fingerprint;
    if (point.segment && point.extra.length === 0 && point.length === point.segment.length) {
      const tip = { kind: 'extend' as const, segment: point.segment, from: point.length, edits: [], dropped: 0, named: [] };
      return { history: new ConcatHistory([point.segment, input]), tip, fingerprint };
    }
    const parts: History[] = [];
    if (point.segment) parts.push(new PrefixHistory(point.segment, point.length));
    if (point.extra.length > 0) parts.push(new ItemHistory(point.extra));
    parts.push(input);
    return { history: new ConcatHistory(parts), fingerprint };
  }

  /** The response of a call placed in `segment` ends at `length`. */
  answered(call: LlmCall, segment: Segment, length: number): void {
    const id = call.identity.responseId;
    if (id !== undefined) this.points.set(id, { segment, length, extra: [], fingerprint: segment.fingerprint });
  }

  /**
   * A prewarm is shown apart, but its input (often the system prompt alone) starts the chain
   * that the next request continues. Its history is held as a point, without joining a segment.
   */
  prewarmed(call: LlmCall, request: ChainedRequest, placement: Placement | undefined): void {
    const id = call.identity.responseId;
    if (id === undefined) return;
    const { history } = request;
    const held = (from: number) => {
      const items: Item[] = [];
      for (let i = from; i < history.length; i++) items.push(makeItem(history.entry(i), call.id, call.startedAt));
      return items;
    };
    let point: ChainPoint;
    if (placement?.kind === 'extend') point = { segment: placement.segment, length: placement.segment.length, extra: held(placement.from) };
    else if (placement?.kind === 'repeat') point = { segment: placement.segment, length: placement.length, extra: [] };
    else point = { length: 0, extra: held(0) };
    point.fingerprint = request.fingerprint;
    this.points.set(id, point);
  }

  absorb(other: ResponseChains): void {
    for (const [id, point] of other.points) this.points.set(id, point);
  }
}
