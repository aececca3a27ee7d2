// Single static ESP transport SAs and policies pushed with iproute2 (`ip xfrm`), for tests that
// add, rekey, expire and delete SAs one at a time (ipsec-static.ts installs whole pairs). The
// same fixed test keys on every SA, made for these namespaces only; a failing command's message
// is redacted by the topology kit.
import type { Host } from '../topology/index.ts';
import type { SaInfo } from '../../../src/ipsec/model.ts';

const AUTH_KEY = '0x' + '3a'.repeat(32);
const ENC_KEY = '0x' + 'c5'.repeat(16);

export interface StaticSa {
  src: string;
  dst: string;
  spi: number;
  reqid: number;
  /** the selector's upper-layer protocol ('135' for MH, '17' for UDP); default any */
  upper?: string;
}

export const hex = (spi: number): string => `0x${spi.toString(16)}`;

function saArgs(verb: 'add' | 'update', s: StaticSa, extra: string[]): string[] {
  return ['xfrm', 'state', verb, 'src', s.src, 'dst', s.dst, 'proto', 'esp', 'spi', hex(s.spi), 'reqid', String(s.reqid), 'mode', 'transport',
    'auth-trunc', 'hmac(sha256)', AUTH_KEY, '128', 'enc', 'cbc(aes)', ENC_KEY,
    'sel', 'src', `${s.src}/128`, 'dst', `${s.dst}/128`, ...(s.upper ? ['proto', s.upper] : []), ...extra];
}

/** `ip xfrm state add`; `extra` e.g. ['limit', 'time-hard', '3']. */
export function addSa(host: Host, s: StaticSa, extra: string[] = []): void {
  host.ip(...saArgs('add', s, extra));
}

/** `ip xfrm state update` of a live SA (e.g. to give it a lifetime). */
export function updateSa(host: Host, s: StaticSa, extra: string[] = []): void {
  host.ip(...saArgs('update', s, extra));
}

export function deleteSa(host: Host, s: StaticSa): void {
  host.ip('xfrm', 'state', 'delete', 'src', s.src, 'dst', s.dst, 'proto', 'esp', 'spi', hex(s.spi));
}

/**
 * `ip xfrm policy add|update` for src -> dst. reqid 0 leaves the template's reqid open (any SA
 * between those addresses): inbound policies then accept the old and the new SA during a rekey.
 */
export function policy(host: Host, verb: 'add' | 'update', src: string, dst: string, dir: 'in' | 'out', reqid: number, upper?: string, priority = 500): void {
  host.ip('xfrm', 'policy', verb, 'src', `${src}/128`, 'dst', `${dst}/128`, ...(upper ? ['proto', upper] : []), 'dir', dir, 'priority', String(priority),
    'tmpl', 'src', src, 'dst', dst, 'proto', 'esp', ...(reqid ? ['reqid', String(reqid)] : []), 'mode', 'transport');
}

/** The SA as the kernel will report it, for IroEngine.expectSas (rules before the SA exists). */
export function expectedSaInfo(s: StaticSa): SaInfo {
  return {
    key: { proto: 'esp', spi: s.spi, daddr: s.dst },
    saddr: s.src,
    mode: 'transport',
    reqid: s.reqid,
    selector: { src: s.src, dst: s.dst, srcLen: 128, dstLen: 128, proto: s.upper ? Number(s.upper) : 0 },
    state: 'mature',
    sources: ['config'],
  };
}

/** Both SAs of a pair between a (MN) HoA and a peer: out = hoa -> peer, in = peer -> hoa. */
export function saPair(hoa: string, peer: string, spiOut: number, spiIn: number, reqid: number, upper?: string): { out: StaticSa; in: StaticSa } {
  const u = upper ? { upper } : {};
  return { out: { src: hoa, dst: peer, spi: spiOut, reqid, ...u }, in: { src: peer, dst: hoa, spi: spiIn, reqid, ...u } };
}
