// Promiscuous PF_KEY sockets get some messages twice (af_key's pfkey_broadcast queues a
// promiscuous copy and then the regular one, back to back), and FLUSH is answered both by a
// unicast reply and by the broadcast. The copies are adjacent in the socket queue, so a short
// window (the last 4 messages, 1 s) drops them without swallowing a legitimately repeated
// notification later (e.g. a MIGRATE back and forth). Keys are already wiped; a 32-bit hash
// keeps the byte comparison off the common path.
interface Entry {
  data: Buffer;
  hash: number;
  at: number;
}

/** FNV-1a over 32-bit little-endian words (PF_KEY messages are multiples of 8 octets). */
function hash32(b: Buffer): number {
  let h = 0x811c9dc5 ^ b.length;
  const n = b.length & ~3;
  for (let i = 0; i < n; i += 4) h = Math.imul(h ^ (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)), 0x01000193);
  for (let i = n; i < b.length; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
  return h >>> 0;
}

export class RecentMessages {
  private readonly ring: Entry[] = [];
  private next = 0;

  constructor(
    private readonly size = 4,
    private readonly windowMs = 1000,
  ) {}

  /** true if an identical message was seen within the window; otherwise remembers it. */
  seen(data: Buffer, now: number): boolean {
    const hash = hash32(data);
    for (let i = 0; i < this.ring.length; i++) {
      const r = this.ring[i]!;
      if (r.hash === hash && now - r.at <= this.windowMs && r.data.length === data.length && r.data.equals(data)) return true;
    }
    const entry = { data, hash, at: now };
    if (this.ring.length < this.size) this.ring.push(entry);
    else this.ring[this.next] = entry;
    this.next = (this.next + 1) % this.size;
    return false;
  }

  clear(): void {
    this.ring.length = 0;
    this.next = 0;
  }
}
