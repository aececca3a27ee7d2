// One node, several roles (DIGEST OP-7): an MN also runs the CN role for its peer MNs, an HA may
// be a CN too. Each MH goes to the role that receives that message type; each timer to the role
// whose prefix it carries; all roles share one scheduler.
import { BeStatus, type BindingError } from './codec/index.ts';
import { parseIPv6 } from '../common/ipv6.ts';
import { CorrespondentNode } from './cn/correspondent-node.ts';
import type { CnOptions } from './cn/options.ts';
import { HomeAgent } from './ha/home-agent.ts';
import type { HaOptions } from './ha/options.ts';
import { MobileNode } from './mn/mobile-node.ts';
import type { MnOptions } from './mn/options.ts';
import { Output } from './output.ts';
import { TimerScheduler } from './timers/scheduler.ts';
import { UNCHANGED, type MhReceivedEvent, type Mip6Action, type Mip6Event, type Mip6Role } from './types.ts';

export interface Mip6NodeOptions {
  mn?: MnOptions;
  cn?: CnOptions;
  ha?: HaOptions;
  /** Least time (ms) between two BEs for unknown MH types (RFC 6275 §9.2 rate limit; 1000). */
  beMinInterval?: number;
}

/** Which role receives each message kind. */
const RECEIVER = {
  ba: 'mn',
  aotc: 'mn',
  aots: 'mn',
  brr: 'mn',
  be: 'mn',
  aoto: 'cn',
  aotr: 'cn',
} as const;

export class Mip6Node implements Mip6Role {
  readonly scheduler = new TimerScheduler();
  readonly mn: MobileNode | undefined;
  readonly cn: CorrespondentNode | undefined;
  readonly ha: HomeAgent | undefined;
  private readonly beMinInterval: number;
  private lastBeAt = -Infinity;

  constructor(options: Mip6NodeOptions) {
    if (!options.mn && !options.cn && !options.ha) throw new Error('mobility node: configure at least one of the mn, cn and ha roles');
    this.mn = options.mn && new MobileNode(options.mn, this.scheduler);
    this.cn = options.cn && new CorrespondentNode(options.cn, this.scheduler);
    this.ha = options.ha && new HomeAgent(options.ha, this.scheduler);
    this.beMinInterval = options.beMinInterval ?? 1000;
  }

  handle(event: Mip6Event, now: number): Mip6Action[] {
    switch (event.type) {
      case 'timer': {
        const role = event.key.startsWith('mn:') ? this.mn : event.key.startsWith('cn:') ? this.cn : event.key.startsWith('ha:') ? this.ha : undefined;
        return role?.handle(event, now) ?? [];
      }
      case 'movement':
      case 'peer-mh-sa':
        return this.mn?.handle(event, now) ?? [];
      case 'shutdown':
        return [this.mn, this.cn, this.ha].flatMap((r) => r?.handle(event, now) ?? []);
      case 'mh-received':
        return this.route(event, now);
    }
  }

  private route(ev: MhReceivedEvent, now: number): Mip6Action[] {
    const msg = ev.msg;
    switch (msg.kind) {
      case 'bu': {
        // H set: home registration (a CN-only node answers 131); H clear: correspondent registration.
        const role = msg.home ? (this.ha ?? this.cn) : (this.cn ?? this.ha);
        return role ? role.handle(ev, now) : this.noRole(ev);
      }
      case 'hoti':
      case 'coti':
      case 'hot':
      case 'cot': {
        const o = new Output();
        o.count('node-rr-unsupported');
        o.log('debug', 'return routability message ignored (IRO peers only, OP-29)', { src: ev.src, kind: msg.kind });
        return o.actions;
      }
      case 'unknown':
        return this.unknownType(ev, msg.mhType, now);
      default: {
        const role = RECEIVER[msg.kind] === 'mn' ? this.mn : this.cn;
        return role ? role.handle(ev, now) : this.noRole(ev);
      }
    }
  }

  private noRole(ev: MhReceivedEvent): Mip6Action[] {
    const o = new Output();
    o.count('node-no-role');
    o.log('debug', 'MH for a role this node does not run', { src: ev.src, kind: ev.msg.kind });
    return o.actions;
  }

  /** RFC 6275 §9.2: an unrecognised MH Type gets a BE status 2, rate-limited. */
  private unknownType(ev: MhReceivedEvent, mhType: number, now: number): Mip6Action[] {
    const o = new Output();
    o.count('node-unknown-mh-type');
    if (now - this.lastBeAt < this.beMinInterval) {
      o.count('node-be-rate-limited');
      return o.actions;
    }
    this.lastBeAt = now;
    // The Home Address field carries what a HAO would have (under IRO: the remapped source).
    const remapped = ev.onWireSrc !== UNCHANGED;
    const be: BindingError = {
      kind: 'be',
      status: BeStatus.UNRECOGNIZED_MH_TYPE,
      homeAddress: parseIPv6(remapped ? ev.src : UNCHANGED),
      options: [],
    };
    o.log('debug', 'unrecognised MH type: Binding Error sent', { src: ev.src, mhType });
    o.send(be, ev.dst, ev.src);
    return o.actions;
  }
}
