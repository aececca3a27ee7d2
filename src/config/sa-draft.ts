// An SA after its addresses are known but before its keys are loaded: the common form of the
// SAs written in ipsec.sas and of those a [HAIPSEC] profile generates.
import type { z } from 'zod';
import type { SaSelector } from '../ipsec/model.ts';
import type { DocPath } from './issues.ts';
import type { aeadBlock, authBlock, encBlock } from './schema-ipsec.ts';

export type AuthBlock = z.output<typeof authBlock>;
export type EncBlock = z.output<typeof encBlock>;
export type AeadBlock = z.output<typeof aeadBlock>;

export interface SaDraft {
  name: string;
  proto: 'esp' | 'ah';
  spi: number;
  src: string;
  dst: string;
  mode: 'transport' | 'tunnel';
  cls: 'mh' | 'data' | 'mpd';
  selector: SaSelector;
  auth?: AuthBlock | undefined;
  enc?: EncBlock | undefined;
  aead?: AeadBlock | undefined;
  lifetime?: { soft?: number | undefined; hard?: number | undefined } | undefined;
  reqid?: number | undefined;
  origin: DocPath;
}

export const MH = 135;
export const ICMPV6 = 58;

/** The class a selector protocol implies (DIGEST OP-16): MH -> mh, ICMPv6 -> mpd, else data. */
export function classOfProto(proto: number): 'mh' | 'data' | 'mpd' {
  return proto === MH ? 'mh' : proto === ICMPV6 ? 'mpd' : 'data';
}
