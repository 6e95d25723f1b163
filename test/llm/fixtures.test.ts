// Every captured fixture (clients/* and greyproxy/*) is decoded,
// and the decoded calls match expectations that were worked out by reading the raw fixture files
// (each expectation file's `_source` says where every value was read from).
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { dissectExchange } from '../../src/llm';
import type { ContentBlock, LlmCall } from '../../src/llm/llm-call';
import { allModelFixtures, EXPECTED, loadSideRequests, readJson, sideRequestScenarios } from './fixture-loader';

interface ExpectedBlock {
  type: string;
  text?: string;
  textStart?: string;
  textLength?: number;
  signatureLength?: number;
  name?: string;
  callId?: string;
  arguments?: string;
  dataLength?: number;
}

interface ExpectedCall {
  api: string;
  provider: string;
  client: string;
  transport: string;
  model: string;
  side: string | null;
  sessionId?: string;
  sessionIdSource?: string;
  threadId?: string;
  turnId?: string;
  threadSource?: string;
  responseId?: string;
  previousResponseId?: string;
  inputMessages: number;
  inputRoles: string[];
  tools: number;
  output: ExpectedBlock[];
  stopReason?: string | null;
  usage: Record<string, number>;
  unknownRequestFields?: string[];
  errors: number;
}

interface Expectation {
  fixture: string;
  calls: ExpectedCall[];
  _source: Record<string, string>;
}

function expectationFor(name: string): Expectation {
  return readJson<Expectation>(join(EXPECTED, `${name.replaceAll('/', '__')}.json`));
}

function checkBlock(actual: ContentBlock | undefined, expected: ExpectedBlock, where: string): void {
  assert.ok(actual, `${where}: missing`);
  assert.equal(actual.type, expected.type, `${where}: type`);
  if (actual.type === 'text' || actual.type === 'thinking') {
    if (expected.text !== undefined) assert.equal(actual.text, expected.text, `${where}: text`);
    if (expected.textStart !== undefined) assert.ok(actual.text.startsWith(expected.textStart), `${where}: text start`);
    if (expected.textLength !== undefined) assert.equal(actual.text.length, expected.textLength, `${where}: text length`);
  }
  if (actual.type === 'thinking' && expected.signatureLength !== undefined) {
    assert.equal(actual.signature?.length ?? 0, expected.signatureLength, `${where}: signature length`);
  }
  if (actual.type === 'tool-call') {
    assert.equal(actual.name, expected.name, `${where}: tool name`);
    assert.equal(actual.callId, expected.callId, `${where}: call id`);
    assert.equal(actual.arguments, expected.arguments, `${where}: exact arguments`);
  }
  if (actual.type === 'redacted-thinking' && expected.dataLength !== undefined) {
    assert.equal(actual.data?.length, expected.dataLength, `${where}: data length`);
  }
}

function checkCall(call: LlmCall, e: ExpectedCall, where: string): void {
  assert.deepEqual(call.errors, [], `${where}: no errors expected`);
  assert.equal(call.api, e.api, `${where}: api`);
  assert.equal(call.provider, e.provider, `${where}: provider`);
  assert.equal(call.client, e.client, `${where}: client`);
  assert.equal(call.transport, e.transport, `${where}: transport`);
  assert.equal(call.model, e.model, `${where}: model`);
  assert.equal(call.side, e.side ?? undefined, `${where}: side`);
  assert.equal(call.identity.sessionId, e.sessionId, `${where}: session id`);
  assert.equal(call.identity.sessionIdSource, e.sessionIdSource, `${where}: session id source`);
  for (const key of ['threadId', 'turnId', 'threadSource', 'responseId', 'previousResponseId'] as const) {
    if (e[key] !== undefined) assert.equal(call.identity[key], e[key], `${where}: ${key}`);
  }
  assert.equal(call.input.length, e.inputMessages, `${where}: input messages`);
  assert.deepEqual(call.input.map((m) => m.role), e.inputRoles, `${where}: input roles`);
  assert.equal(call.tools.length, e.tools, `${where}: tools`);
  assert.equal(call.output.length, e.output.length, `${where}: output blocks ${JSON.stringify(call.output.map((b) => b.type))}`);
  e.output.forEach((block, i) => checkBlock(call.output[i], block, `${where} output[${i}]`));
  assert.equal(call.stopReason, e.stopReason ?? undefined, `${where}: stop reason`);
  assert.deepEqual(call.usage, e.usage, `${where}: usage`);
  if (e.unknownRequestFields) assert.deepEqual(call.unknown?.requestFields, e.unknownRequestFields, `${where}: unknown fields`);
}

describe('captured fixtures decode as read from the raw files', () => {
  const fixtures = allModelFixtures();

  test('every model-call fixture has an expectation, and every expectation a fixture', () => {
    const names = fixtures.map((f) => f.name.replaceAll('/', '__') + '.json').sort();
    assert.deepEqual(readdirSync(EXPECTED).sort(), names);
    assert.equal(fixtures.length, 33);
  });

  for (const fixture of fixtures) {
    test(fixture.name, () => {
      const expected = expectationFor(fixture.name);
      assert.ok(Object.keys(expected._source).length > 0, 'the expectation says where its values come from');
      const calls = dissectExchange(fixture.load());
      assert.equal(calls.length, expected.calls.length, 'number of calls');
      calls.forEach((call, i) => checkCall(call, expected.calls[i]!, `${fixture.name} call ${i}`));
    });
  }

  test('the non-model side traffic of every scenario (event logging, settings, plugins, models) yields no call', () => {
    const scenarios = sideRequestScenarios();
    assert.ok(scenarios.length >= 4);
    for (const scenario of scenarios) {
      for (const input of loadSideRequests(scenario)) {
        assert.deepEqual(dissectExchange(input), [], `${scenario}: ${input.exchange.method} ${input.exchange.url}`);
      }
    }
  });
});
