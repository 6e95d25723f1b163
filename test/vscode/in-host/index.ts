// Entry point of the in-host suite: VS Code's test runner loads this file in the extension host
// (the extensionTestsPath of the development payload) and awaits run(). in-host.test.ts bundles it
// with esbuild into a temp folder, with `mocha` resolved to test/vscode/node_modules/mocha.
import { captureTests } from './capture';
import { conversationTests } from './conversation';
import { treeTests } from './tree';

interface MochaTest {
  title: string;
}
interface MochaSuite {
  addTest(test: MochaTest): MochaSuite;
}
interface MochaRunner {
  on(event: 'pass' | 'fail', fn: (test: MochaTest, err?: Error) => void): void;
}
interface MochaInstance {
  suite: MochaSuite;
  run(done: (failures: number) => void): MochaRunner;
}
interface MochaStatic {
  new (options: { ui: string; timeout: number; color: boolean; reporter: string }): MochaInstance;
  Suite: { create(parent: MochaSuite, title: string): MochaSuite };
  Test: new (title: string, fn: () => Promise<void>) => MochaTest;
}

export function run(): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const Mocha = require('mocha') as MochaStatic;
  const mocha = new Mocha({ ui: 'bdd', timeout: 120_000, color: false, reporter: 'spec' });
  const suite = Mocha.Suite.create(mocha.suite, 'LLM Capture inside the extension host');
  for (const [title, fn] of [...captureTests(), ...treeTests(), ...conversationTests()]) suite.addTest(new Mocha.Test(title, fn));
  return new Promise((resolve, reject) => {
    const runner = mocha.run((failures) => (failures > 0 ? reject(new Error(`${failures} in-host test(s) failed`)) : resolve()));
    runner.on('pass', (t) => console.log(`IN-HOST PASS: ${t.title}`));
    runner.on('fail', (t, err) => console.log(`IN-HOST FAIL: ${t.title}: ${err?.stack ?? err}`));
  });
}
