// A live topology: hosts by name, links by name, captures, and destroy(). Built by create().
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Capture, type CaptureOptions } from './capture.ts';
import { cleanupOwnerSync, releaseOwner, type Owner } from './cleanup.ts';
import type { BackgroundProcess } from './exec.ts';
import { Host } from './host.ts';
import { linkUpDown } from './commands.ts';
import type { TopologySpec } from './spec.ts';

export interface LinkEndRef<H extends string = string> {
  host: H;
  ifname: string;
}

export interface LinkInfo<H extends string = string> {
  name: string;
  ends: LinkEndRef<H>[];
  /** multi-access links: the bridge joining the ends, in the topology's switch namespace */
  bridge?: { ns: string; ifname: string };
}

/** Set IRO_KEEP_CAPTURES=1 to keep capture files after destroy() (their directory is printed). */
const keepCaptures = process.env.IRO_KEEP_CAPTURES === '1';

export class Topology<H extends string = string> {
  readonly id: string;
  readonly spec: TopologySpec<H>;
  readonly hosts: { readonly [K in H]: Host };
  readonly links: ReadonlyMap<string, LinkInfo<H>>;
  /** wall time of create(), ms */
  creationMs = 0;
  private readonly owner: Owner;
  private dir: string | null = null;
  private captureSeq = 0;
  private isDestroyed = false;

  constructor(id: string, spec: TopologySpec<H>, nsOf: (host: H) => string, links: Map<string, LinkInfo<H>>, owner: Owner) {
    this.id = id;
    this.spec = spec;
    this.owner = owner;
    this.links = links;
    const ctx = {
      track: (p: BackgroundProcess) => this.track(p),
      captureFile: (host: string, ifname: string) => this.captureFile(host, ifname),
      assertAlive: () => this.assertAlive(),
    };
    const hosts = {} as Record<H, Host>;
    for (const h of Object.keys(spec.hosts) as H[]) hosts[h] = new Host(h, nsOf(h), ctx);
    this.hosts = hosts;
  }

  get destroyed(): boolean {
    return this.isDestroyed;
  }

  host(name: H): Host {
    const h = this.hosts[name];
    if (!h) throw new Error(`topology ${this.id}: no host "${name}" (hosts: ${Object.keys(this.hosts).join(', ')})`);
    return h;
  }

  hostNames(): H[] {
    return Object.keys(this.hosts) as H[];
  }

  /** Every namespace this topology owns (hosts and, for multi-access links, the switch). */
  namespaces(): string[] {
    return [...this.owner.namespaces];
  }

  link(name: string): LinkInfo<H> {
    const l = this.links.get(name);
    if (!l) throw new Error(`topology ${this.id}: no link "${name}" (links: ${[...this.links.keys()].join(', ')})`);
    return l;
  }

  /** The interface `host` has on link `linkName`. */
  endOf(linkName: string, host: H): LinkEndRef<H> {
    const e = this.link(linkName).ends.find((x) => x.host === host);
    if (!e) throw new Error(`topology ${this.id}: host ${host} is not on link ${linkName}`);
    return e;
  }

  /** Admin state of every host end of a link (the kernel drops routes through a downed device). */
  setLinkUp(linkName: string, up: boolean): void {
    for (const e of this.link(linkName).ends) this.host(e.host).ip(...linkUpDown(e.ifname, up));
  }

  /**
   * Observe a link. `at` picks the host end to capture on; by default a multi-access link is
   * captured on its bridge (sees every end), a point-to-point link on its router end (or its
   * first end if no router is on it).
   */
  async capture(linkName: string, opts: CaptureOptions & { at?: H } = {}): Promise<Capture> {
    this.assertAlive();
    const l = this.link(linkName);
    if (opts.at !== undefined) {
      const e = this.endOf(linkName, opts.at);
      return this.host(e.host).capture(e.ifname, opts);
    }
    if (l.bridge) {
      const b = l.bridge;
      return Capture.start(b.ns, `switch(${linkName})`, b.ifname, this.captureFile(`link-${linkName}`, b.ifname), (p) => this.track(p), opts);
    }
    const routerEnd = l.ends.find((e) => this.spec.hosts[e.host].router) ?? l.ends[0]!;
    return this.host(routerEnd.host).capture(routerEnd.ifname, opts);
  }

  /** Stops every process started through the kit, then removes every namespace. Idempotent. */
  async destroy(): Promise<void> {
    if (this.isDestroyed) return;
    this.isDestroyed = true;
    await Promise.all([...this.owner.processes].map((p) => p.stop('SIGTERM', 1500).catch(() => undefined)));
    const left = cleanupOwnerSync(this.owner);
    releaseOwner(this.owner);
    this.removeDir();
    if (left.length) throw new Error(`topology ${this.id}: could not remove namespaces ${left.join(', ')}`);
  }

  /** For synchronous cleanup paths; prefer destroy(). */
  destroySync(): void {
    if (this.isDestroyed) return;
    this.isDestroyed = true;
    const left = cleanupOwnerSync(this.owner);
    releaseOwner(this.owner);
    this.removeDir();
    if (left.length) throw new Error(`topology ${this.id}: could not remove namespaces ${left.join(', ')}`);
  }

  private removeDir(): void {
    if (!this.dir) return;
    if (keepCaptures) process.stderr.write(`topology ${this.id}: captures kept in ${this.dir}\n`);
    else rmSync(this.dir, { recursive: true, force: true });
  }

  private track(p: BackgroundProcess): void {
    this.owner.processes.add(p);
    void p.wait().then(() => this.owner.processes.delete(p));
  }

  private captureFile(host: string, ifname: string): string {
    this.dir ??= mkdtempSync(join(tmpdir(), `${this.id}-`));
    this.captureSeq += 1;
    return join(this.dir, `${this.captureSeq}-${host}-${ifname}.pcap`);
  }

  private assertAlive(): void {
    if (this.isDestroyed) throw new Error(`topology ${this.id} was destroyed`);
  }
}
