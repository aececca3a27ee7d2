// Movement detection, the shell: reads links, addresses and default routes over rtnetlink,
// follows their events, and reports a new CoA choice when it changes (debounced, since one
// move is several events: link up, address, route).
import { EventEmitter } from 'node:events';
import { RtnetlinkClient } from '../kernel/rtnetlink/client.ts';
import { RtnetlinkMonitor } from '../kernel/rtnetlink/monitor.ts';
import { silentLogger, type Logger } from '../obs/log.ts';
import { sameChoice, selectCoa, type CoaChoice, type IfaceState } from './movement.ts';

const AF_INET6 = 10;
const IFF_UP = 0x1;
const IFF_LOWER_UP = 0x10000;

export interface MovementOptions {
  netns?: string;
  interfaces: string[];
  home: { prefix: string; prefixlen: number };
  hoas: string[];
  debounceMs?: number;
  log?: Logger;
}

export class MovementDetector extends EventEmitter<{ change: [CoaChoice]; error: [Error] }> {
  private readonly rt: RtnetlinkClient;
  private readonly mon: RtnetlinkMonitor;
  private timer: NodeJS.Timeout | null = null;
  private current: CoaChoice | null = null;
  private closed = false;
  private readonly log: Logger;

  private constructor(
    private readonly o: MovementOptions,
    rt: RtnetlinkClient,
    mon: RtnetlinkMonitor,
  ) {
    super();
    this.rt = rt;
    this.mon = mon;
    this.log = o.log ?? silentLogger;
    mon.on('event', () => this.schedule());
    mon.on('overrun', () => this.schedule());
    mon.on('error', (e) => this.emit('error', e));
  }

  static async open(o: MovementOptions): Promise<MovementDetector> {
    const mon = RtnetlinkMonitor.open(o.netns ? { netns: o.netns } : {});
    const rt = RtnetlinkClient.open(o.netns ? { netns: o.netns } : {});
    const d = new MovementDetector(o, rt, mon);
    d.current = await d.evaluate();
    return d;
  }

  /** The current choice. */
  get choice(): CoaChoice {
    return this.current!;
  }

  private schedule(): void {
    if (this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.evaluate().then(
        (c) => {
          if (this.closed || sameChoice(this.current, c)) return;
          this.current = c;
          this.log.info({ coa: c.coa, ifname: c.ifname, atHome: c.atHome, why: c.why }, 'movement');
          this.emit('change', c);
        },
        (e) => this.emit('error', e as Error),
      );
    }, this.o.debounceMs ?? 50);
  }

  /** Read the kernel state now and choose. */
  async evaluate(): Promise<CoaChoice> {
    const [links, addrs, routes] = await Promise.all([this.rt.listLinks(), this.rt.listAddresses({ family: AF_INET6 }), this.rt.listRoutes({ family: AF_INET6 })]);
    const state = new Map<string, IfaceState>();
    for (const l of links) {
      if (!this.o.interfaces.includes(l.name)) continue;
      state.set(l.name, {
        name: l.name,
        index: l.index,
        up: (l.flags & IFF_UP) !== 0 && (l.flags & IFF_LOWER_UP) !== 0,
        addresses: addrs.filter((a) => a.ifindex === l.index).map((a) => ({ address: a.address, prefixlen: a.prefixlen, flags: a.flags })),
        defaultRoute: routes.some((r) => r.dstLen === 0 && r.oif === l.index && (r.table === 254 || r.table === 0)),
      });
    }
    return selectCoa(this.o.interfaces, state, this.o.home, new Set(this.o.hoas));
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.mon.close();
    this.rt.close();
  }
}
