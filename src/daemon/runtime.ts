// One node at run time (the imperative shell around the pure cores): the data path, the SA
// event stream and the IRO engine, static keying, the Mobility Header socket and the
// signalling roles, movement detection and the MN-HA tunnel (MN) or the home link (HA).
// Events go in at the edges; every kernel change they cause runs through one serial queue.
import { performance } from 'node:perf_hooks';
import type { NodeConfig } from '../config/index.ts';
import { mergeDesired, ownershipOf, toDesiredIpsec, toEngineAddresses, toMhCodecInput, toPeers, toStaticClasses, tunnelProtection } from '../config/index.ts';
import { Datapath } from '../datapath/datapath.ts';
import type { Direction } from '../datapath/attach.ts';
import { IpsecWatcher } from '../ipsec/watcher.ts';
import { XfrmPusher } from '../ipsec/pusher-xfrm.ts';
import type { PushSa } from '../ipsec/desired.ts';
import type { SaEvent, SaInfo } from '../ipsec/model.ts';
import { IroEngine } from '../iro/engine.ts';
import { AncillaryChannel } from '../iro/ancillary.ts';
import { RtnetlinkClient } from '../kernel/rtnetlink/client.ts';
import { makeMhCodecConfig } from '../mip6/codec/index.ts';
import { Mip6Node, Mip6Runner, type Mip6Action, type Mip6Event } from '../mip6/index.ts';
import { MhSocket, type MhReceived } from '../mip6/socket.ts';
import { MovementDetector } from '../mip6/movement-detector.ts';
import type { CoaChoice } from '../mip6/movement.ts';
import { MnHomeTunnel } from '../mip6/kernel/mn-tunnel.ts';
import { HaHome } from '../mip6/kernel/ha-home.ts';
import type { Logger } from '../obs/log.ts';
import { mip6Options } from './mip6-options.ts';
import { SerialQueue } from './serial.ts';

export interface RuntimeOptions {
  config: NodeConfig;
  log: Logger;
}

function saInfoFromPush(s: PushSa): SaInfo {
  return {
    key: { proto: s.proto, spi: s.spi >>> 0, daddr: s.daddr },
    saddr: s.saddr,
    mode: s.mode,
    reqid: s.reqid,
    ...(s.selector ? { selector: s.selector } : {}),
    state: 'mature',
    sources: ['config'],
  };
}

export class NodeRuntime {
  readonly config: NodeConfig;
  readonly log: Logger;
  readonly counters = new Map<string, number>();
  readonly startedAt = Date.now();
  datapath!: Datapath;
  engine!: IroEngine;
  watcher!: IpsecWatcher;
  node!: Mip6Node;
  private runner!: Mip6Runner;
  private pusher!: XfrmPusher;
  private rt!: RtnetlinkClient;
  private mh!: MhSocket;
  private movement: MovementDetector | null = null;
  private tunnel: MnHomeTunnel | null = null;
  private home: HaHome | null = null;
  private readonly queue: SerialQueue;
  private timer: NodeJS.Timeout | null = null;
  private mhPeers = new Set<string>();
  private coa: CoaChoice | null = null;
  private readonly haCoas = new Map<string, string>();
  private stopping = false;

  private constructor(o: RuntimeOptions) {
    this.config = o.config;
    this.log = o.log;
    this.queue = new SerialQueue((e, what) => this.log.error({ error: e.message, what }, 'kernel change failed'));
  }

  /** Bring the node up: every step that fails is reported with what it was doing. */
  static async start(o: RuntimeOptions): Promise<NodeRuntime> {
    const r = new NodeRuntime(o);
    try {
      await r.bringUp();
    } catch (e) {
      await r.stop({ keepKernelState: false }).catch(() => undefined);
      throw e;
    }
    return r;
  }

  private now(): number {
    return performance.now();
  }

  private async bringUp(): Promise<void> {
    const c = this.config;
    const dp = c.datapath;
    this.datapath = Datapath.open({ pinDir: dp.pinDir, stateFile: dp.stateFile, ruleCapacity: dp.ruleCapacity });
    this.datapath.configure({ missPolicy: c.iro.missPolicy, markMask: c.iro.markMask, ancillaryInMark: true });
    this.rt = RtnetlinkClient.open();

    const { hoas, localAddrs } = toEngineAddresses(c);
    this.engine = new IroEngine({ role: c.role, hoas, localAddrs, peers: toPeers(c), staticClasses: toStaticClasses(c), datapath: this.datapath, log: this.log });

    if (c.role === 'mn' && c.mn) {
      const mn = c.mn;
      this.movement = await MovementDetector.open({ interfaces: mn.interfaces, home: { prefix: mn.homeAddress, prefixlen: mn.homePrefixLength }, hoas, log: this.log });
      this.tunnel = new MnHomeTunnel(this.rt, { name: mn.tunnel.name, table: mn.tunnel.table, rulePriority: 1000, hoas, homeAgent: mn.homeAgent, log: this.log });
      this.coa = this.movement.choice;
      await this.tunnel.follow(this.coa.coa);
      this.engine.setCoa(this.coa.coa, this.coa.ifindex);
    }
    if (c.role === 'ha' && c.ha) {
      this.home = new HaHome(this.rt, { homeLink: c.ha.homeLink, address: c.ha.address, log: this.log });
      await this.home.prepare();
    }
    await this.attachAll();

    this.watcher = await IpsecWatcher.open({ pfkey: c.kernel.pfkey, pfkeyPromiscuous: c.kernel.pfkeyPromiscuous, log: this.log });
    // the watcher logs its PF_KEY notice itself once it knows (auto mode attaches in the background)
    this.engine.setPolicies(this.watcher.mirror.allPolicies());
    this.engine.onSaEvents(this.watcher.initialEvents());
    this.watcher.on('changes', (events) => this.onSaChanges(events));
    this.watcher.on('error', (e) => this.log.error({ error: e.message }, 'SA event stream error'));

    // static keying: rules first, then the SAs (IRO App. G, OP-18 a)
    this.pusher = new XfrmPusher(this.watcher.xfrm, ownershipOf(c), this.log);
    await this.pushIpsec();

    const codec = makeMhCodecConfig(toMhCodecInput(c));
    this.mh = MhSocket.open({
      channel: new AncillaryChannel(this.datapath),
      codec,
      candidateSas: (src, dst) => this.inboundMhSas(src, dst),
      log: this.log,
    });
    this.node = new Mip6Node(mip6Options(c));
    this.runner = new Mip6Runner(this.node, this.node.scheduler);
    this.mh.start((m) => this.onMh(m));

    if (this.movement) {
      this.movement.on('change', (choice) => void this.queue.run('movement', () => this.onMovement(choice)));
      this.movement.on('error', (e) => this.log.error({ error: e.message }, 'movement detection error'));
      this.dispatch({ type: 'movement', coa: this.coa!.coa, atHome: this.coa!.atHome });
    }
    this.updateMhPeers();
    this.log.info({ role: c.role, pfkey: this.watcher.pfkey ? 'on' : 'off', coa: this.coa?.coa ?? null }, 'iro-ctl node up');
  }

  /**
   * The IPsec state iro-ctl owns: the static SAs and policies, plus the MN-HA tunnel protection
   * for the current CoA (MN) or each binding's CoA (HA), which moves with them (HAIPSEC I6/I7).
   */
  private async pushIpsec(): Promise<void> {
    const c = this.config;
    const coaOf = (hoa: string): string | null => {
      if (c.role === 'mn') return this.coa?.coa ?? null;
      if (c.role === 'ha') return this.haCoas.get(hoa) ?? null;
      return null;
    };
    const desired = mergeDesired(toDesiredIpsec(c), tunnelProtection(c, coaOf));
    this.engine.expectSas(desired.sas.map(saInfoFromPush));
    await this.pusher.apply(desired);
  }

  // ---- data path attachment ------------------------------------------------------------

  private interfaces(): string[] {
    const c = this.config;
    if (c.role === 'mn') return c.mn!.interfaces;
    if (c.role === 'cn') return c.cn!.interfaces;
    return c.ha!.interfaces;
  }

  private async attachAll(): Promise<void> {
    for (const ifname of this.interfaces()) {
      if (!(await this.rt.getLink(ifname))) {
        this.log.warn({ ifname }, 'configured interface does not exist (yet): not attached');
        continue;
      }
      for (const dir of ['ingress', 'egress'] as Direction[]) this.datapath.attach(ifname, dir, { mode: this.config.datapath.attachMode });
    }
    if (this.tunnel && (await this.tunnel.ifindex())) this.datapath.attach(this.tunnel.name, 'egress', { mode: this.config.datapath.attachMode });
  }

  // ---- inputs ------------------------------------------------------------------------------

  private onSaChanges(events: SaEvent[]): void {
    if (events.some((e) => e.type.startsWith('policy-'))) this.engine.setPolicies(this.watcher.mirror.allPolicies());
    this.engine.onSaEvents(events);
    this.updateMhPeers();
  }

  /** The MH SA pair with a peer exists or is gone: the MN registers only where it can (peer-mh-sa). */
  private updateMhPeers(): void {
    // before the signalling runner exists there is nobody to tell (the last step of bringUp asks)
    if (this.config.role !== 'mn' || !this.runner) return;
    const byPeer = new Map<string, Set<string>>();
    for (const t of this.engine.trackedSas()) {
      if (t.cls.cls !== 'mh' || !t.cls.peer) continue;
      const s = byPeer.get(t.cls.peer.address) ?? new Set<string>();
      s.add(t.cls.dir!);
      byPeer.set(t.cls.peer.address, s);
    }
    const now = new Set([...byPeer].filter(([, dirs]) => dirs.size === 2).map(([p]) => p));
    for (const p of now) if (!this.mhPeers.has(p)) this.dispatch({ type: 'peer-mh-sa', peer: p, present: true });
    for (const p of this.mhPeers) if (!now.has(p)) this.dispatch({ type: 'peer-mh-sa', peer: p, present: false });
    this.mhPeers = now;
  }

  private inboundMhSas(src: string, dst: string): Array<{ proto: 'esp' | 'ah'; spi: number }> {
    return this.engine
      .trackedSas()
      .filter((t) => (t.cls.cls === 'mh' || t.cls.cls === 'mpd') && t.cls.dir === 'in' && t.sa.saddr === src && t.sa.key.daddr === dst)
      .map((t) => ({ proto: t.sa.key.proto, spi: t.sa.key.spi }));
  }

  private onMh(m: MhReceived): void {
    // The kernel's inbound policy only lets MH from an IPsec peer through when it was
    // protected; which SA did it is the record's SPI, else the one inbound MH SA from there.
    const candidates = this.inboundMhSas(m.src, m.dst);
    const sa = m.onWire.spi !== undefined && m.onWire.proto ? { proto: m.onWire.proto, spi: m.onWire.spi } : candidates[0];
    this.dispatch({ type: 'mh-received', msg: m.msg, src: m.src, dst: m.dst, onWireSrc: m.onWire.src, onWireDst: m.onWire.dst, ...(sa ? { sa } : {}) });
  }

  private async onMovement(choice: CoaChoice): Promise<void> {
    this.coa = choice;
    await this.tunnel!.follow(choice.coa);
    if (await this.tunnel!.ifindex()) this.datapath.attach(this.tunnel!.name, 'egress', { mode: this.config.datapath.attachMode });
    this.engine.setCoa(choice.coa, choice.ifindex);
    await this.pushIpsec(); // the tunnel's protection follows the CoA at once (HAIPSEC I6, E07)
    this.dispatch({ type: 'movement', coa: choice.coa, atHome: choice.atHome });
  }

  // ---- the signalling loop -----------------------------------------------------------------

  dispatch(ev: Mip6Event): void {
    if (!this.runner) return;
    const actions = this.runner.dispatch(ev, this.now());
    this.perform(actions);
    this.arm();
  }

  private arm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const next = this.runner.nextDeadline();
    if (next === undefined || this.stopping) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.perform(this.runner.advanceTo(this.now()));
      this.arm();
    }, Math.max(0, next - this.now()));
  }

  private perform(actions: Mip6Action[]): void {
    for (const a of actions) {
      switch (a.type) {
        case 'send':
          try {
            this.mh.send(a);
          } catch (e) {
            this.count('mh-send-error');
            this.log.warn({ error: (e as Error).message, to: a.dst, kind: a.msg.kind }, 'sending a mobility header message failed');
          }
          break;
        case 'counter':
          this.count(a.name);
          break;
        case 'log':
          this.log[a.level](a.fields, a.msg);
          break;
        case 'binding-changed':
          this.onBindings(a);
          break;
      }
    }
  }

  private onBindings(a: Extract<Mip6Action, { type: 'binding-changed' }>): void {
    if (a.role === 'mn') {
      for (const b of a.bindings) {
        if (b.home) continue; // the HA is reached through the tunnel; its MH rules do not depend on the binding
        this.engine.setMyBinding(b.peer, b.coa && !b.deregistering ? { coa: b.coa, state: b.state } : null);
      }
    } else if (a.role === 'cn') {
      for (const b of a.bindings) {
        this.engine.setPeerBinding(b.hoa, b.removed ? null : { acceptedCoa: b.acceptedCoa, ...(b.provenCoa ? { provenCoa: b.provenCoa } : {}) });
      }
    } else {
      for (const b of a.bindings) {
        this.engine.setHaBinding(b.hoa, b.removed ? null : { coa: b.coa });
        if (b.removed) this.haCoas.delete(b.hoa);
        else this.haCoas.set(b.hoa, b.coa);
        void this.queue.run(`home binding ${b.hoa}`, async () => {
          await this.home!.setBinding(b.hoa, b.removed ? null : b.coa);
          await this.pushIpsec(); // the tunnel to the MN goes to its new CoA (HAIPSEC I7, E06)
        });
      }
    }
  }

  private count(name: string): void {
    this.counters.set(name, (this.counters.get(name) ?? 0) + 1);
  }

  // ---- lifecycle -------------------------------------------------------------------------------

  /**
   * Stop. `keepKernelState` (a restart): the data path, rules, SAs and tunnels stay, so traffic
   * keeps flowing and the next start adopts them (L05). Otherwise (`iro-ctl down`): deregister
   * (lifetime 0) first, then remove exactly what iro-ctl owns (E08).
   */
  async stop(o: { keepKernelState: boolean; deregisterWaitMs?: number }): Promise<void> {
    if (this.stopping) return;
    if (!o.keepKernelState && this.runner) {
      this.dispatch({ type: 'shutdown' });
      const until = Date.now() + (o.deregisterWaitMs ?? 2000);
      while (Date.now() < until && this.node.mn?.status(this.now()).entries.some((b) => b.deregistering)) {
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    this.movement?.close();
    this.mh?.close();
    await this.queue.idle();
    if (!o.keepKernelState) {
      await this.pusher?.removeOwned().catch((e: Error) => this.log.error({ error: e.message }, 'removing owned IPsec state failed'));
      await this.home?.removeAll().catch((e: Error) => this.log.error({ error: e.message }, 'removing home bindings failed'));
      await this.tunnel?.remove().catch((e: Error) => this.log.error({ error: e.message }, 'removing the MN-HA tunnel failed'));
      this.datapath?.destroy();
    } else {
      this.datapath?.close();
    }
    this.watcher?.close();
    this.rt?.close();
    this.log.info({ keptKernelState: o.keepKernelState }, 'iro-ctl node stopped');
  }

  // ---- status ------------------------------------------------------------------------------------

  status(): Record<string, unknown> {
    const rules = this.engine.rules().map(({ entry, reasons }) => ({ id: entry.id, rules: [entry.src, entry.dst].filter(Boolean), oif: entry.oif, reasons, counters: this.datapath.ruleCounters(entry.id) }));
    return {
      role: this.config.role,
      uptimeSeconds: Math.round((Date.now() - this.startedAt) / 1000),
      coa: this.coa ? { coa: this.coa.coa, ifname: this.coa.ifname, atHome: this.coa.atHome, why: this.coa.why } : null,
      pfkey: this.watcher.pfkey ? 'on' : (this.watcher.pfkeyNotice ?? 'off'),
      mn: this.node.mn?.status(this.now()) ?? null,
      cn: this.node.cn?.status(this.now()) ?? null,
      ha: this.node.ha?.status(this.now()) ?? null,
      sas: this.engine.trackedSas().map((t) => ({ sa: t.sa.key, saddr: t.sa.saddr, class: t.cls.cls, dir: t.cls.dir, peer: t.cls.peer?.address, why: t.cls.why })),
      rules,
      datapath: { counters: this.datapath.stats(), attachments: this.datapath.attachments() },
      signalling: { counters: Object.fromEntries(this.counters), mhDrops: Object.fromEntries(this.mh.drops) },
    };
  }
}
