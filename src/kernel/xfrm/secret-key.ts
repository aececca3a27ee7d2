// Key material held only to be pushed to the kernel. The bytes live in a private field:
// JSON.stringify, util.inspect, pino and template strings all see a redacted stand-in, so a
// key cannot reach a log, an error message or a file by accident.
import { inspect } from 'node:util';

export class SecretKey {
  readonly #bytes: Buffer;

  private constructor(bytes: Buffer) {
    this.#bytes = bytes;
  }

  /** Takes a copy; the caller may wipe its buffer afterwards. */
  static from(bytes: Uint8Array): SecretKey {
    return new SecretKey(Buffer.from(bytes));
  }

  /** From hex text ("0x..." or bare), as in iproute2 and config files. */
  static fromHex(hex: string): SecretKey {
    const h = hex.startsWith('0x') || hex.startsWith('0X') ? hex.slice(2) : hex;
    if (h.length % 2 || !/^[0-9a-fA-F]*$/.test(h)) throw new Error('key: not an even-length hex string (value not shown)');
    return new SecretKey(Buffer.from(h, 'hex'));
  }

  get length(): number {
    return this.#bytes.length;
  }

  get bits(): number {
    return this.#bytes.length * 8;
  }

  /** The raw bytes, for the encoder only. Never log what this returns. */
  expose(): Buffer {
    return this.#bytes;
  }

  /** Overwrite the bytes once they are no longer needed. */
  wipe(): void {
    this.#bytes.fill(0);
  }

  equals(other: SecretKey): boolean {
    return this.#bytes.equals(other.#bytes);
  }

  toJSON(): { redacted: true; bits: number } {
    return { redacted: true, bits: this.bits };
  }

  toString(): string {
    return `[key redacted, ${this.bits} bits]`;
  }

  [inspect.custom](): string {
    return this.toString();
  }
}
