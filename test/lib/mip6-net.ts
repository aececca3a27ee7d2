// An in-memory network for the mobility state machines: the send actions of one node become the
// mh-received events of another, with the on-wire addresses the IRO data path would produce.
// Every message goes through the MH codec (encode, then decode) so only wire-valid messages get
// across. Packets can be lost, duplicated and delayed (hence reordered) by a seeded PRNG. A
// mobile node owns its CoA and candidates while away, its HoA at home; a packet whose on-wire
// source is not owned by its sender, or whose on-wire destination is not owned by the receiver
// when it arrives, is dropped (ingress filtering / nobody there). HoA-addressed traffic of an
// away MN goes "through the HA tunnel" whenever the MN has a CoA.
import { decodeMh, encodeMh } from '../../src/mip6/codec/index.ts';
import { Mip6Runner } from '../../src/mip6/timers/driver.ts';
import type { TimerScheduler } from '../../src/mip6/timers/scheduler.ts';
import type { Mip6Action, Mip6Event, Mip6Role, SendAction } from '../../src/mip6/types.ts';

export interface RoleWithScheduler extends Mip6Role {
  readonly scheduler: TimerScheduler;
}

export interface NetNode {
  name: string;
  runner: Mip6Runner;
  /** HoA-level addresses this node answers to (its fixed address, or its HoA). */
  identity: string;
  mobile: boolean;
  coa: string | null;
  atHome: boolean;
  candidates: string[];
  /** Every action of every step, with its time. */
  actions: Array<{ at: number; action: Mip6Action }>;
}

export interface Delivered {
  at: number;
  from: string;
  to: string;
  action: SendAction;
  onWireSrc: string;
  onWireDst: string;
}

export interface Dropped {
  at: number;
  from: string;
  action: SendAction;
  why: 'loss' | 'no-route' | 'src-not-owned' | 'dst-not-owned' | 'codec';
}

/** mulberry32: small, fast, good enough for test schedules. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface InFlight {
  at: number;
  order: number;
  to: NetNode;
  from: string;
  action: SendAction;
  onWireSrc: string;
  onWireDst: string;
  bytes: Buffer;
}

export class MemNet {
  time = 0;
  loss = 0;
  dup = 0;
  minDelay = 10;
  maxDelay = 10;
  readonly nodes = new Map<string, NetNode>();
  readonly delivered: Delivered[] = [];
  readonly dropped: Dropped[] = [];
  private inflight: InFlight[] = [];
  private order = 0;
  private readonly rand: () => number;

  constructor(seed = 1) {
    this.rand = prng(seed);
  }

  addFixed(name: string, role: RoleWithScheduler, address: string): NetNode {
    return this.add(name, role, address, false);
  }

  addMobile(name: string, role: RoleWithScheduler, hoa: string): NetNode {
    return this.add(name, role, hoa, true);
  }

  node(name: string): NetNode {
    const n = this.nodes.get(name);
    if (!n) throw new Error(`no node ${name}`);
    return n;
  }

  /** Move a mobile node and tell it (movement event). */
  move(name: string, where: { coa: string | null; atHome?: boolean; candidates?: string[] }): Mip6Action[] {
    const n = this.node(name);
    n.coa = where.coa;
    n.atHome = where.atHome ?? false;
    n.candidates = where.candidates ?? [];
    return this.dispatch(name, { type: 'movement', coa: where.coa, atHome: n.atHome, candidates: n.candidates });
  }

  /** Hand an event to a node now; its actions are processed (sends go on the network). */
  dispatch(name: string, event: Mip6Event): Mip6Action[] {
    const n = this.node(name);
    const actions = n.runner.dispatch(event, this.time);
    this.process(n, actions);
    return actions;
  }

  /** Run every packet and timer up to `until` (absolute ms), in time order. */
  runUntil(until: number): void {
    for (;;) {
      const nextPacket = this.inflight.length > 0 ? this.inflight[0]!.at : Infinity;
      let nextTimer = Infinity;
      let timerNode: NetNode | undefined;
      for (const n of this.nodes.values()) {
        const d = n.runner.nextDeadline();
        if (d !== undefined && d < nextTimer) {
          nextTimer = d;
          timerNode = n;
        }
      }
      const t = Math.min(nextPacket, nextTimer);
      if (t > until || t === Infinity) break;
      this.time = Math.max(this.time, t);
      if (nextTimer <= nextPacket && timerNode) {
        this.process(timerNode, timerNode.runner.advanceTo(this.time));
      } else {
        const p = this.inflight.shift()!;
        this.deliver(p);
      }
    }
    this.time = Math.max(this.time, until);
  }

  run(ms: number): void {
    this.runUntil(this.time + ms);
  }

  /** Actions of one node (optionally only since `from` ms). */
  actionsOf(name: string, from = -Infinity): Mip6Action[] {
    return this.node(name)
      .actions.filter((a) => a.at >= from)
      .map((a) => a.action);
  }

  sendsOf(name: string, from = -Infinity): SendAction[] {
    return this.actionsOf(name, from).filter((a): a is SendAction => a.type === 'send');
  }

  private add(name: string, role: RoleWithScheduler, identity: string, mobile: boolean): NetNode {
    const n: NetNode = {
      name,
      identity,
      mobile,
      coa: null,
      atHome: false,
      candidates: [],
      actions: [],
      runner: undefined as unknown as Mip6Runner,
    };
    n.runner = new Mip6Runner(role, role.scheduler, (actions, at) => {
      for (const action of actions) n.actions.push({ at, action });
    });
    this.nodes.set(name, n);
    return n;
  }

  private owns(n: NetNode, addr: string): boolean {
    if (!n.mobile) return addr === n.identity;
    if (n.atHome) return addr === n.identity;
    return addr === n.coa || n.candidates.includes(addr);
  }

  /** Can `n` be reached / send at its HoA-level identity right now (home link or HA tunnel)? */
  private connected(n: NetNode): boolean {
    return !n.mobile || n.atHome || n.coa !== null;
  }

  private process(from: NetNode, actions: Mip6Action[]): void {
    for (const a of actions) if (a.type === 'send') this.send(from, a);
  }

  private send(from: NetNode, a: SendAction): void {
    const drop = (why: Dropped['why']): void => {
      this.dropped.push({ at: this.time, from: from.name, action: a, why });
    };
    const onWireSrc = a.onWireSrc ?? a.src;
    if (a.onWireSrc !== undefined ? !this.owns(from, onWireSrc) : a.src !== from.identity || !this.connected(from)) {
      return drop('src-not-owned');
    }
    const to = [...this.nodes.values()].find((n) => n.identity === a.dst);
    if (to === undefined) return drop('no-route');
    let bytes: Buffer;
    try {
      bytes = encodeMh(a.msg);
    } catch {
      return drop('codec');
    }
    const copies = this.rand() < this.dup ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      if (this.rand() < this.loss) {
        drop('loss');
        continue;
      }
      const delay = this.minDelay + Math.floor(this.rand() * (this.maxDelay - this.minDelay + 1));
      const p: InFlight = { at: this.time + delay, order: this.order++, to, from: from.name, action: a, onWireSrc, onWireDst: a.onWireDst ?? a.dst, bytes };
      this.inflight.push(p);
    }
    this.inflight.sort((x, y) => x.at - y.at || x.order - y.order);
  }

  private deliver(p: InFlight): void {
    const a = p.action;
    if (a.onWireDst !== undefined ? !this.owns(p.to, a.onWireDst) : !this.connected(p.to)) {
      this.dropped.push({ at: this.time, from: p.from, action: a, why: 'dst-not-owned' });
      return;
    }
    const decoded = decodeMh(p.bytes);
    if (!decoded.ok) {
      this.dropped.push({ at: this.time, from: p.from, action: a, why: 'codec' });
      return;
    }
    this.delivered.push({ at: this.time, from: p.from, to: p.to.name, action: a, onWireSrc: p.onWireSrc, onWireDst: p.onWireDst });
    const ev: Mip6Event = {
      type: 'mh-received',
      msg: decoded.msg,
      src: a.src,
      dst: a.dst,
      onWireSrc: a.onWireSrc !== undefined && a.onWireSrc !== a.src ? a.onWireSrc : '::',
      onWireDst: a.onWireDst !== undefined && a.onWireDst !== a.dst ? a.onWireDst : '::',
      sa: { proto: 'esp', spi: 0x1000 },
    };
    this.process(p.to, p.to.runner.dispatch(ev, this.time));
  }
}
