// The messages an MN emits, built in one place so their flags and options follow IRO §3.3/§7
// (no HAO, no RH2: the CoA travels in the AltCoA option and as the ancillary on-wire source).
import type {
  AddressOwnershipTestOffer,
  AddressOwnershipTestResponse,
  BindingUpdate,
} from '../codec/index.ts';
import { alternateCoaOption } from '../address.ts';
import type { Address } from '../types.ts';

export interface BuParams {
  sequence: number;
  home: boolean;
  keyManagement: boolean;
  /** Seconds; 0 deregisters. */
  lifetime: number;
  /** Announced in the AltCoA option; null from the home link (the source is then the HoA). */
  coa: Address | null;
}

/** A (home or correspondent) BU: A always set, H for the home registration (RFC 6275 §11.7). */
export function bindingUpdate(p: BuParams): BindingUpdate {
  return {
    kind: 'bu',
    sequence: p.sequence,
    ack: true,
    home: p.home,
    linkLocal: false,
    keyManagement: p.home && p.keyManagement,
    otherFlags: 0,
    lifetime: p.lifetime,
    options: p.coa === null ? [] : [alternateCoaOption(p.coa)],
  };
}

/** The AOTR answering an AOTC: the very nonce it carried (IRO §4.4.3). */
export function aotr(nonce: Buffer): AddressOwnershipTestResponse {
  return { kind: 'aotr', nonce: Buffer.from(nonce), options: [] };
}

export function aoto(): AddressOwnershipTestOffer {
  return { kind: 'aoto' };
}
