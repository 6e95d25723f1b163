// A scripted Claude answer as the Messages API streams it: message_start, each block's start,
// deltas and stop (text in word-sized pieces, thinking with its signature, tool input as JSON
// fragments that only parse once joined), then message_delta with the final usage, message_stop.
import { randomBytes } from 'node:crypto';
import type { ScriptBlock, ScriptedReply } from './claude-script';

export interface SseMessage {
  event: string;
  data: Record<string, unknown>;
}

export function anthropicEvents(reply: ScriptedReply, model: string): SseMessage[] {
  const ev = (event: string, data: Record<string, unknown>): SseMessage => ({ event, data: { type: event, ...data } });
  const message = { id: `msg_01${randomBytes(12).toString('hex')}`, type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null };
  const toolUse = reply.blocks.some((b) => b.type === 'tool_use');
  return [
    ev('message_start', { message: { ...message, usage: { ...reply.usage, output_tokens: 1, service_tier: 'standard' } } }),
    ev('ping', {}),
    ...reply.blocks.flatMap((block, index) => blockEvents(block).map(([event, data]) => ev(event, { index, ...data }))),
    ev('message_delta', { delta: { stop_reason: toolUse ? 'tool_use' : 'end_turn', stop_sequence: null }, usage: reply.usage }),
    ev('message_stop', {}),
  ];
}

type Piece = [event: string, data: Record<string, unknown>];

/** What a block's content_block_start carries, and the deltas that fill it in. */
function blockParts(block: ScriptBlock): { opening: Record<string, unknown>; deltas: Record<string, unknown>[] } {
  if (block.type === 'thinking') {
    const signature = randomBytes(48).toString('base64');
    return {
      opening: { type: 'thinking', thinking: '', signature: '' },
      deltas: [...pieces(block.thinking).map((thinking) => ({ type: 'thinking_delta', thinking })), { type: 'signature_delta', signature }],
    };
  }
  if (block.type === 'text') return { opening: { type: 'text', text: '' }, deltas: pieces(block.text).map((text) => ({ type: 'text_delta', text })) };
  const json = JSON.stringify(block.input);
  const half = Math.ceil(json.length / 2);
  const fragments = ['', json.slice(0, half), json.slice(half)];
  return { opening: { type: 'tool_use', id: block.id, name: block.name, input: {} }, deltas: fragments.map((partial_json) => ({ type: 'input_json_delta', partial_json })) };
}

function blockEvents(block: ScriptBlock): Piece[] {
  const { opening, deltas } = blockParts(block);
  return [['content_block_start', { content_block: opening }], ...deltas.map((delta): Piece => ['content_block_delta', { delta }]), ['content_block_stop', {}]];
}

/** Text in pieces of a few words, each keeping its trailing space, as a model streams it. */
export function pieces(text: string, wordsPerPiece = 3): string[] {
  const words = text.match(/\S+\s*|\s+/g) ?? [text];
  const out: string[] = [];
  for (let i = 0; i < words.length; i += wordsPerPiece) out.push(words.slice(i, i + wordsPerPiece).join(''));
  return out;
}

/** One event in the event-stream format. */
export function sseText(m: SseMessage): string {
  return `event: ${m.event}\ndata: ${JSON.stringify(m.data)}\n\n`;
}
