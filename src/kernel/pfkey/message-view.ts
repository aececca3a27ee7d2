// The object the decoder returns: a plain PfkeyMessage whose JSON and inspect forms go through
// the redacting formatter, so logging a decoded message whole cannot print key bytes.
import { inspect } from 'node:util';
import { formatPfkeyMessage, pfkeyLoggable } from './format.ts';
import type { PfkeyExtensions, PfkeyMessage, UnknownExtension } from './types.ts';

export class PfkeyMessageView implements PfkeyMessage {
  ext: PfkeyExtensions = {};
  order: number[] = [];
  unknown?: UnknownExtension[];
  removedKeys?: { auth?: number; encrypt?: number };

  constructor(
    public version: number,
    public type: number,
    public errno: number,
    public satype: number,
    public reserved: number,
    public seq: number,
    public pid: number,
    public length: number,
  ) {}

  toJSON(): Record<string, unknown> {
    return pfkeyLoggable(this);
  }

  toString(): string {
    return formatPfkeyMessage(this);
  }

  [inspect.custom](): string {
    return `PfkeyMessage<${formatPfkeyMessage(this)}>`;
  }
}
