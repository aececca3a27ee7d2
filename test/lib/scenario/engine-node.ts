// One IRO node as the engine tests need it, wired the way iro-ctl wires it: the SA event stream
// (IpsecWatcher on the node's namespace) -> IroEngine -> a real Datapath attached to the node's
// interfaces. The bindings are given (no signalling here): the MN has an effective binding at
// the CN with its CoA, the CN has accepted and proven that CoA. Used in-process by the vm tests
// and, for the restart test, from a child process (engine-node-main.ts).
import { Datapath } from '../../../src/datapath/datapath.ts';
import { IpsecWatcher } from '../../../src/ipsec/watcher.ts';
import type { SaEvent } from '../../../src/ipsec/model.ts';
import { IroEngine, type SyncResult } from '../../../src/iro/engine.ts';
import { inNetns } from '../../../src/kernel/netns.ts';
import { native } from '../../../src/kernel/native.ts';
import { PfkeyClient } from '../../../src/kernel/pfkey/client.ts';
import { SADB_SATYPE_AH, SADB_SATYPE_ESP } from '../../../src/kernel/pfkey/constants.ts';
import { rmSync } from 'node:fs';
import { iroTopology, type IroTopology } from '../topology/index.ts';
import { testDatapathPaths } from '../datapath-fixture.ts';

export interface EngineNodeSpec {
  role: 'mn' | 'cn';
  /** the node's network namespace */
  netns: string;
  pinDir: string;
  stateFile: string;
  /** interfaces (of netns) to attach ingress and egress to, when the data path is loaded fresh */
  attach: string[];
  hoa: string;
  cn: string;
  coa: string;
  /** MN: the interface that holds the CoA */
  coaIfname?: string;
  pfkey: 'on' | 'off';
  missPolicy?: 'drop' | 'pass';
  ancillaryInMark?: boolean;
}

export interface TimedEvents {
  at: number;
  events: SaEvent[];
  result: SyncResult | null;
}

export class EngineNode {
  readonly log: TimedEvents[] = [];
  /** set to drop some SA events before the engine sees them (a "not yet delivered" event) */
  holdBack: ((e: SaEvent) => boolean) | null = null;

  private constructor(
    readonly spec: EngineNodeSpec,
    readonly dp: Datapath,
    readonly watcher: IpsecWatcher,
    readonly engine: IroEngine,
    /** the first reconcile: the whole startup picture in one pass */
    readonly first: SyncResult,
  ) {}

  static async start(spec: EngineNodeSpec): Promise<EngineNode> {
    const dp = Datapath.open({ pinDir: spec.pinDir, stateFile: spec.stateFile });
    let watcher: IpsecWatcher | null = null;
    try {
      if (!dp.adopted) {
        dp.configure({ missPolicy: spec.missPolicy ?? 'drop', ancillaryInMark: spec.ancillaryInMark ?? true });
        inNetns(spec.netns, () => {
          for (const ifname of spec.attach) for (const dir of ['ingress', 'egress'] as const) dp.attach(ifname, dir);
        });
      }
      watcher = await IpsecWatcher.open({ netns: spec.netns, pfkey: spec.pfkey });
      const engine =
        spec.role === 'mn'
          ? new IroEngine({ role: 'mn', hoas: [spec.hoa], localAddrs: [], peers: [{ address: spec.cn, kind: 'cn', mode: 'iro' }], datapath: dp })
          : new IroEngine({ role: 'cn', hoas: [], localAddrs: [spec.cn], peers: [{ address: spec.hoa, kind: 'mn', mode: 'iro' }], datapath: dp });
      const w = watcher;
      // the startup collect, the CoA and the bindings reach the (possibly adopted) maps in one pass
      const first = engine.batch(() => {
        engine.onSaEvents(w.initialEvents());
        if (spec.role === 'mn') {
          const oif = inNetns(spec.netns, () => native().ifNameToIndex(spec.coaIfname ?? ''));
          if (!oif) throw new Error(`engine node ${spec.netns}: no interface "${spec.coaIfname}" for the CoA`);
          engine.setCoa(spec.coa, oif);
          engine.setMyBinding(spec.cn, { coa: spec.coa, state: 'effective' });
        } else {
          engine.setPeerBinding(spec.hoa, { acceptedCoa: spec.coa, provenCoa: spec.coa });
        }
      });
      const node = new EngineNode(spec, dp, w, engine, first);
      w.on('changes', (events) => {
        const given = node.holdBack ? events.filter((e) => !node.holdBack!(e)) : events;
        node.log.push({ at: Date.now(), events, result: given.length ? engine.onSaEvents(given) : null });
      });
      w.on('error', (e) => node.log.push({ at: Date.now(), events: [{ type: 'resync-needed', source: 'xfrm', reason: `watcher error: ${e.message}` }], result: null }));
      return node;
    } catch (e) {
      watcher?.close();
      dp.close();
      throw e;
    }
  }

  /** Rule ids in the kernel map, sorted. */
  ruleIds(): string[] {
    return this.dp
      .listEntries()
      .map((e) => e.id)
      .sort();
  }

  /** Stop listening; pins, attachments and rules stay (the data path works without us). */
  close(): void {
    this.watcher.close();
    this.dp.close();
  }

  /** Stop and remove the data path entirely (programs, pins, state file). */
  destroy(): void {
    this.watcher.close();
    try {
      this.dp.destroy();
    } finally {
      rmSync(this.spec.pinDir, { recursive: true, force: true });
    }
  }
}

/** The standard IRO topology with the MN's HoA on its loopback (no home tunnel: IRO only). */
export async function engineTopology(prefix: string): Promise<IroTopology> {
  const t = await iroTopology({ prefix });
  try {
    t.mn.ip('addr', 'add', `${t.addr.mn.hoa}/128`, 'dev', 'lo');
  } catch (e) {
    await t.destroy();
    throw e;
  }
  return t;
}

/** The MN and CN node specs of an engine topology (private pin dirs; fa / cn attached). */
export function nodeSpecs(t: IroTopology, tag: string, o: { pfkey?: 'on' | 'off'; missPolicy?: 'drop' | 'pass'; ancillaryInMark?: boolean } = {}): { mn: EngineNodeSpec; cn: EngineNodeSpec } {
  const common = { hoa: t.addr.mn.hoa, cn: t.addr.cn, coa: t.addr.mn.coaA, pfkey: o.pfkey ?? 'off', ...(o.missPolicy ? { missPolicy: o.missPolicy } : {}) };
  return {
    mn: { ...common, ...testDatapathPaths(`${tag}-mn`), role: 'mn', netns: t.mn.ns, attach: ['fa'], coaIfname: 'fa' },
    cn: { ...common, ...testDatapathPaths(`${tag}-cn`), role: 'cn', netns: t.cn.ns, attach: ['cn'], ...(o.ancillaryInMark === undefined ? {} : { ancillaryInMark: o.ancillaryInMark }) },
  };
}

let warmed = false;

/**
 * The first SADB_REGISTER of a boot makes the kernel probe every algorithm (module loads, slow
 * under TCG): do it once with a long timeout so the watchers' own REGISTER is quick.
 */
export async function warmUpPfkey(): Promise<void> {
  if (warmed) return;
  const c = await PfkeyClient.open({ register: [SADB_SATYPE_ESP, SADB_SATYPE_AH], registerTimeoutMs: 240_000 });
  c.close();
  warmed = true;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Poll cond every 10 ms; throws naming `what` (a string or a function giving details). */
export async function until(what: string | (() => string), cond: () => boolean, ms = 30_000): Promise<number> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`${typeof what === 'string' ? what : what()}: not within ${ms} ms`);
    await sleep(10);
  }
  return Date.now();
}
