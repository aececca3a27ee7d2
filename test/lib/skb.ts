// struct __sk_buff as a BPF_PROG_TEST_RUN context: only the fields the kernel lets a test set.
export const SKB_CTX_SIZE = 192;
const OFF_MARK = 8;
const OFF_PRIORITY = 32;

export function skbCtx(opts: { mark?: number; priority?: number } = {}): Buffer {
  const b = Buffer.alloc(SKB_CTX_SIZE);
  b.writeUInt32LE((opts.mark ?? 0) >>> 0, OFF_MARK);
  b.writeUInt32LE((opts.priority ?? 0) >>> 0, OFF_PRIORITY);
  return b;
}

export function skbMark(ctx: Buffer): number {
  return ctx.readUInt32LE(OFF_MARK);
}
