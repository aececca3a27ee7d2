// One SA/SP model whatever the source (XFRM netlink, PF_KEY, or our own static config).
// Addresses are canonical IPv6 text; key material never appears here (the pusher holds keys
// only while pushing).
export type IpsecProto = 'esp' | 'ah';
export type SaMode = 'transport' | 'tunnel' | 'beet' | 'other';
export type SaSource = 'xfrm' | 'pfkey' | 'config';

/** The kernel's identity of an SA. */
export interface SaKey {
  proto: IpsecProto;
  spi: number;
  daddr: string;
}

export interface SaSelector {
  src: string;
  dst: string;
  srcLen: number;
  dstLen: number;
  /** upper-layer protocol; 0 = any */
  proto: number;
  /** MH type (proto 135) or ICMPv6 type (proto 58), when the selector narrows it */
  type?: number;
}

export interface SaInfo {
  key: SaKey;
  saddr: string;
  mode: SaMode;
  reqid: number;
  /** XFRM selector; undefined for PF_KEY-learned SAs (Linux PF_KEY carries none, §2.1.5 item 4) */
  selector?: SaSelector;
  /** XFRMA_SA_DIR when the kernel reports it (>= 6.10) */
  dir?: 'in' | 'out';
  mark?: { value: number; mask: number };
  ifId?: number;
  state: 'larval' | 'mature' | 'dying' | 'dead';
  sources: SaSource[];
}

export interface PolicyTemplate {
  proto: IpsecProto;
  reqid: number;
  mode: SaMode;
  saddr?: string;
  daddr?: string;
}

export interface PolicyInfo {
  dir: 'in' | 'out' | 'fwd';
  selector: SaSelector;
  priority: number;
  index: number;
  action: 'allow' | 'block';
  templates: PolicyTemplate[];
  mark?: { value: number; mask: number };
  ifId?: number;
}

export function saKeyId(k: SaKey): string {
  return `${k.proto}/${k.spi >>> 0}/${k.daddr}`;
}

export function describeSa(sa: SaInfo): string {
  return `${sa.key.proto} spi 0x${(sa.key.spi >>> 0).toString(16)} ${sa.saddr} -> ${sa.key.daddr} (${sa.mode}, reqid ${sa.reqid}${sa.selector ? `, sel proto ${sa.selector.proto}` : ''})`;
}

export type SaEvent =
  | { type: 'sa-added'; sa: SaInfo }
  | { type: 'sa-updated'; sa: SaInfo; previous: SaInfo }
  | { type: 'sa-deleted'; sa: SaInfo }
  | { type: 'sa-expired'; sa: SaInfo; hard: boolean }
  | { type: 'spi-allocated'; key: SaKey; saddr: string }
  | { type: 'acquire'; selector: SaSelector; templates: PolicyTemplate[] }
  | { type: 'migrate'; selector: SaSelector; from: { saddr: string; daddr: string }; to: { saddr: string; daddr: string } }
  | { type: 'policy-added' | 'policy-updated' | 'policy-deleted'; policy: PolicyInfo }
  | { type: 'resync-needed'; source: SaSource; reason: string };
