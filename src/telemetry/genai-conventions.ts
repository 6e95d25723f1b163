// The OpenTelemetry GenAI semantic conventions this export follows: the names of the latest
// experimental version, as `@opentelemetry/semantic-conventions` 1.45.0 publishes them under
// `/incubating`. OpenTelemetry asks users of incubating names to copy them rather than import
// the entry point (it may change in any minor version); test/telemetry/genai-conventions.test.ts
// checks each copy against the package (docs/decisions.md, decision 72).

export const GEN_AI = {
  operationName: 'gen_ai.operation.name',
  providerName: 'gen_ai.provider.name',
  /** Deprecated in favour of `gen_ai.provider.name`; still sent unless the user opts in to the latest conventions. */
  system: 'gen_ai.system',
  conversationId: 'gen_ai.conversation.id',
  agentId: 'gen_ai.agent.id',
  agentName: 'gen_ai.agent.name',
  requestModel: 'gen_ai.request.model',
  requestMaxTokens: 'gen_ai.request.max_tokens',
  requestTemperature: 'gen_ai.request.temperature',
  requestTopP: 'gen_ai.request.top_p',
  requestTopK: 'gen_ai.request.top_k',
  requestStream: 'gen_ai.request.stream',
  responseModel: 'gen_ai.response.model',
  responseId: 'gen_ai.response.id',
  responseFinishReasons: 'gen_ai.response.finish_reasons',
  responseTimeToFirstChunk: 'gen_ai.response.time_to_first_chunk',
  usageInputTokens: 'gen_ai.usage.input_tokens',
  usageOutputTokens: 'gen_ai.usage.output_tokens',
  usageCacheReadInputTokens: 'gen_ai.usage.cache_read.input_tokens',
  usageCacheCreationInputTokens: 'gen_ai.usage.cache_creation.input_tokens',
  usageReasoningOutputTokens: 'gen_ai.usage.reasoning.output_tokens',
  toolName: 'gen_ai.tool.name',
  toolType: 'gen_ai.tool.type',
  toolCallId: 'gen_ai.tool.call.id',
  toolCallArguments: 'gen_ai.tool.call.arguments',
  toolCallResult: 'gen_ai.tool.call.result',
  toolDefinitions: 'gen_ai.tool.definitions',
  inputMessages: 'gen_ai.input.messages',
  outputMessages: 'gen_ai.output.messages',
  systemInstructions: 'gen_ai.system_instructions',
  tokenType: 'gen_ai.token.type',
} as const;

export const OPERATION = {
  chat: 'chat',
  generateContent: 'generate_content',
  invokeAgent: 'invoke_agent',
  executeTool: 'execute_tool',
} as const;

export const METRIC = {
  tokenUsage: 'gen_ai.client.token.usage',
  operationDuration: 'gen_ai.client.operation.duration',
  timeToFirstChunk: 'gen_ai.client.operation.time_to_first_chunk',
} as const;

export const ERROR_TYPE = 'error.type';
export const SERVER_ADDRESS = 'server.address';

/**
 * `OTEL_SEMCONV_STABILITY_OPT_IN` (a comma-separated list): `gen_ai_latest_experimental` asks for the
 * latest conventions only. Without it, the deprecated names that backends built on 1.36 read
 * (`gen_ai.system`) are sent beside the new ones, as the conventions' transition plan allows.
 */
export function latestConventionsOnly(env: NodeJS.ProcessEnv = process.env): boolean {
  return (env.OTEL_SEMCONV_STABILITY_OPT_IN ?? '').split(',').map((s) => s.trim()).includes('gen_ai_latest_experimental');
}

/** `gen_ai.provider.name` values for our providers (the conventions' well-known list). */
export function providerName(provider: string): string {
  switch (provider) {
    case 'google':
      return 'gcp.gemini';
    case 'other':
      return '_OTHER';
    default:
      return provider;
  }
}
