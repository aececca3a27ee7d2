// The miss path's userland half (issue 5 item 4, DESIGN decision 6, DIGEST OP-18): the data
// path reports an outgoing ESP/AH packet from a local HoA to an IRO peer whose SPI has no rule
// (and drops it, by default). Here the SA is looked up in the kernel (GETSA by destination, SPI
// and protocol: the kernel is the authority, the mirror may not have heard of it yet), merged
// into the SADB mirror and given to the engine as an SA event, so it derives and installs the
// rules; the next packet of the flow passes remapped.
import { Dir, EventKind, IPPROTO_AH, type DatapathEvent } from '../datapath/abi.ts';
import { ruleKeyId } from '../datapath/rules.ts';
import type { SadbMirror } from '../ipsec/mirror.ts';
import { saKeyId, type SaEvent, type SaInfo, type SaKey } from '../ipsec/model.ts';
import { saFromXfrm } from '../ipsec/xfrm-adapter.ts';
import type { XfrmClient } from '../kernel/xfrm/client.ts';
import { AF_INET6, IPPROTO_ESP } from '../kernel/constants.ts';
import type { IroEngine, SyncResult } from './engine.ts';

export interface MissDeps {
  /** the watcher's XFRM client (GETSA) */
  xfrm: Pick<XfrmClient, 'getSa'>;
  /** the watcher's SADB mirror, kept consistent with what the engine is told */
  mirror: SadbMirror;
  engine: Pick<IroEngine, 'onSaEvents' | 'saTable' | 'rules'>;
}

export type MissResolution =
  /** not a miss of an outgoing ESP/AH packet */
  | { outcome: 'ignored'; why: string }
  /** the kernel has no such SA (any more) */
  | { outcome: 'no-sa'; key: SaKey }
  /** the engine already had the SA and its rule (the miss raced the SA event) */
  | { outcome: 'known'; key: SaKey; ruleId: string }
  /** the SA was learned from the kernel and its rule is now in the data path */
  | { outcome: 'resolved'; sa: SaInfo; ruleId: string; sync: SyncResult | null }
  /** the SA exists but IRO derives no rule for it (classification, e.g. not between a HoA and an IRO peer) */
  | { outcome: 'untracked'; sa: SaInfo };

function describe(e: DatapathEvent): string {
  return `miss ${e.proto === IPPROTO_AH ? 'ah' : 'esp'} spi 0x${(e.spi >>> 0).toString(16)} ${e.src} -> ${e.dst}`;
}

/** Resolve one data path event; never throws for an event's content (only for a failed GETSA). */
export async function resolveMiss(e: DatapathEvent, deps: MissDeps): Promise<MissResolution> {
  if (e.kind !== EventKind.Miss) return { outcome: 'ignored', why: `event kind ${e.kind} is not a miss` };
  if (e.dir !== Dir.Out) return { outcome: 'ignored', why: `${describe(e)}: not outgoing` };
  if (e.proto !== IPPROTO_ESP && e.proto !== IPPROTO_AH) return { outcome: 'ignored', why: `${describe(e)}: protocol ${e.proto} is not ESP or AH` };
  const proto = e.proto === IPPROTO_AH ? 'ah' : 'esp';
  const key: SaKey = { proto, spi: e.spi >>> 0, daddr: e.dst };
  const ruleId = ruleKeyId({ dir: 'out', proto, spi: key.spi, peer: e.dst });
  const hasRule = () => deps.engine.rules().some((r) => r.entry.id === ruleId);
  const id = saKeyId(key);
  if (hasRule() && deps.engine.saTable().some((s) => saKeyId(s.key) === id)) return { outcome: 'known', key, ruleId };

  const found = await deps.xfrm.getSa({ daddr: e.dst, spi: key.spi, proto: e.proto, family: AF_INET6 });
  const sa = found ? saFromXfrm(found) : null;
  if (!sa) return { outcome: 'no-sa', key };
  const events: SaEvent[] = deps.mirror.apply({ kind: 'sa-upsert', sa, source: 'xfrm' });
  const merged = deps.mirror.get(key) ?? sa;
  // the mirror may know it already (its event has not reached the engine yet): tell the engine
  if (!events.some((x) => 'sa' in x && saKeyId(x.sa.key) === id) && !deps.engine.saTable().some((s) => saKeyId(s.key) === id)) {
    events.push({ type: 'sa-added', sa: merged });
  }
  const sync = events.length ? deps.engine.onSaEvents(events) : null;
  return hasRule() ? { outcome: 'resolved', sa: merged, ruleId, sync } : { outcome: 'untracked', sa: merged };
}

/** Resolve every miss of an event stream (Datapath.events()) until it ends. */
export async function resolveMisses(events: AsyncIterable<DatapathEvent>, deps: MissDeps, onResult: (e: DatapathEvent, r: MissResolution | Error) => void): Promise<void> {
  for await (const e of events) {
    if (e.kind !== EventKind.Miss) continue;
    try {
      onResult(e, await resolveMiss(e, deps));
    } catch (err) {
      onResult(e, err as Error);
    }
  }
}
