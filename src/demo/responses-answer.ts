// A scripted Responses answer as the server sends it, one JSON event per WebSocket frame:
// response.created and in_progress, each output item added, streamed (reasoning summary, function
// call arguments, output text) and done, then response.completed with the whole output and usage.
import { randomBytes } from 'node:crypto';
import { pieces } from './anthropic-answer';
import type { OutputItem, ResponsesReply } from './codex-script';

export type ResponsesEvent = Record<string, unknown> & { type: string };

export function responsesEvents(reply: ResponsesReply, model: string): ResponsesEvent[] {
  const base = { id: `resp_${randomBytes(12).toString('hex')}`, object: 'response', created_at: Math.floor(Date.now() / 1000), model };
  const events: ResponsesEvent[] = [
    { type: 'response.created', response: { ...base, status: 'in_progress', output: [] } },
    { type: 'response.in_progress', response: { ...base, status: 'in_progress', output: [] } },
    ...reply.output.flatMap((item, index) => itemEvents(item, index)),
    { type: 'response.completed', response: { ...base, status: 'completed', output: reply.output, usage: reply.usage } },
  ];
  return events.map((e, sequence_number) => ({ ...e, sequence_number }));
}

function itemEvents(item: OutputItem, output_index: number): ResponsesEvent[] {
  const at = { item_id: item.id, output_index };
  const added = (shown: Record<string, unknown>): ResponsesEvent => ({ type: 'response.output_item.added', output_index, item: { ...item, ...shown, status: 'in_progress' } });
  const done: ResponsesEvent = { type: 'response.output_item.done', output_index, item };
  if (item.type === 'function_call') {
    const args = String(item.arguments);
    return [added({ arguments: '' }),
      ...pieces(args, 1).map((delta) => ({ type: 'response.function_call_arguments.delta', ...at, delta })),
      { type: 'response.function_call_arguments.done', ...at, arguments: args }, done];
  }
  if (item.type === 'reasoning') {
    const text = String((item.summary as { text: string }[])[0]?.text ?? '');
    const part = { ...at, summary_index: 0 };
    return [added({ summary: [] }),
      { type: 'response.reasoning_summary_part.added', ...part, part: { type: 'summary_text', text: '' } },
      ...pieces(text).map((delta) => ({ type: 'response.reasoning_summary_text.delta', ...part, delta })),
      { type: 'response.reasoning_summary_text.done', ...part, text },
      { type: 'response.reasoning_summary_part.done', ...part, part: { type: 'summary_text', text } }, done];
  }
  const text = String((item.content as { text: string }[])[0]?.text ?? '');
  const where = { ...at, content_index: 0 };
  const outputText = (shown: string) => ({ type: 'output_text', text: shown, annotations: [] });
  return [
    added({ content: [] }),
    { type: 'response.content_part.added', ...where, part: outputText('') },
    ...pieces(text).map((delta) => ({ type: 'response.output_text.delta', ...where, delta })),
    { type: 'response.output_text.done', ...where, text },
    { type: 'response.content_part.done', ...where, part: outputText(text) },
    done,
  ];
}
