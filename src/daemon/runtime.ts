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
import { resolveMisses, type MissResolution } from '../iro/miss.ts';
import type { DatapathEvent } from '../datapath/abi.ts';
import { RtnetlinkClient } from '../kernel/rtnetlink/client.ts';
import { makeMhCodecConfig } from '../mip6/codec/index.ts';
import { Mip6Node, Mip6Runner, type Mip6Action, type Mip6Event } from '../mip6/index.ts';
import { MhSocket, type MhReceived } from '../mip6/socket.ts';
import { MovementDetector } from '../mip6/movement-detector.ts';
import type { CoaChoice } from '../mip6/movement.ts';
import { MnHomeTunnel } from '../mip6/kernel/mn-tunnel.ts';
import { HaHome, tunnelNameFor } from '../mip6/kernel/ha-home.ts';
import type { Logger } from '../obs/log.ts';
import { mip6Options } from './mip6-options.ts';
import { SerialQueue } from './serial.ts';
import { MN_BINDINGS_FILE, PersistedJson, isMnBindingsFile, isSequenceFile, type MnBindingsFile, type SequenceFile } from './persisted.ts';
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import type { HaBindingsChanged, MnBindingView } from '../mip6/types.ts';

export interface RuntimeOptions {
  config: NodeConfig;
  log: Logger;
}

/**
 * Incremental syncs do not read the rule map back; a full comparison this often corrects
 * anything else that wrote to it (e.g. `iro-ctl rule` while the daemon runs).
 */
const RESYNC_INTERVAL_MS = 60_000;

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
  private firstSync: { put: number; deleted: number; unchanged: number } | null = null;
  /** what the start-up push changed in the kernel's SAD/SPD (a restart or a second start: nothing, E09) */
  private firstPush: { added: number; replaced: number; removed: number; unchanged: number } | null = null;
  private resyncTimer: NodeJS.Timeout | null = null;
  private pushQueued = false;
  private readonly missAbort = new AbortController();
  private readonly misses = { resolved: 0, known: 0, noSa: 0, untracked: 0, failed: 0 };
  private stopping = false;
  /** MN: the binding view the rules were derived from (restored on a restart with the same CoA) */
  private mnBindingsFile: PersistedJson<MnBindingsFile> | null = null;
  private mnBindings = new Map<string, { coa: string; state: 'bu-sent' | 'effective' }>();
  /** HA: last accepted BU sequence per HoA (OP-43) */
  private sequenceFile: PersistedJson<SequenceFile> | null = null;

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
    }
    if (c.role === 'ha' && c.ha) {
      this.home = new HaHome(this.rt, { homeLink: c.ha.homeLink, address: c.ha.address, log: this.log });
      await this.home.prepare();
    }
    await this.attachAll();

    this.watcher = await IpsecWatcher.open({ pfkey: c.kernel.pfkey, pfkeyPromiscuous: c.kernel.pfkeyPromiscuous, log: this.log });
    // the watcher logs its PF_KEY notice itself once it knows (auto mode attaches in the background)
    this.pusher = new XfrmPusher(this.watcher.xfrm, ownershipOf(c), this.log);
    // The engine's whole first picture (CoA, policies, the kernel's SAs, the static SAs it is
    // about to push) goes in as one batch, so the first sync compares the (possibly adopted)
    // map with the end state: a restart changes only what differs (L05).
    const desired = this.desiredIpsec();
    const restored = this.restoreMnBindings();
    this.firstSync = this.engine.batch(() => {
      if (this.coa) this.engine.setCoa(this.coa.coa, this.coa.ifindex);
      for (const [peer, b] of restored) this.engine.setMyBinding(peer, b);
      this.engine.setPolicies(this.watcher.mirror.allPolicies());
      this.engine.onSaEvents(this.watcher.initialEvents());
      this.engine.expectSas(desired.sas.map(saInfoFromPush));
    });
    this.watcher.on('changes', (events) => this.onSaChanges(events));
    this.watcher.on('error', (e) => this.log.error({ error: e.message }, 'SA event stream error'));
    // static keying: the rules are in (above), then the SAs (IRO App. G, OP-18 a)
    const pushed = await this.pusher.apply(desired);
    this.firstPush = { added: pushed.added.length, replaced: pushed.replaced.length, removed: pushed.removed.length, unchanged: pushed.unchanged };
    this.startMissResolution();
    this.resyncTimer = setInterval(() => this.periodicResync(), RESYNC_INTERVAL_MS);
    this.resyncTimer.unref();

    const codec = makeMhCodecConfig(toMhCodecInput(c));
    this.mh = MhSocket.open({
      channel: new AncillaryChannel(this.datapath),
      codec,
      candidateSas: (src, dst) => this.inboundMhSas(src, dst),
      log: this.log,
    });
    this.node = new Mip6Node(mip6Options(c, this.loadSequences()));
    this.runner = new Mip6Runner(this.node, this.node.scheduler);
    this.mh.start((m) => this.onMh(m));

    // The signalling starts from scratch; until its first binding view the restored one stands,
    // and the first view replaces it in the same batch (no rule flaps on a restart).
    this.engine.batch(() => {
      if (this.movement) {
        this.movement.on('change', (choice) => void this.queue.run('movement', () => this.onMovement(choice)));
        this.movement.on('error', (e) => this.log.error({ error: e.message }, 'movement detection error'));
        this.dispatch({ type: 'movement', coa: this.coa!.coa, atHome: this.coa!.atHome });
      }
      this.updateMhPeers();
      if (this.node.mn) this.applyMnView(this.node.mn.status(this.now()).entries);
    });
    this.log.info({ role: c.role, pfkey: this.watcher.pfkey ? 'on' : 'off', coa: this.coa?.coa ?? null }, 'iro-ctl node up');
  }

  // ---- state kept across restarts ------------------------------------------------------------

  private restoreMnBindings(): Map<string, { coa: string; state: 'bu-sent' | 'effective' }> {
    const out = new Map<string, { coa: string; state: 'bu-sent' | 'effective' }>();
    if (this.config.role !== 'mn' || !this.coa) return out;
    this.mnBindingsFile = new PersistedJson(join(this.config.state.dir, MN_BINDINGS_FILE), 'mobile node binding state', this.log);
    const f = this.mnBindingsFile.load(isMnBindingsFile);
    // bindings for another CoA say nothing about the direct paths from this one
    if (!f || f.coa !== this.coa.coa) return out;
    for (const b of f.bindings) out.set(b.peer, { coa: b.coa, state: b.state });
    this.mnBindings = new Map(out);
    this.log.info({ peers: [...out.keys()] }, 'binding state restored from the previous run (the signalling refreshes it)');
    return out;
  }

  private loadSequences(): SequenceFile | undefined {
    const path = this.config.role === 'ha' ? this.config.ha?.persistSequence : false;
    if (!path) return undefined;
    this.sequenceFile = new PersistedJson(path, 'home agent sequence numbers', this.log);
    return this.sequenceFile.load(isSequenceFile) ?? undefined;
  }

  /** The MN's BUL (every entry, as the role reports it) -> the engine's bindings, and the state file. */
  private applyMnView(entries: readonly Pick<MnBindingView, 'peer' | 'home' | 'coa' | 'state' | 'deregistering'>[]): void {
    const next = new Map<string, { coa: string; state: 'bu-sent' | 'effective' }>();
    for (const b of entries) {
      if (b.home) continue; // the HA is reached through the tunnel; its MH rules do not depend on the binding
      this.engine.setMyBinding(b.peer, b.coa && !b.deregistering ? { coa: b.coa, state: b.state } : null);
      if (b.coa && !b.deregistering && b.state !== 'none') next.set(b.peer, { coa: b.coa, state: b.state });
    }
    for (const peer of this.mnBindings.keys()) if (!entries.some((b) => b.peer === peer)) this.engine.setMyBinding(peer, null);
    this.mnBindings = next;
    const coa = this.coa?.coa;
    if (this.mnBindingsFile && coa) this.mnBindingsFile.save(() => ({ coa, bindings: [...next].map(([peer, b]) => ({ peer, ...b })) }));
  }

  /**
   * The IPsec state iro-ctl owns: the static SAs and policies, plus the MN-HA tunnel protection
   * for the current CoA (MN) or each binding's CoA (HA), which moves with them (HAIPSEC I6/I7).
   */
  private desiredIpsec(): ReturnType<typeof mergeDesired> {
    const c = this.config;
    const coaOf = (hoa: string): string | null => {
      if (c.role === 'mn') return this.coa?.coa ?? null;
      if (c.role === 'ha') return this.haCoas.get(hoa) ?? null;
      return null;
    };
    return mergeDesired(toDesiredIpsec(c), tunnelProtection(c, coaOf));
  }

  /** Rules first (with whatever else changed, in one engine batch), then `beforePush`, then the SAs. */
  private async pushIpsec(alsoInBatch?: () => void, beforePush?: () => void): Promise<void> {
    const desired = this.desiredIpsec();
    this.engine.batch(() => {
      alsoInBatch?.();
      this.engine.expectSas(desired.sas.map(saInfoFromPush));
    });
    beforePush?.();
    await this.pusher.apply(desired);
  }

  /**
   * One push after a burst of binding changes: a push compares the whole owned SAD/SPD, so a
   * push per BU would make a home agent's BU rate depend on how many MNs it serves.
   */
  private schedulePush(): void {
    if (this.pushQueued) return;
    this.pushQueued = true;
    void this.queue.run('IPsec push after binding changes', async () => {
      this.pushQueued = false;
      await this.pushIpsec();
    });
  }

  // ---- the miss path ---------------------------------------------------------------------------

  /**
   * An outgoing ESP/AH packet whose SPI has no rule yet (its SA event has not arrived, or was
   * lost in an overrun) is dropped and reported by the data path; look the SA up in the kernel
   * and install its rules, so the flow's next packet passes (DESIGN decision 6, OP-18).
   */
  private startMissResolution(): void {
    const deps = { xfrm: this.watcher.xfrm, mirror: this.watcher.mirror, engine: this.engine };
    void resolveMisses(this.datapath.events(this.missAbort.signal), deps, (e, r) => this.onMissResolved(e, r)).catch((err: Error) => {
      if (!this.stopping) this.log.error({ error: err.message }, 'data path event stream failed: misses are no longer resolved');
    });
  }

  private onMissResolved(e: DatapathEvent, r: MissResolution | Error): void {
    const at = { spi: `0x${(e.spi >>> 0).toString(16)}`, src: e.src, dst: e.dst, ifindex: e.ifindex };
    if (r instanceof Error) {
      this.misses.failed++;
      this.log.warn({ ...at, error: r.message }, 'looking up the SA of a rule miss failed');
      return;
    }
    switch (r.outcome) {
      case 'resolved':
        this.misses.resolved++;
        this.log.info({ ...at, rule: r.ruleId }, 'rule miss resolved from the kernel SADB');
        this.updateMhPeers();
        break;
      case 'known':
        this.misses.known++;
        break;
      case 'no-sa':
        this.misses.noSa++;
        this.log.warn(at, 'rule miss: the kernel has no such SA');
        break;
      case 'untracked':
        this.misses.untracked++;
        // not dropped: traffic in the MN-HA tunnel while there is no binding (the normal fallback)
        this.log[e.dropped ? 'warn' : 'debug'](at, e.dropped ? 'rule miss: the SA exists but IRO derives no rule for it (dropped)' : 'no rule for this SPI: it goes through the tunnel');
        break;
      case 'ignored':
        break;
    }
  }

  private periodicResync(): void {
    if (this.stopping) return;
    const r = this.engine.resync();
    if (r.put || r.deleted) this.log.warn({ put: r.put, deleted: r.deleted }, 'the rule map had drifted from the rules (something else wrote to it): corrected');
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
    await this.attachTunnel();
  }

  /**
   * The MN-HA tunnel device gets both programs: egress sends tracked ESP/AH out directly
   * (OP-27); ingress restores what arrives through the HA with a peer's CoA as source, i.e. the
   * MH of another mobile node addressed to our HoA (MN-MN, OP-7: its BU goes to our HoA).
   */
  private async attachTunnel(): Promise<void> {
    if (!this.tunnel || !(await this.tunnel.ifindex())) return;
    for (const dir of ['ingress', 'egress'] as Direction[]) this.datapath.attach(this.tunnel.name, dir, { mode: this.config.datapath.attachMode });
  }

  // ---- inputs ------------------------------------------------------------------------------

  private onSaChanges(events: SaEvent[]): void {
    this.engine.batch(() => {
      if (events.some((e) => e.type.startsWith('policy-'))) this.engine.setPolicies(this.watcher.mirror.allPolicies());
      this.engine.onSaEvents(events);
    });
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
      .trackedWith(src)
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
    await this.attachTunnel();
    // One rule write batch per move, then the BUs: they need the rules for the new CoA, not the
    // tunnel SAs, whose push (hundreds of ms under load) would only delay them. The tunnel's
    // protection follows right after the BU registering the CoA ([HAIPSEC] I6, E07).
    await this.pushIpsec(
      () => this.engine.setCoa(choice.coa, choice.ifindex),
      () => this.dispatch({ type: 'movement', coa: choice.coa, atHome: choice.atHome }),
    );
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
    // HA: a binding to a new CoA first moves the MN's tunnel (and its SAs) there, then the BA
    // leaves. The BA goes to the CoA directly; sent at once it would register the MN while the
    // traffic the HA tunnels to it still goes to the old CoA (HAIPSEC I7).
    let afterTunnelMove = false;
    for (const a of actions) {
      if (a.type === 'binding-changed' && a.role === 'ha') this.engine.batch(() => (afterTunnelMove = this.onHaBindings(a) || afterTunnelMove));
    }
    for (const a of actions) {
      switch (a.type) {
        case 'send':
          if (afterTunnelMove) void this.queue.run(`${a.msg.kind} to ${a.dst} after the tunnel move`, () => this.sendMh(a));
          else this.sendMh(a);
          break;
        case 'counter':
          this.count(a.name);
          break;
        case 'log':
          this.log[a.level](a.fields, a.msg);
          break;
        case 'binding-changed':
          if (a.role !== 'ha') this.engine.batch(() => this.onBindings(a));
          break;
      }
    }
  }

  private sendMh(a: Extract<Mip6Action, { type: 'send' }>): void {
    try {
      this.mh.send(a);
    } catch (e) {
      this.count('mh-send-error');
      this.log.warn({ error: (e as Error).message, to: a.dst, kind: a.msg.kind }, 'sending a mobility header message failed');
    }
  }

  private onBindings(a: Extract<Mip6Action, { type: 'binding-changed' }>): void {
    if (a.role === 'mn') {
      this.applyMnView(a.bindings);
    } else if (a.role === 'cn') {
      for (const b of a.bindings) {
        this.engine.setPeerBinding(b.hoa, b.removed ? null : { acceptedCoa: b.acceptedCoa, ...(b.provenCoa ? { provenCoa: b.provenCoa } : {}) });
      }
    }
  }

  /** The HA's bindings; true when a tunnel moves to a new CoA (kernel work queued). */
  private onHaBindings(a: HaBindingsChanged): boolean {
    const ha = this.node.ha;
    if (ha) this.sequenceFile?.save(() => ha.lastSequences());
    let moved = false;
    for (const b of a.bindings) {
      this.engine.setHaBinding(b.hoa, b.removed ? null : { coa: b.coa });
      const before = this.haCoas.get(b.hoa);
      if (b.removed) this.haCoas.delete(b.hoa);
      else this.haCoas.set(b.hoa, b.coa);
      if (!b.removed && before === b.coa) continue; // a refresh: the kernel side is already right
      moved ||= !b.removed;
      void this.queue.run(`home binding ${b.hoa}`, () => this.homeBinding(b.hoa, b.removed ? null : b.coa));
      this.schedulePush(); // the tunnel to the MN goes to its new CoA (HAIPSEC I7, E06)
    }
    return moved;
  }

  /**
   * The HA's kernel side of one binding: proxy ND and the tunnel to the CoA, with the remap
   * program on the tunnel's egress. The HoA's route leads into the tunnel; the program sends
   * the BA and the other MH/MPD messages with rules to the CoA directly (IRO §7: remapping
   * rules instead of RH2) and leaves everything else in the tunnel.
   */
  private async homeBinding(hoa: string, coa: string | null): Promise<void> {
    const name = tunnelNameFor(hoa);
    if (!coa && this.datapath.attachments().some((x) => x.ifname === name)) this.datapath.detach(name, 'egress');
    await this.home!.setBinding(hoa, coa);
    if (coa) this.datapath.attach(name, 'egress', { mode: this.config.datapath.attachMode });
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
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    this.missAbort.abort();
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
    this.sequenceFile?.flush();
    if (o.keepKernelState) this.mnBindingsFile?.flush();
    else rmSync(join(this.config.state.dir, MN_BINDINGS_FILE), { force: true }); // nothing of it is left in the kernel
    this.watcher?.close();
    this.rt?.close();
    this.log.info({ keptKernelState: o.keepKernelState }, 'iro-ctl node stopped');
  }

  // ---- status ------------------------------------------------------------------------------------

  /** What iro-ctl pushed and `down` removes (incl. the MN-HA tunnel SAs, which no rule tracks); never keys. */
  private ownedSummary(): { sas: Array<Record<string, unknown>>; policies: number } {
    const d = this.desiredIpsec();
    return {
      sas: d.sas.map((s) => ({ proto: s.proto, spi: s.spi >>> 0, saddr: s.saddr, daddr: s.daddr, mode: s.mode })),
      policies: d.policies.length,
    };
  }

  status(): Record<string, unknown> {
    const rules = this.engine.rules().map(({ entry, reasons }) => ({ id: entry.id, rules: [entry.src, entry.dst].filter(Boolean), oif: entry.oif, reasons, counters: this.datapath.ruleCounters(entry.id) }));
    return {
      role: this.config.role,
      pid: process.pid,
      adoptedDatapath: this.datapath.adopted,
      firstSync: this.firstSync,
      firstPush: this.firstPush,
      uptimeSeconds: Math.round((Date.now() - this.startedAt) / 1000),
      coa: this.coa ? { coa: this.coa.coa, ifname: this.coa.ifname, atHome: this.coa.atHome, why: this.coa.why } : null,
      pfkey: this.watcher.pfkey ? 'on' : (this.watcher.pfkeyNotice ?? 'off'),
      mn: this.node.mn?.status(this.now()) ?? null,
      cn: this.node.cn?.status(this.now()) ?? null,
      ha: this.node.ha?.status(this.now()) ?? null,
      owned: this.ownedSummary(),
      sas: this.engine.trackedSas().map((t) => ({ sa: t.sa.key, saddr: t.sa.saddr, class: t.cls.cls, dir: t.cls.dir, peer: t.cls.peer?.address, why: t.cls.why })),
      rules,
      datapath: { counters: this.datapath.stats(), attachments: this.datapath.attachments(), misses: { ...this.misses } },
      signalling: { counters: Object.fromEntries(this.counters), mhDrops: Object.fromEntries(this.mh.drops) },
    };
  }
}
