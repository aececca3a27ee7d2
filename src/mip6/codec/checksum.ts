// MH checksum (RFC 6275 §6.1.1): the Internet checksum over the IPv6 pseudo-header with Next
// Header 135, then the MH. The addresses are the ones the IPsec/MIPv6 layers see (the HoA, not the
// remapped on-wire CoA: DIGEST §1.2.5), so the caller passes them explicitly.
import { ipv6UpperLayerChecksum, ipv6UpperLayerChecksumOk } from '../../common/checksum.ts';
import { IPPROTO_MH, MH_CHECKSUM_OFFSET } from './constants.ts';

export interface MhAddresses {
  src: Uint8Array;
  dst: Uint8Array;
}

/** The checksum `mh` should carry (its own Checksum field is treated as zero). */
export function mhChecksum(mh: Uint8Array, { src, dst }: MhAddresses): number {
  const copy = Buffer.from(mh);
  copy.writeUInt16BE(0, MH_CHECKSUM_OFFSET);
  return ipv6UpperLayerChecksum(src, dst, IPPROTO_MH, copy);
}

/** Compute and store the checksum in place; returns `mh`. */
export function writeMhChecksum<T extends Uint8Array>(mh: T, addresses: MhAddresses): T {
  const sum = mhChecksum(mh, addresses);
  mh[MH_CHECKSUM_OFFSET] = sum >> 8;
  mh[MH_CHECKSUM_OFFSET + 1] = sum & 0xff;
  return mh;
}

/** True when the Checksum field of a received MH is right for these addresses. */
export function verifyMhChecksum(mh: Uint8Array, { src, dst }: MhAddresses): boolean {
  return ipv6UpperLayerChecksumOk(src, dst, IPPROTO_MH, mh);
}
