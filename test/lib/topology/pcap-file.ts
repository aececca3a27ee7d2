// Only the framing of a pcap file (global header + record headers), to check that every packet
// tcpdump says it captured is in the file before the file is decoded.
import { readFileSync } from 'node:fs';

export interface PcapFraming {
  records: number;
  linkType: number;
  /** bytes after the last complete record (a partial write) */
  trailing: number;
}

export function pcapFraming(file: string): PcapFraming {
  const b = readFileSync(file);
  if (b.length < 24) throw new Error(`${file}: ${b.length} bytes, shorter than a pcap header`);
  const magicLE = b.readUInt32LE(0);
  let le: boolean;
  if (magicLE === 0xa1b2c3d4 || magicLE === 0xa1b23c4d) le = true;
  else if (b.readUInt32BE(0) === 0xa1b2c3d4 || b.readUInt32BE(0) === 0xa1b23c4d) le = false;
  else throw new Error(`${file}: not a pcap file (magic 0x${magicLE.toString(16)})`);
  const u32 = (o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  let off = 24;
  let records = 0;
  while (off + 16 <= b.length) {
    const incl = u32(off + 8);
    if (off + 16 + incl > b.length) break;
    off += 16 + incl;
    records++;
  }
  return { records, linkType: u32(20), trailing: b.length - off };
}
