// Checks of the iro and kernel sections: MH type codes (OP-1/OP-2, with the codec's own rules
// and its IANA collision warnings), the ancillary mark mask (OP-10), the owned reqid range (OP-47).
import { ianaMhTypeCollisions, makeMhCodecConfig } from '../mip6/codec/config.ts';
import type { Problems } from './issues.ts';
import type { NodeConfig } from './types.ts';

function contiguous(mask: number): boolean {
  if (mask === 0) return false;
  let v = mask >>> 0;
  while ((v & 1) === 0) v >>>= 1;
  return (v & (v + 1)) === 0;
}

export function checkIro(c: NodeConfig, p: Problems): void {
  const iro = c.iro;
  try {
    const codec = makeMhCodecConfig({ mhType: iro.mhTypes, nonceOptType: iro.nonceOptionType });
    for (const w of ianaMhTypeCollisions(codec)) {
      const field = /^mhType\.(\w+)/.exec(w)?.[1];
      p.warn(field ? ['iro', 'mhTypes', field] : ['iro', 'mhTypes'], `${w.replace(/^mhType\./, '')}: a node that implements it would misread these messages (DIGEST OP-1)`);
    }
  } catch (e) {
    const msg = (e as Error).message.replace(/^MH codec config: /, '');
    const field = /^mhType\.(\w+)/.exec(msg)?.[1];
    p.error(field ? ['iro', 'mhTypes', field] : /nonceOptType/.test(msg) ? ['iro', 'nonceOptionType'] : ['iro', 'mhTypes'], msg);
  }
  const mask = iro.markMask >>> 0;
  if (!contiguous(mask)) {
    p.error(['iro', 'markMask'], `expected one contiguous run of bits that nothing else on this host uses in skb->mark (DIGEST OP-10), found 0x${mask.toString(16).padStart(8, '0')}`);
  }
  const { reqidBase, reqidCount } = iro.ownership;
  if (reqidBase === 0) p.error(['iro', 'ownership', 'reqidBase'], 'expected a non-zero base: reqid 0 means "any SA" in a policy template');
  if (reqidBase + reqidCount - 1 > 0xffffffff) {
    p.error(['iro', 'ownership', 'reqidCount'], `the range 0x${reqidBase.toString(16)} + ${reqidCount} goes past 0xffffffff (reqids are 32 bits)`);
  }
  if (c.kernel.pfkey === 'off') {
    if (c.kernel.pfkeyPromiscuous) p.error(['kernel', 'pfkeyPromiscuous'], 'promiscuous PF_KEY (DIGEST OP-18 b) needs PF_KEY, but kernel.pfkey is off');
  }
}
