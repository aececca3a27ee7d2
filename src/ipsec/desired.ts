// The desired IPsec state iro-ctl pushes (static keying, HA-IPsec SA sets): what the user
// configured, with keys as SecretKey objects that are held only until pushed.
import type { SecretKey } from '../kernel/xfrm/secret-key.ts';
import type { IpsecProto, PolicyTemplate, SaSelector } from './model.ts';

export interface PushSa {
  proto: IpsecProto;
  spi: number;
  saddr: string;
  daddr: string;
  mode: 'transport' | 'tunnel';
  reqid: number;
  selector?: SaSelector;
  auth?: { name: string; key: SecretKey; truncBits?: number };
  crypt?: { name: string; key: SecretKey };
  aead?: { name: string; key: SecretKey; icvBits: number };
  lifetime?: { softSeconds?: number; hardSeconds?: number };
}

export interface PushPolicy {
  dir: 'in' | 'out' | 'fwd';
  selector: SaSelector;
  priority: number;
  templates: PolicyTemplate[];
}

export interface DesiredIpsec {
  sas: PushSa[];
  policies: PushPolicy[];
}

/** What iro-ctl owns in the kernel (OP-47): SAs and policies whose reqid is in this range. */
export interface Ownership {
  reqidMin: number;
  reqidMax: number;
}

export const DEFAULT_OWNERSHIP: Ownership = { reqidMin: 0x1ac00000, reqidMax: 0x1ac0ffff };

export function ownsReqid(o: Ownership, reqid: number): boolean {
  return reqid >= o.reqidMin && reqid <= o.reqidMax;
}

export function describePushSa(s: Pick<PushSa, 'proto' | 'spi' | 'saddr' | 'daddr'>): string {
  return `${s.proto} SA spi 0x${(s.spi >>> 0).toString(16)} ${s.saddr} -> ${s.daddr}`;
}

export function describePushPolicy(p: Pick<PushPolicy, 'dir' | 'selector'>): string {
  const s = p.selector;
  return `policy ${p.dir} ${s.src}/${s.srcLen} -> ${s.dst}/${s.dstLen}${s.proto ? ` proto ${s.proto}${s.type !== undefined ? ` type ${s.type}` : ''}` : ''}`;
}
