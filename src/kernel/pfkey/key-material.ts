// IPsec key bytes behind an explicit accessor. Everything that turns an object into text
// (JSON.stringify, util.inspect/console.log, template strings, String()) sees only the key
// length, so a decoded PF_KEY message can be logged whole without leaking keys (DESIGN 3).
import { inspect } from 'node:util';

const REDACTED_TAG = 'redacted';

export class KeyMaterial {
  /** key length in bits as carried in sadb_key_bits (may be less than 8 * bytes) */
  readonly bits: number;
  #bytes: Buffer;

  /** Copies `bytes`; the caller's buffer can be wiped afterwards. */
  constructor(bytes: Uint8Array, bits = bytes.length * 8) {
    if (!Number.isInteger(bits) || bits < 0 || bits > 0xffff) throw new Error(`key length ${bits} bits is not a u16`);
    const need = Math.ceil(bits / 8);
    if (bytes.length < need) throw new Error(`key of ${bits} bits needs ${need} octets, got ${bytes.length}`);
    this.bits = bits;
    // Own, unpooled, zero-initialised memory: wipe() must not touch anyone else's bytes.
    this.#bytes = Buffer.alloc(need);
    this.#bytes.set(bytes.subarray(0, need));
  }

  static fromHex(hex: string, bits?: number): KeyMaterial {
    const clean = hex.replace(/^0x/i, '');
    if (!/^(?:[0-9a-f]{2})*$/i.test(clean)) throw new Error('key is not an even-length hex string');
    const b = Buffer.from(clean, 'hex');
    try {
      return new KeyMaterial(b, bits ?? b.length * 8);
    } finally {
      b.fill(0);
    }
  }

  get length(): number {
    return this.#bytes.length;
  }

  /** The key bytes (a live view: do not keep it, do not log it). */
  reveal(): Buffer {
    return this.#bytes;
  }

  /** Write the key bytes into `target` at `offset` (for encoders); returns octets written. */
  copyTo(target: Buffer, offset: number): number {
    return this.#bytes.copy(target, offset);
  }

  /** Zero the bytes once the key has been pushed. */
  wipe(): void {
    this.#bytes.fill(0);
  }

  equals(other: KeyMaterial): boolean {
    return this.bits === other.bits && this.#bytes.equals(other.#bytes);
  }

  toString(): string {
    return `[key ${this.bits} bits ${REDACTED_TAG}]`;
  }

  toJSON(): { bits: number; key: string } {
    return { bits: this.bits, key: REDACTED_TAG };
  }

  [inspect.custom](): string {
    return this.toString();
  }

  [Symbol.toPrimitive](): string {
    return this.toString();
  }
}

export function isKeyMaterial(v: unknown): v is KeyMaterial {
  return v instanceof KeyMaterial;
}
