// The ancillary channel end to end (DESIGN decision 5, OP-10/OP-11, IRO §5.1.1), as the
// signalling layer uses it: choose the on-wire addresses of an outgoing MH packet, and learn
// the on-wire addresses of a received one — exactly per packet through SO_RCVMARK where the
// kernel has it, else from the latest record of the SA's SPI (fresh within a time window).
import type { AncInRecord } from '../datapath/abi.ts';

/** What the channel needs from the data path. */
export interface AncillaryPort {
  ancillarySlots(): number;
  ancillaryMark(slot: number): number;
  setAncillaryOut(slot: number, onWire: { src?: string; dst?: string }, ttlMs: number): void;
  ancillaryInFromMark(mark: number): AncInRecord | null;
  ancillaryInForSpi(proto: 'esp' | 'ah', spi: number): AncInRecord | null;
  /** whether the data path puts each incoming record's slot in the packet's mark (ancillaryInMark) */
  ancillaryInMarked(): boolean;
}

export interface OnWire {
  /** the on-wire source before remapping; "::" when it was not changed */
  src: string;
  dst: string;
  /** which SA carried it, when known */
  spi?: number;
  proto?: 'esp' | 'ah';
  /** true when matched through the packet's own mark, false for the per-SPI fallback */
  exact: boolean;
}

export const UNCHANGED: OnWire = { src: '::', dst: '::', exact: true };

export class AncillaryChannel {
  private next = 0;
  constructor(
    private readonly port: AncillaryPort,
    private readonly opts: { ttlMs: number; maxRecordAgeMs: number } = { ttlMs: 2000, maxRecordAgeMs: 2000 },
  ) {}

  /**
   * A mark for one outgoing packet with these on-wire addresses. Slots rotate, so a packet
   * still inside the stack (async crypto) keeps its slot until the TTL.
   */
  outgoingMark(onWire: { src?: string; dst?: string }): number {
    const n = this.port.ancillarySlots();
    if (n < 1) throw new Error('the ancillary mark mask leaves no slot');
    this.next = (this.next % n) + 1;
    this.port.setAncillaryOut(this.next, onWire, this.opts.ttlMs);
    return this.port.ancillaryMark(this.next);
  }

  /**
   * The on-wire addresses of a received MH packet. `mark` comes from SO_RCVMARK; `candidates`
   * are the inbound MH SAs that can carry traffic from that source to that destination.
   * No record at all means the packet was not remapped (e.g. it came through the HA tunnel).
   */
  incoming(mark: number | undefined, candidates: Array<{ proto: 'esp' | 'ah'; spi: number }>, nowNs = process.hrtime.bigint(), marksDelivered = false): OnWire {
    // Where the kernel delivers marks (SO_RCVMARK) and the data path writes them, a packet
    // without our slot was not remapped (e.g. it came through the HA tunnel): the per-SPI record
    // of another packet must not be used. With marks off in the data path, only the per-SPI
    // record is left (the documented fallback), whatever the socket can do.
    if (marksDelivered && this.port.ancillaryInMarked() && !this.port.ancillaryInFromMark(mark ?? 0)) return UNCHANGED;
    if (mark !== undefined) {
      const r = this.port.ancillaryInFromMark(mark);
      if (r && candidates.some((c) => c.spi === r.spi && (c.proto === 'ah') === (r.proto === 51))) return toOnWire(r, true);
      if (r && !candidates.length) return toOnWire(r, true);
    }
    let best: AncInRecord | null = null;
    for (const c of candidates) {
      const r = this.port.ancillaryInForSpi(c.proto, c.spi);
      if (r && (!best || r.tsNs > best.tsNs)) best = r;
    }
    const maxAge = BigInt(this.opts.maxRecordAgeMs) * 1_000_000n;
    if (best && nowNs - best.tsNs <= maxAge) return toOnWire(best, false);
    return UNCHANGED;
  }
}

function toOnWire(r: AncInRecord, exact: boolean): OnWire {
  return { src: r.origSrc, dst: r.origDst, spi: r.spi, proto: r.proto === 51 ? 'ah' : 'esp', exact };
}
