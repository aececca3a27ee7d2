// Shared by engine.bench.ts and signalling.bench.ts (not a bench module itself): realistic SA
// tables for an MN with many correspondents and an HA with many MNs, the encoded form of a rule
// set (to count what changed independently of the engine), a map-operation counter around the
// real rule map, and percentiles.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { canonicalIPv6 } from '../../src/common/ipv6.ts';
import { writeEntryKey, writeEntryValue, type RuleEntry } from '../../src/datapath/rules.ts';
import type { Datapath } from '../../src/datapath/datapath.ts';
import type { SaInfo } from '../../src/ipsec/model.ts';

export const MN_HOA = '2001:db8:1::100';
export const HA_ADDR = '2001:db8:1::1';

/** Distinct addresses for up to 2^32 correspondents (CNs) or mobile nodes (HoAs). */
export function cnAddr(i: number): string {
  return canonicalIPv6(`2001:db8:${(0x1000 + (i >>> 16)).toString(16)}:${(i & 0xffff).toString(16)}::1`);
}

export function hoaAddr(i: number): string {
  return canonicalIPv6(`2001:db8:1:0:1:${(0x100 + (i >>> 16)).toString(16)}:${(i & 0xffff).toString(16)}:100`);
}

export function coaAddr(net: number, i = 0): string {
  return canonicalIPv6(`2001:db8:${(0xa000 + net).toString(16)}:${(i >>> 16).toString(16)}::1:${(i & 0xffff).toString(16)}`);
}

/** A transport SA as the XFRM back-end reports it: selector with the upper-layer protocol, a reqid, a direction. */
export function transportSa(saddr: string, daddr: string, spi: number, ulProto: number, dir: 'in' | 'out', reqid: number): SaInfo {
  return {
    key: { proto: 'esp', spi, daddr },
    saddr,
    mode: 'transport',
    reqid,
    selector: { src: saddr, dst: daddr, srcLen: 128, dstLen: 128, proto: ulProto },
    dir,
    state: 'mature',
    sources: ['xfrm'],
  };
}

export const MH = 135;
export const TCP = 6;
export const ICMPV6 = 58;

/** The four SAs an MN has with a CN (IRO §3): MH out/in and data (TCP) out/in, HoA <-> CN. */
export function mnSasWithCn(hoa: string, cn: string, spiBase: number): SaInfo[] {
  const reqid = spiBase >>> 2;
  return [
    transportSa(hoa, cn, spiBase, MH, 'out', reqid),
    transportSa(cn, hoa, spiBase + 1, MH, 'in', reqid),
    transportSa(hoa, cn, spiBase + 2, TCP, 'out', reqid + 1),
    transportSa(cn, hoa, spiBase + 3, TCP, 'in', reqid + 1),
  ];
}

/** The HA's MH SAs with one MN (HAIPSEC SA1/SA2): MN HoA -> HA in, HA -> HoA out. */
export function haSasWithMn(hoa: string, spiBase: number): SaInfo[] {
  return [transportSa(hoa, HA_ADDR, spiBase, MH, 'in', spiBase), transportSa(HA_ADDR, hoa, spiBase + 1, MH, 'out', spiBase)];
}

/** A rule set as map key -> map value (hex, slot 0): what the kernel map would hold. */
export function encodeRuleSet(entries: Iterable<RuleEntry>): Map<string, string> {
  const k = Buffer.alloc(24);
  const v = Buffer.alloc(80);
  const out = new Map<string, string>();
  for (const e of entries) {
    writeEntryKey(e, k, 0);
    writeEntryValue(e, 0, v, 0);
    out.set(k.toString('hex'), v.toString('hex'));
  }
  return out;
}

/** Map entries that differ between two encoded rule sets (added, removed or changed value). */
export function changedEntries(a: Map<string, string>, b: Map<string, string>): number {
  let n = 0;
  for (const [k, v] of b) if (a.get(k) !== v) n++;
  for (const k of a.keys()) if (!b.has(k)) n++;
  return n;
}

/** Counts every element written to or deleted from the real rule map (single and batched calls). */
export function countRuleMapOps(dp: Datapath): { readonly ops: number; reset(): void } {
  const m = dp.maps.iro_rules;
  const proto = Object.getPrototypeOf(m) as typeof m;
  let ops = 0;
  Object.assign(m, {
    update: (...a: Parameters<typeof m.update>) => {
      ops++;
      return proto.update.apply(m, a);
    },
    delete: (...a: Parameters<typeof m.delete>) => {
      ops++;
      return proto.delete.apply(m, a);
    },
    updateBatch: (...a: Parameters<typeof m.updateBatch>) => {
      ops += a[2];
      return proto.updateBatch.apply(m, a);
    },
    deleteBatch: (...a: Parameters<typeof m.deleteBatch>) => {
      ops += a[1];
      return proto.deleteBatch.apply(m, a);
    },
  });
  return {
    get ops() {
      return ops;
    },
    reset() {
      ops = 0;
    },
  };
}

export function percentile(sorted: readonly number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export function median(xs: readonly number[]): number {
  return percentile([...xs].sort((a, b) => a - b), 50);
}

export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

let gcFn: (() => void) | undefined;

/**
 * A full garbage collection (global.gc without --expose-gc on the command line: the flag is set
 * at run time and a fresh context picks it up). Used before timed sections, so garbage the
 * bench itself made is not collected inside them, and around heap measurements.
 */
export function collectGarbage(): void {
  if (!gcFn) {
    const g = (globalThis as { gc?: () => void }).gc;
    if (g) gcFn = g;
    else {
      setFlagsFromString('--expose-gc');
      gcFn = runInNewContext('gc') as () => void;
    }
  }
  gcFn();
  gcFn();
}
