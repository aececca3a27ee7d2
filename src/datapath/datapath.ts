// The data path as one object: load or adopt the pinned programs and maps, attach them to
// interfaces, and manage rules, configuration, membership sets, the ancillary channel,
// counters and miss events.
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, rmdirSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { formatIPv6, parseIPv6 } from '../common/ipv6.ts';
import { native, projectRoot } from '../kernel/native.ts';
import { inNetns } from '../kernel/netns.ts';
import {
  abiDifferences,
  ANC_IN_SIZE,
  CfgFlag,
  decodeAncIn,
  decodeConfig,
  decodeEvent,
  decodeRuleKey,
  decodeRuleValue,
  Dir,
  encodeAncInKey,
  encodeAncOut,
  encodeConfig,
  encodeRuleKey,
  encodeRuleValue,
  IPPROTO_AH,
  markShift,
  MissPolicy,
  RULE_KEY_SIZE,
  RULE_SIZE,
  RuleFlag,
  STAT_NAMES,
  sumRuleCounters,
  type AncInRecord,
  type DatapathConfig,
  type DatapathEvent,
  type RuleCounters,
  type RuleValue,
  type StatName,
} from './abi.ts';
import { attachProgram, attachedProgramId, destroyClsact, removeClsactFilter, removeTcxLink, type AttachMode, type AttachSpec, type Direction } from './attach.ts';
import { BpfMap, BpfObject, BpfProgram, BPF_ANY } from './bpf.ts';
import { CLSACT_HANDLE, CLSACT_PRIORITY, DEFAULT_PIN_DIR, DEFAULT_STATE_FILE, MAP_NAMES, PROGRAM_NAMES, pinPaths, type MapName, type ProgramName } from './layout.ts';
import { ruleKeyId, writeEntryKey, writeEntryValue, type RemapRule, type RuleEntry } from './rules.ts';

export interface DatapathOptions {
  objectPath?: string;
  pinDir?: string;
  stateFile?: string;
  /** rule map capacity (and per-rule counter slots); only used when loading fresh */
  ruleCapacity?: number;
  peerCapacity?: number;
  /** load the object even if pinned programs exist (upgrade); pinned maps are kept */
  reload?: boolean;
}

export interface Attachment {
  ifname: string;
  ifindex: number;
  /** inode of the network namespace the interface lives in (ifindexes are per namespace) */
  netnsInode: number;
  direction: Direction;
  mode: AttachMode;
  l3: boolean;
  program: ProgramName;
  createdQdisc: boolean;
}

interface StateFile {
  attachments: Attachment[];
}

export interface ConfigUpdate {
  missPolicy?: 'drop' | 'pass';
  markMask?: number;
  eventOnMismatch?: boolean;
  ancillaryInMark?: boolean;
  /** MN away from home: drop what would leave an Ethernet device with a HoA as source */
  hoaGuard?: boolean;
  missEventIntervalMs?: number;
  fragmentTtlMs?: number;
}

export const DEFAULT_CONFIG: DatapathConfig = {
  missPolicy: MissPolicy.Drop,
  flags: CfgFlag.AncInMark,
  markMask: 0x00ff0000,
  missIntervalNs: 1_000_000_000n,
  fragTtlNs: 60_000_000_000n,
};

/** ARPHRD types whose packets start with an Ethernet header at tc. */
const L2_HWTYPES = new Set([1 /* ETHER */, 772 /* LOOPBACK */]);

export function defaultObjectPath(): string {
  return join(projectRoot(), 'build', 'bpf', 'iro_remap.o');
}

export class Datapath {
  readonly maps: Record<MapName, BpfMap>;
  readonly programs: Record<ProgramName, BpfProgram>;
  /** true when programs and maps were adopted from pins (a restart), not freshly loaded */
  readonly adopted: boolean;
  private readonly paths: ReturnType<typeof pinPaths>;
  private readonly stateFile: string;
  private readonly slots = new Map<string, number>();
  private free: number[] = [];
  private nextSlot = 0;
  private readonly slotCapacity: number;
  private closed = false;

  private constructor(args: {
    maps: Record<MapName, BpfMap>;
    programs: Record<ProgramName, BpfProgram>;
    adopted: boolean;
    paths: ReturnType<typeof pinPaths>;
    stateFile: string;
  }) {
    this.maps = args.maps;
    this.programs = args.programs;
    this.adopted = args.adopted;
    this.paths = args.paths;
    this.stateFile = args.stateFile;
    this.slotCapacity = this.maps.iro_rule_stats.info.maxEntries;
    this.rebuildSlots();
  }

  /** Load the data path, or adopt the pinned one left by an earlier run (traffic is not disturbed). */
  static open(opts: DatapathOptions = {}): Datapath {
    const objectPath = opts.objectPath ?? defaultObjectPath();
    const paths = pinPaths(opts.pinDir ?? DEFAULT_PIN_DIR);
    const stateFile = opts.stateFile ?? DEFAULT_STATE_FILE;
    ensureBpffs(paths.dir);
    for (const d of [paths.dir, paths.maps, paths.progs, paths.links]) mkdirSync(d, { recursive: true });

    const obj = BpfObject.open(objectPath);
    const opened: BpfMap[] = [];
    try {
      const diffs = abiDifferences(obj.btf());
      if (diffs.length) throw new Error(`BPF object ${objectPath} does not match the TypeScript ABI:\n  ${diffs.join('\n  ')}`);
      const pinnedMaps = MAP_NAMES.filter((m) => existsSync(paths.map(m)));
      const pinnedProgs = PROGRAM_NAMES.filter((p) => existsSync(paths.prog(p)));
      if (pinnedMaps.length === MAP_NAMES.length && pinnedProgs.length === PROGRAM_NAMES.length && !opts.reload) {
        const maps = {} as Record<MapName, BpfMap>;
        for (const m of MAP_NAMES) opened.push((maps[m] = BpfMap.fromPin(paths.map(m), m)));
        checkPinnedMaps(maps);
        const programs = {} as Record<ProgramName, BpfProgram>;
        for (const p of PROGRAM_NAMES) programs[p] = BpfProgram.fromPin(paths.prog(p), p);
        return new Datapath({ maps, programs, adopted: true, paths, stateFile });
      }
      // Fresh load; keep any pinned maps (their rules and counters) so an upgrade loses nothing.
      const reuse = new Map<MapName, BpfMap>();
      for (const m of pinnedMaps) {
        const pm = BpfMap.fromPin(paths.map(m), m);
        opened.push(pm);
        reuse.set(m, pm);
        obj.reuseMap(m, pm);
      }
      const cap = opts.ruleCapacity ?? 65536;
      if (!reuse.has('iro_rules')) obj.setMaxEntries('iro_rules', cap);
      if (!reuse.has('iro_rule_stats')) obj.setMaxEntries('iro_rule_stats', cap);
      if (!reuse.has('iro_peers') && opts.peerCapacity) obj.setMaxEntries('iro_peers', opts.peerCapacity);
      obj.load();
      const maps = {} as Record<MapName, BpfMap>;
      for (const m of MAP_NAMES) {
        const existing = reuse.get(m);
        if (existing) maps[m] = existing;
        else {
          const fresh = obj.map(m);
          opened.push(fresh);
          fresh.pin(paths.map(m));
          maps[m] = fresh;
        }
      }
      if (!reuse.has('iro_cfg')) maps.iro_cfg.update(u32Key(0), encodeConfig(DEFAULT_CONFIG));
      const programs = {} as Record<ProgramName, BpfProgram>;
      for (const p of PROGRAM_NAMES) {
        programs[p] = obj.program(p);
        if (existsSync(paths.prog(p))) unlinkSync(paths.prog(p));
        programs[p].pin(paths.prog(p));
      }
      const dp = new Datapath({ maps, programs, adopted: false, paths, stateFile });
      // An upgrade moves existing attachments to the new programs atomically.
      for (const a of dp.attachments()) withNetnsOf(a.netnsInode, () => dp.attach(a.ifname, a.direction, { mode: a.mode }));
      return dp;
    } catch (e) {
      for (const m of opened) m.close();
      throw e;
    } finally {
      obj.close();
    }
  }

  // ---- attachment ----------------------------------------------------------------------

  /** Attach to an interface of the current network namespace; L2 vs L3 is read from the link type. */
  attach(ifname: string, direction: Direction, opts: { mode?: 'auto' | AttachMode } = {}): Attachment {
    const n = native();
    const ifindex = n.ifNameToIndex(ifname);
    if (!ifindex) throw new Error(`attach ${direction} of ${ifname}: no such interface`);
    const l3 = !L2_HWTYPES.has(n.ifHwType(ifname));
    const program: ProgramName = direction === 'ingress' ? (l3 ? 'iro_ingress_l3' : 'iro_ingress') : l3 ? 'iro_egress_l3' : 'iro_egress';
    const spec = this.spec(ifname, ifindex, direction);
    const state = this.readState();
    // qdisc ownership belongs to the interface: inherited by every hook of ours on it
    const here = currentNetnsInode();
    const ownsQdisc = state.attachments.some((a) => a.ifindex === ifindex && a.netnsInode === here && a.createdQdisc);
    const r = attachProgram(this.programs[program], spec, opts.mode ?? 'auto');
    const netnsInode = currentNetnsInode();
    const att: Attachment = { ifname, ifindex, netnsInode, direction, mode: r.mode, l3, program, createdQdisc: r.createdQdisc || ownsQdisc };
    state.attachments = state.attachments.filter((a) => !(a.ifname === ifname && a.direction === direction && a.netnsInode === netnsInode));
    state.attachments.push(att);
    this.writeState(state);
    return att;
  }

  /** Detach from a hook of the current namespace; the clsact qdisc goes too if we created it and no hook of ours uses it. */
  detach(ifname: string, direction: Direction): boolean {
    const here = currentNetnsInode();
    const att = this.readState().attachments.find((a) => a.ifname === ifname && a.direction === direction && a.netnsInode === here);
    if (att) return this.detachRecorded(att);
    // not recorded (e.g. the state file was lost): remove what would be ours on that hook
    const ifindex = native().ifNameToIndex(ifname);
    const spec = this.spec(ifname, ifindex, direction);
    let removed = removeTcxLink(spec);
    if (ifindex) removed = removeClsactFilter(spec) || removed;
    return removed;
  }

  /** Detach a recorded hook, entering its namespace if it is not the current one. */
  private detachRecorded(att: Attachment): boolean {
    const spec = this.spec(att.ifname, att.ifindex, att.direction, att.netnsInode);
    let removed = removeTcxLink(spec); // links are not namespace-bound
    // (if the namespace is gone, its interfaces and filters went with it)
    withNetnsOf(att.netnsInode, () => {
      removed = removeClsactFilter(spec) || removed;
      const others = this.readState().attachments.filter((a) => !(a.ifname === att.ifname && a.direction === att.direction && a.netnsInode === att.netnsInode));
      if (att.createdQdisc && !others.some((a) => a.ifindex === att.ifindex && a.netnsInode === att.netnsInode)) destroyClsact(att.ifindex);
    });
    const state = this.readState();
    state.attachments = state.attachments.filter((a) => !(a.ifname === att.ifname && a.direction === att.direction && a.netnsInode === att.netnsInode));
    this.writeState(state);
    return removed;
  }

  attachments(): Attachment[] {
    return this.readState().attachments;
  }

  /** Which program (id) is on each recorded hook now, as the kernel reports it. */
  verifyAttachments(): Array<Attachment & { attachedProgId: number | null }> {
    return this.attachments().map((a) => {
      const attachedProgId = withNetnsOf(a.netnsInode, () => attachedProgramId(this.spec(a.ifname, a.ifindex, a.direction, a.netnsInode))?.progId ?? null) ?? null;
      return { ...a, attachedProgId };
    });
  }

  private spec(ifname: string, ifindex: number, direction: Direction, netnsInode = currentNetnsInode()): AttachSpec {
    return { ifname, ifindex, direction, linkPin: this.paths.link(ifname, direction, netnsInode), handle: CLSACT_HANDLE, priority: CLSACT_PRIORITY };
  }

  // ---- rules -----------------------------------------------------------------------------
  // Slots (per-rule counter indexes) are tracked by the encoded key bytes (as a latin1
  // string), which the map dump gives back without any address formatting.

  /** Install or replace one entry (its source and destination rules) atomically. */
  putEntry(e: RuleEntry): void {
    const key = Buffer.allocUnsafe(RULE_KEY_SIZE);
    writeEntryKey(e, key, 0);
    const value = Buffer.allocUnsafe(RULE_SIZE);
    writeEntryValue(e, this.slotFor(key.toString('latin1')), value, 0);
    this.maps.iro_rules.update(key, value, BPF_ANY);
  }

  /** Many entries in one batched map update (slots assigned as needed). */
  putEntries(entries: readonly RuleEntry[]): number {
    if (!entries.length) return 0;
    const keys = Buffer.allocUnsafe(entries.length * RULE_KEY_SIZE);
    const values = Buffer.allocUnsafe(entries.length * RULE_SIZE);
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      writeEntryKey(e, keys, i * RULE_KEY_SIZE);
      const k = keys.toString('latin1', i * RULE_KEY_SIZE, (i + 1) * RULE_KEY_SIZE);
      writeEntryValue(e, this.slotFor(k), values, i * RULE_SIZE);
    }
    return this.maps.iro_rules.updateBatch(keys, values, entries.length);
  }

  /** Remove one entry by id ("out/esp/42/2001:db8::1") or by its key fields. */
  deleteEntry(id: string | Pick<RuleEntry, 'dir' | 'proto' | 'spi' | 'peer'>): boolean {
    const key = Buffer.alloc(RULE_KEY_SIZE);
    writeEntryKey(typeof id === 'string' ? parseEntryId(id) : id, key, 0);
    const removed = this.maps.iro_rules.delete(key);
    this.freeSlots([key.toString('latin1')]);
    return removed;
  }

  /**
   * Make the rule map equal `desired` with the fewest map operations: entries that are equal
   * are left alone, changed ones are replaced in place (one atomic update each, batched), and
   * only the ones no longer wanted are deleted.
   */
  reconcileEntries(desired: Iterable<RuleEntry> | Map<string, RuleEntry>): { put: number; deleted: number; unchanged: number } {
    const list = desired instanceof Map ? [...desired.values()] : [...desired];
    const installed = this.maps.iro_rules.entries();
    const index = new Map<string, Buffer>();
    for (const [k, v] of installed) index.set(k.toString('latin1'), v);
    const key = Buffer.allocUnsafe(RULE_KEY_SIZE);
    const want = Buffer.allocUnsafe(RULE_SIZE);
    const toPut: RuleEntry[] = [];
    let unchanged = 0;
    for (const e of list) {
      writeEntryKey(e, key, 0);
      const k = key.toString('latin1');
      const cur = index.get(k);
      if (cur) {
        writeEntryValue(e, this.slotFor(k), want, 0);
        if (cur.equals(want)) unchanged++;
        else toPut.push(e);
        index.delete(k);
      } else {
        toPut.push(e);
      }
    }
    this.putEntries(toPut);
    const gone = [...index.keys()];
    if (gone.length) {
      this.maps.iro_rules.deleteBatch(Buffer.from(gone.join(''), 'latin1'), gone.length);
      this.freeSlots(gone);
    }
    return { put: toPut.length, deleted: gone.length, unchanged };
  }

  /**
   * Apply a difference the caller already knows (the IRO engine, which holds what it installed
   * since its last reconcileEntries): one batched update for `put`, one batched delete for
   * `remove`, and no map dump — the dump is what makes reconcileEntries O(map size).
   */
  applyEntries(put: readonly RuleEntry[], remove: readonly Pick<RuleEntry, 'dir' | 'proto' | 'spi' | 'peer'>[]): { put: number; deleted: number } {
    this.putEntries(put);
    let deleted = 0;
    if (remove.length) {
      const keys = Buffer.allocUnsafe(remove.length * RULE_KEY_SIZE);
      const gone: string[] = [];
      for (let i = 0; i < remove.length; i++) {
        writeEntryKey(remove[i]!, keys, i * RULE_KEY_SIZE);
        gone.push(keys.toString('latin1', i * RULE_KEY_SIZE, (i + 1) * RULE_KEY_SIZE));
      }
      deleted = this.maps.iro_rules.deleteBatch(keys, remove.length);
      this.freeSlots(gone);
    }
    return { put: put.length, deleted };
  }

  /** The rule map as entries (rules rebuilt from the map values; names are not kept). */
  listEntries(): RuleEntry[] {
    return this.maps.iro_rules.entries().map(([k, v]) => entryFromMap(decodeRuleKey(k), decodeRuleValue(v)));
  }

  ruleCounters(id: string | Pick<RuleEntry, 'dir' | 'proto' | 'spi' | 'peer'>): RuleCounters | null {
    const key = Buffer.alloc(RULE_KEY_SIZE);
    writeEntryKey(typeof id === 'string' ? parseEntryId(id) : id, key, 0);
    const slot = this.slots.get(key.toString('latin1'));
    if (slot === undefined) return null;
    const v = this.maps.iro_rule_stats.lookup(u32Key(slot));
    return v ? sumRuleCounters(v) : null;
  }

  private rebuildSlots(): void {
    let max = -1;
    for (const [k, v] of this.maps.iro_rules.entries()) {
      const slot = v.readUInt32LE(4);
      this.slots.set(k.toString('latin1'), slot);
      max = Math.max(max, slot);
    }
    const used = new Set(this.slots.values());
    this.nextSlot = max + 1;
    this.free = [];
    const holes: number[] = [];
    for (let s = 0; s < this.nextSlot; s++) if (!used.has(s)) holes.push(s);
    // holes may hold counters of rules deleted by a process that died before zeroing them
    this.zeroSlots(holes);
    this.free = holes;
  }

  private slotFor(key: string): number {
    const cur = this.slots.get(key);
    if (cur !== undefined) return cur;
    const slot = this.free.pop() ?? this.nextSlot++;
    if (slot >= this.slotCapacity) {
      if (slot === this.nextSlot - 1) this.nextSlot--;
      throw new Error(`rule capacity exhausted (${this.slotCapacity} rules): raise ruleCapacity`);
    }
    this.slots.set(key, slot);
    return slot;
  }

  /** Slots are zeroed when freed, so allocation (the hot path) needs no extra syscall. */
  private freeSlots(keys: string[]): void {
    const slots: number[] = [];
    for (const k of keys) {
      const s = this.slots.get(k);
      if (s === undefined) continue;
      this.slots.delete(k);
      slots.push(s);
    }
    this.zeroSlots(slots);
    for (const s of slots) this.free.push(s);
  }

  private zeroSlots(slots: number[]): void {
    if (!slots.length) return;
    const m = this.maps.iro_rule_stats;
    const keys = Buffer.alloc(slots.length * 4);
    slots.forEach((s, i) => keys.writeUInt32LE(s, i * 4));
    m.updateBatch(keys, Buffer.alloc(slots.length * m.valueLength), slots.length);
  }

  // ---- configuration and membership --------------------------------------------------------

  config(): DatapathConfig {
    const v = this.maps.iro_cfg.lookup(u32Key(0));
    return v ? decodeConfig(v) : DEFAULT_CONFIG;
  }

  configure(u: ConfigUpdate): DatapathConfig {
    const c = { ...this.config() };
    if (u.missPolicy) c.missPolicy = u.missPolicy === 'pass' ? MissPolicy.Pass : MissPolicy.Drop;
    if (u.markMask !== undefined) {
      const m = u.markMask >>> 0;
      const shift = markShift(m);
      if (m !== 0 && ((m >>> shift) & ((m >>> shift) + 1)) !== 0) throw new Error(`markMask 0x${m.toString(16)} must be one contiguous run of bits`);
      c.markMask = m;
    }
    const flag = (on: boolean | undefined, bit: number) => {
      if (on === true) c.flags |= bit;
      if (on === false) c.flags &= ~bit;
    };
    flag(u.eventOnMismatch, CfgFlag.EventMismatch);
    flag(u.ancillaryInMark, CfgFlag.AncInMark);
    flag(u.hoaGuard, CfgFlag.HoaGuard);
    if (u.missEventIntervalMs !== undefined) c.missIntervalNs = BigInt(Math.round(u.missEventIntervalMs * 1e6));
    if (u.fragmentTtlMs !== undefined) c.fragTtlNs = BigInt(Math.round(u.fragmentTtlMs * 1e6));
    this.maps.iro_cfg.update(u32Key(0), encodeConfig(c));
    return c;
  }

  setHoaGuard(on: boolean): void {
    if (((this.config().flags & CfgFlag.HoaGuard) !== 0) !== on) this.configure({ hoaGuard: on });
  }

  /** Make a membership set (local HoAs or IRO peers) equal `addrs`. */
  setMembers(which: 'hoas' | 'peers', addrs: Iterable<string>): void {
    const map = which === 'hoas' ? this.maps.iro_hoas : this.maps.iro_peers;
    const want = new Set([...addrs].map((a) => parseIPv6(a).toString('hex')));
    for (const [k] of map.entries()) {
      const hex = k.toString('hex');
      if (!want.delete(hex)) map.delete(k);
    }
    for (const hex of want) map.update(Buffer.from(hex, 'hex'), Buffer.alloc(4));
  }

  members(which: 'hoas' | 'peers'): string[] {
    const map = which === 'hoas' ? this.maps.iro_hoas : this.maps.iro_peers;
    return map.entries().map(([k]) => formatIPv6(k));
  }

  // ---- ancillary channel ---------------------------------------------------------------------

  /** Number of usable slots given the mark mask (slot 0 means "none"). */
  ancillarySlots(): number {
    const c = this.config();
    return Math.min(255, c.markMask >>> markShift(c.markMask));
  }

  /** The SO_MARK value that selects `slot` (to OR into a socket's mark). */
  ancillaryMark(slot: number): number {
    const c = this.config();
    if (slot < 1 || slot > this.ancillarySlots()) throw new Error(`ancillary slot ${slot} out of range 1..${this.ancillarySlots()}`);
    return ((slot << markShift(c.markMask)) & c.markMask) >>> 0;
  }

  /**
   * Set the on-wire addresses for outgoing packets marked with `slot`: `src` for rules whose
   * source comes from ancillary data, `dst` for destination rules (valid for ttlMs, 0 = forever).
   */
  setAncillaryOut(slot: number, onWire: { src?: string; dst?: string }, ttlMs = 0): void {
    this.ancillaryMark(slot);
    const expires = ttlMs > 0 ? monotonicNs() + BigInt(Math.round(ttlMs * 1e6)) : 0n;
    this.maps.iro_anc_out.update(u32Key(slot), encodeAncOut(onWire.src ? parseIPv6(onWire.src) : null, onWire.dst ? parseIPv6(onWire.dst) : null, expires));
  }

  clearAncillaryOut(slot: number): void {
    this.maps.iro_anc_out.update(u32Key(slot), encodeAncOut(null, null, 0n));
  }

  /** The latest on-wire record for an inbound SA (per-SPI fallback of OP-11). */
  ancillaryInForSpi(proto: 'esp' | 'ah', spi: number): AncInRecord | null {
    const v = this.maps.iro_anc_in.lookup(encodeAncInKey(proto === 'ah' ? IPPROTO_AH : 50, spi));
    return v ? decodeAncIn(v) : null;
  }

  /** Whether incoming records are also put in a ring slot named by the packet's mark (SO_RCVMARK). */
  ancillaryInMarked(): boolean {
    const c = this.config();
    return (c.flags & CfgFlag.AncInMark) !== 0 && c.markMask !== 0;
  }

  /** The exact record of a received packet from its SO_RCVMARK value (null if the mark has no slot). */
  ancillaryInFromMark(mark: number): AncInRecord | null {
    const c = this.config();
    const slot = (mark & c.markMask) >>> markShift(c.markMask);
    if (!slot) return null;
    const v = this.maps.iro_anc_ring.lookup(u32Key(slot));
    return v && v.length >= ANC_IN_SIZE ? decodeAncIn(v) : null;
  }

  // ---- counters and events ---------------------------------------------------------------------

  stats(): Record<StatName, bigint> {
    const out = {} as Record<StatName, bigint>;
    STAT_NAMES.forEach((name, i) => {
      const v = this.maps.iro_stats.lookup(u32Key(i));
      let sum = 0n;
      if (v) for (let off = 0; off + 8 <= v.length; off += 8) sum += v.readBigUInt64LE(off);
      out[name] = sum;
    });
    return out;
  }

  /** Miss (and optional mismatch) events as an async iterator; ends when `signal` aborts. */
  async *events(signal?: AbortSignal): AsyncGenerator<DatapathEvent> {
    const n = native();
    const rb = n.ringbufOpen(this.maps.iro_events.fd);
    const queue: DatapathEvent[] = [];
    let wake: (() => void) | null = null;
    let failure: Error | null = null;
    const onAbort = () => wake?.();
    signal?.addEventListener('abort', onAbort);
    try {
      n.ringbufStart(rb, (err, samples) => {
        for (const s of samples) queue.push(decodeEvent(s));
        if (err) failure = err;
        wake?.();
      });
      while (!signal?.aborted) {
        if (failure) throw failure;
        const e = queue.shift();
        if (e) {
          yield e;
          continue;
        }
        await new Promise<void>((r) => (wake = r));
        wake = null;
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
      n.ringbufClose(rb);
    }
  }

  /** Read pending events without the event loop (tests, one-shot tools). */
  pollEvents(timeoutMs = 0): DatapathEvent[] {
    const n = native();
    const rb = n.ringbufOpen(this.maps.iro_events.fd);
    try {
      return n.ringbufPoll(rb, timeoutMs).map(decodeEvent);
    } finally {
      n.ringbufClose(rb);
    }
  }

  // ---- lifecycle ---------------------------------------------------------------------------------

  /** Close our fds; pins, attachments and rules stay, so traffic keeps flowing without us. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const m of Object.values(this.maps)) m.close();
    for (const p of Object.values(this.programs)) p.close();
  }

  /** Detach everywhere, unpin everything and remove the state file: nothing of ours remains. */
  destroy(): void {
    for (const a of this.attachments()) this.detachRecorded(a);
    this.close();
    rmPins(this.paths.dir);
    if (existsSync(this.stateFile)) unlinkSync(this.stateFile);
  }

  private readState(): StateFile {
    try {
      const s = JSON.parse(readFileSync(this.stateFile, 'utf8')) as StateFile;
      return { attachments: Array.isArray(s.attachments) ? s.attachments : [] };
    } catch {
      return { attachments: [] };
    }
  }

  private writeState(s: StateFile): void {
    mkdirSync(dirname(this.stateFile), { recursive: true });
    const tmp = `${this.stateFile}.tmp`;
    writeFileSync(tmp, JSON.stringify(s, null, 2));
    renameSync(tmp, this.stateFile);
  }
}

// ---- helpers -------------------------------------------------------------------------------------

/** Inode of the calling thread's network namespace. */
export function currentNetnsInode(): number {
  return statSync('/proc/thread-self/ns/net').ino;
}

/** Run fn in the namespace with this inode (null if that namespace no longer exists). */
function withNetnsOf<T>(inode: number, fn: () => T): T | null {
  if (inode === currentNetnsInode()) return fn();
  const path = findNetnsPath(inode);
  return path ? inNetns(path, fn) : null;
}

/** A path to enter the namespace with this inode: a named one (ip netns) or a process's. */
function findNetnsPath(inode: number): string | null {
  try {
    if (statSync('/proc/1/ns/net').ino === inode) return '/proc/1/ns/net';
  } catch {
    /* not ours to inspect (e.g. a sandbox): look at the named namespaces */
  }
  for (const dir of ['/var/run/netns', '/run/netns']) {
    let names: string[] = [];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const n of names) {
      try {
        if (statSync(join(dir, n)).ino === inode) return join(dir, n);
      } catch {
        /* vanished */
      }
    }
  }
  return null;
}

export function u32Key(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
}

function monotonicNs(): bigint {
  // bpf_ktime_get_ns() is CLOCK_MONOTONIC, like process.hrtime.
  return process.hrtime.bigint();
}

function checkPinnedMaps(maps: Record<MapName, BpfMap>): void {
  const r = maps.iro_rules.info;
  if (r.keySize !== RULE_KEY_SIZE || r.valueSize !== RULE_SIZE) {
    throw new Error(`pinned map iro_rules has key/value ${r.keySize}/${r.valueSize} bytes, this build expects ${RULE_KEY_SIZE}/${RULE_SIZE}: run "iro-ctl down" to remove the old data path`);
  }
}

function ensureBpffs(dir: string): void {
  const mounts = readFileSync('/proc/self/mounts', 'utf8');
  const onBpf = mounts.split('\n').some((l) => {
    const [, mnt, type] = l.split(' ');
    return type === 'bpf' && (dir === mnt || dir.startsWith(`${mnt}/`));
  });
  if (!onBpf) throw new Error(`pin directory ${dir} is not on a bpffs mount (mount -t bpf bpf /sys/fs/bpf)`);
}

function rmPins(dir: string): void {
  if (!existsSync(dir)) return;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) rmPins(p);
    else unlinkSync(p);
  }
  try {
    rmdirSync(dir);
  } catch {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function entryIdFromKey(k: { dir: Dir; proto: number; spi: number; peer: Buffer }): string {
  const proto = k.proto === IPPROTO_AH ? 'ah' : 'esp';
  return ruleKeyId({ dir: k.dir === Dir.Out ? 'out' : 'in', proto, spi: k.spi, peer: formatIPv6(k.peer) });
}

function parseEntryId(id: string): Pick<RuleEntry, 'dir' | 'proto' | 'spi' | 'peer'> {
  const [dir, proto, spi, peer] = id.split('/');
  if ((dir !== 'in' && dir !== 'out') || (proto !== 'esp' && proto !== 'ah') || spi === undefined) throw new Error(`not a rule id: "${id}"`);
  const r: Pick<RuleEntry, 'dir' | 'proto' | 'spi' | 'peer'> = { dir, proto, spi: Number(spi) };
  if (peer !== undefined) r.peer = peer;
  return r;
}

/** Rebuild an entry from its map key and value (for listing and status). */
export function entryFromMap(k: { dir: Dir; proto: number; spi: number; peer: Buffer }, v: RuleValue): RuleEntry {
  const dir = k.dir === Dir.Out ? 'out' : 'in';
  const proto = k.proto === IPPROTO_AH ? 'ah' : 'esp';
  const id = entryIdFromKey(k);
  const e: RuleEntry = { id, dir, proto, spi: k.spi, oif: v.oif };
  if (dir === 'out') e.peer = formatIPv6(k.peer);
  const mk = (field: 'src' | 'dst'): RemapRule => {
    const wildcard = field === 'src' && (v.flags & RuleFlag.SrcWildcard) !== 0;
    const anc = (v.flags & (field === 'src' ? RuleFlag.SrcAnc : RuleFlag.DstAnc)) !== 0;
    const target = formatIPv6(field === 'src' ? v.newSrc : v.newDst);
    const r: RemapRule = {
      dir,
      proto,
      spi: k.spi,
      field,
      expected: wildcard ? '::' : formatIPv6(field === 'src' ? v.expSrc : v.expDst),
      remap: anc ? (target === '::' ? { ancillary: true } : { ancillary: true, fallback: target }) : { address: target },
      recordAncillary: dir === 'in' && (v.flags & RuleFlag.RecAnc) !== 0,
    };
    if (e.peer) r.peer = e.peer;
    if (v.flags & RuleFlag.DropMismatch) r.dropOnMismatch = true;
    return r;
  };
  if (v.flags & RuleFlag.Src) e.src = mk('src');
  if (v.flags & RuleFlag.Dst) e.dst = mk('dst');
  return e;
}
