// One host of a live topology: its namespace, commands run in it, and the changes a scenario
// makes while it runs (addresses, routes, rules, link state, netem, captures).
import { inNetns } from '../../../src/kernel/netns.ts';
import { batch, batchSync, toolArgv } from './batch.ts';
import { Capture, type CaptureOptions } from './capture.ts';
import { addrArgs, linkUpDown, qdiscDelRoot, routeArgs, ruleArgs, type Args } from './commands.ts';
import { BackgroundProcess, execAsync, execSync, type ExecOptions, type ExecResult, type SpawnOptions } from './exec.ts';
import { applyNetem } from './netem.ts';
import { ping, type PingOptions, type PingResult } from './ping.ts';
import { checkNetem, checkRoute, checkRule, normalizeCidr, type NetemSpec, type RouteSpec, type RuleSpec } from './spec.ts';
import { readSysctl, writeSysctls } from './sysctl.ts';

/** What a host needs from its topology (kept narrow so Host stays testable and small). */
export interface HostContext {
  track(p: BackgroundProcess): void;
  captureFile(host: string, ifname: string): string;
  assertAlive(): void;
}

export interface InterfaceInfo {
  ifname: string;
  ifindex: number;
  up: boolean;
  operstate: string;
  /** IPv6 addresses as CIDR, e.g. 2001:db8:a::100/64 (link-local included) */
  addrs: string[];
}

interface IpLinkJson {
  ifindex: number;
  ifname: string;
  flags?: string[];
  operstate?: string;
  addr_info?: Array<{ family: string; local: string; prefixlen: number; scope?: string; tentative?: boolean; dadfailed?: boolean }>;
}

export class Host {
  readonly name: string;
  readonly ns: string;
  private readonly ctx: HostContext;

  constructor(name: string, ns: string, ctx: HostContext) {
    this.name = name;
    this.ns = ns;
    this.ctx = ctx;
  }

  private get where(): string {
    return `host ${this.name} (netns ${this.ns})`;
  }

  /** Run argv inside the host (sync). Throws a CommandError unless opts.check === false. */
  exec(argv: readonly string[], opts?: ExecOptions): ExecResult {
    this.ctx.assertAlive();
    return execSync(this.ns, argv, this.where, opts);
  }

  /** Run argv inside the host (async). */
  run(argv: readonly string[], opts?: ExecOptions): Promise<ExecResult> {
    this.ctx.assertAlive();
    return execAsync(this.ns, argv, this.where, opts);
  }

  /** Start a long-running process inside the host; destroy() stops it if the test did not. */
  spawn(argv: readonly string[], opts?: SpawnOptions): BackgroundProcess {
    this.ctx.assertAlive();
    const p = new BackgroundProcess(this.ns, argv, this.where, opts);
    this.ctx.track(p);
    return p;
  }

  /** `ip -6 -n NS ...args` (no extra process for `ip netns exec`); returns stdout. */
  ip(...args: string[]): string {
    this.ctx.assertAlive();
    return execSync(null, [...toolArgv('ip', this.ns), ...args], this.where).stdout;
  }

  /** `ip -j -n NS ...args`, parsed (all families unless args start with -6). */
  ipJson<T = unknown>(...args: string[]): T {
    this.ctx.assertAlive();
    const out = execSync(null, ['ip', '-j', '-n', this.ns, ...args], this.where).stdout;
    return (out.trim() ? JSON.parse(out) : []) as T;
  }

  /** Several `ip` commands in one process; a failure names the line. */
  ipBatch(lines: Args[]): Promise<unknown> {
    this.ctx.assertAlive();
    return batch('ip', this.ns, lines, this.where);
  }

  /** `tc -n NS ...args`; returns stdout. */
  tc(...args: string[]): string {
    this.ctx.assertAlive();
    return execSync(null, ['tc', '-n', this.ns, ...args], this.where).stdout;
  }

  /** Read (no value) or write a sysctl in this host's namespace. */
  sysctl(key: string, value?: string | number): string {
    this.ctx.assertAlive();
    if (value === undefined) return readSysctl(this.ns, key, this.where);
    writeSysctls(this.ns, [[key, value]], this.where);
    return String(value);
  }

  /** Run synchronous code (open sockets, attach programs) with the thread in this namespace. */
  inNetns<T>(fn: () => T): T {
    this.ctx.assertAlive();
    return inNetns(this.ns, fn);
  }

  interfaces(): InterfaceInfo[] {
    return this.ipJson<IpLinkJson[]>('addr', 'show').map((l) => ({
      ifname: l.ifname,
      ifindex: l.ifindex,
      up: (l.flags ?? []).includes('UP'),
      operstate: l.operstate ?? 'UNKNOWN',
      addrs: (l.addr_info ?? []).filter((a) => a.family === 'inet6').map((a) => `${a.local}/${a.prefixlen}`),
    }));
  }

  private iface(ifname: string): IpLinkJson {
    const l = this.ipJson<IpLinkJson[]>('addr', 'show', 'dev', ifname)[0];
    if (!l) throw new Error(`${this.where}: no interface "${ifname}"`);
    return l;
  }

  ifindex(ifname: string): number {
    return this.iface(ifname).ifindex;
  }

  ifnameOf(ifindex: number): string {
    const l = this.ipJson<IpLinkJson[]>('link', 'show').find((x) => x.ifindex === ifindex);
    if (!l) throw new Error(`${this.where}: no interface with index ${ifindex}`);
    return l.ifname;
  }

  /** Global IPv6 addresses (CIDR) of one interface, or of all. */
  addresses(ifname?: string): string[] {
    const links = ifname ? [this.iface(ifname)] : this.ipJson<IpLinkJson[]>('addr', 'show');
    return links.flatMap((l) => (l.addr_info ?? []).filter((a) => a.family === 'inet6' && a.scope === 'global').map((a) => `${a.local}/${a.prefixlen}`));
  }

  /** Global addresses still tentative or failed DAD (should stay empty: the kit uses nodad). */
  notReadyAddresses(): string[] {
    return this.ipJson<IpLinkJson[]>('addr', 'show').flatMap((l) =>
      (l.addr_info ?? []).filter((a) => a.family === 'inet6' && a.scope === 'global' && (a.tentative || a.dadfailed)).map((a) => `${l.ifname}:${a.local}`),
    );
  }

  addAddress(ifname: string, cidr: string): void {
    this.ip(...addrArgs('add', normalizeCidr(`${this.where} ${ifname}`, cidr), ifname));
  }

  removeAddress(ifname: string, cidr: string): void {
    this.ip(...addrArgs('del', normalizeCidr(`${this.where} ${ifname}`, cidr), ifname));
  }

  addRoute(r: RouteSpec): void {
    checkRoute(`${this.where} route ${r.dst}`, r);
    this.ip(...routeArgs('add', r));
  }

  replaceRoute(r: RouteSpec): void {
    checkRoute(`${this.where} route ${r.dst}`, r);
    this.ip(...routeArgs('replace', r));
  }

  removeRoute(r: RouteSpec): void {
    this.ip(...routeArgs('del', r));
  }

  addRule(r: RuleSpec): void {
    checkRule(`${this.where} rule`, r);
    this.ip(...ruleArgs('add', r));
  }

  removeRule(r: RuleSpec): void {
    this.ip(...ruleArgs('del', r));
  }

  setUp(ifname: string, up: boolean): void {
    this.ip(...linkUpDown(ifname, up));
  }

  /** Several changes at once (e.g. a move): lines are ip argument lists, run in one process. */
  applySync(lines: Args[]): void {
    this.ctx.assertAlive();
    batchSync('ip', this.ns, lines, this.where);
  }

  /** Put netem on the egress of `ifname` (replacing any), or remove it with null. */
  async setNetem(ifname: string, spec: NetemSpec | null): Promise<void> {
    this.ctx.assertAlive();
    if (spec === null) {
      this.tc(...qdiscDelRoot(ifname));
      return;
    }
    checkNetem(`${this.where} ${ifname}`, spec);
    await applyNetem(this.ns, [[ifname, spec]], `${this.where} ${ifname}`, 'replace');
  }

  ping(dst: string, opts?: PingOptions): Promise<PingResult> {
    this.ctx.assertAlive();
    return ping(this.ns, this.name, dst, opts);
  }

  /** Start tcpdump on one of this host's interfaces; stop() returns the decoded packets. */
  capture(ifname: string, opts?: CaptureOptions): Promise<Capture> {
    this.ctx.assertAlive();
    return Capture.start(this.ns, this.name, ifname, this.ctx.captureFile(this.name, ifname), (p) => this.ctx.track(p), opts);
  }
}
