// The "LLM Capture" log: a LogOutputChannel, so the user picks the level in the Output view.
import * as vscode from 'vscode';
import { Disposable } from './lifecycle';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export class Logger extends Disposable {
  readonly channel: vscode.LogOutputChannel;

  constructor() {
    super();
    this.channel = this.register(vscode.window.createOutputChannel('LLM Capture', { log: true }));
  }

  log(level: LogLevel, message: string): void {
    this.channel[level](message);
  }

  debug(message: string): void { this.channel.debug(message); }
  info(message: string): void { this.channel.info(message); }
  warn(message: string): void { this.channel.warn(message); }
  error(message: string): void { this.channel.error(message); }

  show(): void {
    this.channel.show(true);
  }
}
