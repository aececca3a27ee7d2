// The one SA event stream (issue 3 item 4): XFRM netlink (and PF_KEY, when available) feed the
// SADB mirror; the rest of iro-ctl learns about SAs only from the `changes` events here.
// Startup: subscribe first, then dump, then replay what arrived meanwhile, so nothing is lost
// between the dump and the subscription. An overrun (ENOBUFS) or a flush triggers a resync.
import { EventEmitter } from 'node:events';
import { XfrmClient } from '../kernel/xfrm/client.ts';
import { XfrmMonitor } from '../kernel/xfrm/monitor.ts';
import type { XfrmMessage } from '../kernel/xfrm/model.ts';
import { silentLogger, type Logger } from '../obs/log.ts';
import { SadbMirror, type BackendChange } from './mirror.ts';
import type { PolicyInfo, SaEvent, SaInfo } from './model.ts';
import { changesFromXfrm, policyFromXfrm, saFromXfrm, type AdapterOutput } from './xfrm-adapter.ts';
import { changesFromPfkey } from './pfkey-adapter.ts';
import { PfkeyClient } from '../kernel/pfkey/client.ts';
import { isPfkeyUnavailable } from '../kernel/pfkey/errors.ts';

export interface WatcherOptions {
  /** network namespace (ip netns name) to watch; default: the current one */
  netns?: string;
  log?: Logger;
  kernelRcvBuf?: number;
  /** PF_KEY as a second source: auto (if af_key is there), on (required), off */
  pfkey?: 'auto' | 'on' | 'off';
  /** PF_KEY promiscuous mode, to see other key managers' GETSPI replies (OP-18 b) */
  pfkeyPromiscuous?: boolean;
}

export interface WatcherEvents {
  changes: [SaEvent[]];
  error: [Error];
}

/** Something that can add changes to the stream (the PF_KEY side plugs in here). */
export interface ChangeSource {
  close(): void;
}

export class IpsecWatcher extends EventEmitter<WatcherEvents> {
  readonly mirror = new SadbMirror();
  private readonly client: XfrmClient;
  private readonly monitor: XfrmMonitor;
  private readonly log: Logger;
  private readonly extra: ChangeSource[] = [];
  private buffering: XfrmMessage[] | null = [];
  private resyncing: Promise<void> | null = null;
  private resyncAgain = false;
  private closed = false;
  private pfkeyClient: PfkeyClient | null = null;
  resyncCount = 0;
  /** why PF_KEY is not used, when it is not */
  pfkeyNotice: string | null = null;
  /** resolves once PF_KEY has joined (or was found missing) in auto mode */
  pfkeyReady: Promise<void> = Promise.resolve();

  private constructor(client: XfrmClient, monitor: XfrmMonitor, log: Logger) {
    super();
    this.client = client;
    this.monitor = monitor;
    this.log = log;
    monitor.on('event', (m) => {
      if (this.buffering) this.buffering.push(m);
      else this.handle(changesFromXfrm(m));
    });
    monitor.on('overrun', () => this.requestResync('xfrm events lost (ENOBUFS)'));
    monitor.on('error', (e) => this.emit('error', e));
  }

  static async open(o: WatcherOptions = {}): Promise<IpsecWatcher> {
    const log = o.log ?? silentLogger;
    const monitor = XfrmMonitor.open({ ...(o.netns ? { netns: o.netns } : {}), ...(o.kernelRcvBuf ? { kernelRcvBuf: o.kernelRcvBuf } : {}) });
    let client: XfrmClient;
    try {
      client = XfrmClient.open(o.netns ? { netns: o.netns } : {});
    } catch (e) {
      monitor.close();
      throw e;
    }
    const w = new IpsecWatcher(client, monitor, log);
    try {
      const { sas, policies } = await w.dump();
      // no listener yet: the initial picture is read from the mirror by whoever starts the engine
      w.mirror.replace({ sas, policies }, 'xfrm');
      const buffered = w.buffering ?? [];
      w.buffering = null;
      for (const m of buffered) w.mirror.applyAll(changesFromXfrm(m).filter(isChange));
      // PF_KEY's first REGISTER makes the kernel probe every algorithm (tens of seconds on a
      // busy machine): in auto mode the stream starts on XFRM and PF_KEY joins when ready.
      const mode = o.pfkey ?? 'auto';
      if (mode === 'on') await w.attachPfkey(o);
      else if (mode === 'auto')
        w.pfkeyReady = w.attachPfkey(o).catch((e: Error) => {
          w.emit('error', e);
        });
    } catch (e) {
      w.close();
      throw e;
    }
    return w;
  }

  private async attachPfkey(o: WatcherOptions): Promise<void> {
    try {
      const c = await PfkeyClient.open({ ...(o.netns ? { netns: o.netns } : {}), ...(o.pfkeyPromiscuous ? { promiscuous: true } : {}), registerTimeoutMs: 180_000 });
      if (this.closed) {
        c.close();
        return;
      }
      this.pfkeyClient = c;
      c.onEvent((e) => this.handle(changesFromPfkey(e)));
      this.log.info({}, 'PF_KEY joined the SA event stream');
    } catch (e) {
      if (o.pfkey === 'on' || !isPfkeyUnavailable(e)) throw e;
      this.pfkeyNotice = `${(e as Error).message}: tracking SAs through XFRM netlink only`;
      this.log.warn({}, this.pfkeyNotice);
    }
  }

  /** The PF_KEY client when PF_KEY is in use. */
  get pfkey(): PfkeyClient | null {
    return this.pfkeyClient;
  }

  /** The current picture as events, to start a consumer (the engine) from the mirror. */
  initialEvents(): SaEvent[] {
    return [
      ...this.mirror.allPolicies().map((policy) => ({ type: 'policy-added' as const, policy })),
      ...this.mirror.allSas().map((sa) => ({ type: 'sa-added' as const, sa })),
    ];
  }

  /** Attach another source of changes (PF_KEY); its changes go through the same mirror. */
  addSource(src: ChangeSource): (changes: BackendChange[]) => void {
    this.extra.push(src);
    return (changes) => this.handle(changes);
  }

  /** The XFRM client, for lookups (e.g. resolving a miss by GETSA). */
  get xfrm(): XfrmClient {
    return this.client;
  }

  private async dump(): Promise<{ sas: SaInfo[]; policies: PolicyInfo[] }> {
    for (let attempt = 0; ; attempt++) {
      const [s, p] = await Promise.all([this.client.dumpSas(), this.client.dumpPolicies()]);
      if ((!s.interrupted && !p.interrupted) || attempt >= 3) {
        if (s.interrupted || p.interrupted) this.log.warn({}, 'xfrm dump still inconsistent after retries; using it');
        return {
          sas: s.items.map(saFromXfrm).filter((x): x is SaInfo => x !== null),
          policies: p.items.map(policyFromXfrm).filter((x): x is PolicyInfo => x !== null),
        };
      }
    }
  }

  private handle(out: AdapterOutput[]): void {
    const events: SaEvent[] = [];
    for (const c of out) {
      if (c.kind === 'resync') this.requestResync(c.reason);
      else events.push(...this.mirror.apply(c));
    }
    if (events.length) this.emit('changes', events);
  }

  /** Dump and diff (after lost events or a flush); concurrent requests coalesce. */
  requestResync(reason: string): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.resyncing) {
      this.resyncAgain = true;
      return this.resyncing;
    }
    this.resyncing = (async () => {
      do {
        this.resyncAgain = false;
        this.resyncCount++;
        this.log.warn({ reason }, 'resyncing the SA mirror from a dump');
        this.emit('changes', [{ type: 'resync-needed', source: 'xfrm', reason }]);
        try {
          const snap = await this.dump();
          const events = this.mirror.replace(snap, 'xfrm');
          if (events.length) this.emit('changes', events);
        } catch (e) {
          if (!this.closed) this.emit('error', e as Error);
        }
      } while (this.resyncAgain && !this.closed);
      this.resyncing = null;
    })();
    return this.resyncing;
  }

  setRef(ref: boolean): void {
    this.monitor.setRef(ref);
  }

  close(): void {
    this.closed = true;
    for (const s of this.extra) s.close();
    this.pfkeyClient?.close();
    this.monitor.close();
    this.client.close();
  }
}

function isChange(c: AdapterOutput): c is BackendChange {
  return c.kind !== 'resync';
}
