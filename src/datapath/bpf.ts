// Thin owners over libbpf objects, maps and programs. Every fd here is owned by exactly one
// wrapper and closed once (explicitly, or by the finalizer if the wrapper is dropped).
import { native, type BtfInfo, type MapInfo, type ProgInfo, type TestRunResult } from '../kernel/native.ts';
import { annotate } from '../kernel/socket.ts';

const finalizer = new FinalizationRegistry<number>((fd) => {
  try {
    native().closeFd(fd);
  } catch {
    /* already gone */
  }
});

/** An fd with exactly one owner. */
export class OwnedFd {
  private value: number;
  constructor(fd: number) {
    this.value = fd;
    finalizer.register(this, fd, this);
  }
  get fd(): number {
    if (this.value < 0) throw new Error('fd is closed');
    return this.value;
  }
  get closed(): boolean {
    return this.value < 0;
  }
  close(): void {
    if (this.value < 0) return;
    finalizer.unregister(this);
    const fd = this.value;
    this.value = -1;
    native().closeFd(fd);
  }
}

export const BPF_ANY = 0;
export const BPF_NOEXIST = 1;
export const BPF_EXIST = 2;

const PERCPU_TYPES = new Set([5 /* PERCPU_HASH */, 6 /* PERCPU_ARRAY */, 10 /* LRU_PERCPU_HASH */]);
export const BPF_MAP_TYPE_RINGBUF = 27;

let cpus: number | undefined;
export function possibleCpus(): number {
  cpus ??= native().numPossibleCpus();
  return cpus;
}

export class BpfMap {
  readonly info: MapInfo;
  /** bytes of one lookup/update value (all CPUs for per-CPU maps) */
  readonly valueLength: number;
  private readonly owned: OwnedFd;

  constructor(
    readonly name: string,
    fd: number,
  ) {
    this.owned = new OwnedFd(fd);
    try {
      this.info = native().mapInfo(fd);
    } catch (e) {
      this.owned.close();
      throw annotate(e, `map ${name}`);
    }
    this.valueLength = PERCPU_TYPES.has(this.info.type) ? Math.ceil(this.info.valueSize / 8) * 8 * possibleCpus() : this.info.valueSize;
  }

  static fromPin(path: string, name = path.split('/').pop() ?? path): BpfMap {
    let fd: number;
    try {
      fd = native().objGet(path);
    } catch (e) {
      throw annotate(e, `map ${name}`);
    }
    return new BpfMap(name, fd);
  }

  get fd(): number {
    return this.owned.fd;
  }

  get perCpu(): boolean {
    return PERCPU_TYPES.has(this.info.type);
  }

  lookup(key: Uint8Array): Buffer | null {
    return this.call('lookup', () => native().mapLookup(this.fd, key, this.valueLength));
  }

  update(key: Uint8Array, value: Uint8Array, flags = BPF_ANY): void {
    this.call('update', () => native().mapUpdate(this.fd, key, value, flags));
  }

  delete(key: Uint8Array): boolean {
    return this.call('delete', () => native().mapDelete(this.fd, key));
  }

  updateBatch(keys: Uint8Array, values: Uint8Array, count: number, flags = BPF_ANY): number {
    return this.call('batch update', () => native().mapUpdateBatch(this.fd, keys, values, count, flags));
  }

  deleteBatch(keys: Uint8Array, count: number): number {
    return this.call('batch delete', () => native().mapDeleteBatch(this.fd, keys, count));
  }

  /** Every entry, read in one native call. */
  entries(): Array<[Buffer, Buffer]> {
    const { keys, values, count } = this.call('dump', () => native().mapDump(this.fd, this.info.keySize, this.valueLength));
    const out: Array<[Buffer, Buffer]> = [];
    for (let i = 0; i < count; i++) {
      out.push([
        keys.subarray(i * this.info.keySize, (i + 1) * this.info.keySize),
        values.subarray(i * this.valueLength, (i + 1) * this.valueLength),
      ]);
    }
    return out;
  }

  pin(path: string): void {
    this.call(`pin to ${path}`, () => native().objPin(this.fd, path));
  }

  close(): void {
    this.owned.close();
  }

  private call<T>(op: string, fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      throw annotate(e, `map ${this.name}: ${op}`);
    }
  }
}

export class BpfProgram {
  readonly info: ProgInfo;
  private readonly owned: OwnedFd;

  constructor(
    readonly name: string,
    fd: number,
  ) {
    this.owned = new OwnedFd(fd);
    try {
      this.info = native().progInfo(fd);
    } catch (e) {
      this.owned.close();
      throw annotate(e, `program ${name}`);
    }
  }

  static fromPin(path: string, name = path.split('/').pop() ?? path): BpfProgram {
    let fd: number;
    try {
      fd = native().objGet(path);
    } catch (e) {
      throw annotate(e, `program ${name}`);
    }
    return new BpfProgram(name, fd);
  }

  get fd(): number {
    return this.owned.fd;
  }

  /** BPF_PROG_TEST_RUN: run on one packet (repeat times); returns the verdict and output packet. */
  testRun(packet: Uint8Array, opts: { repeat?: number; outSize?: number; ctx?: Uint8Array } = {}): TestRunResult {
    try {
      return native().progTestRun(this.fd, packet, opts.repeat ?? 1, opts.outSize ?? packet.length + 256, opts.ctx ?? null);
    } catch (e) {
      throw annotate(e, `program ${this.name}: test run`);
    }
  }

  pin(path: string): void {
    try {
      native().objPin(this.fd, path);
    } catch (e) {
      throw annotate(e, `program ${this.name}: pin to ${path}`);
    }
  }

  close(): void {
    this.owned.close();
  }
}

/** A BPF ELF object: open, size, reuse pinned maps, load; hands out owned maps/programs. */
export class BpfObject {
  private handle: ReturnType<ReturnType<typeof native>['bpfObjectOpen']> | null;

  private constructor(
    readonly path: string,
    handle: ReturnType<ReturnType<typeof native>['bpfObjectOpen']>,
  ) {
    this.handle = handle;
  }

  static open(path: string): BpfObject {
    try {
      return new BpfObject(path, native().bpfObjectOpen(path));
    } catch (e) {
      throw annotate(e, `BPF object ${path}`);
    }
  }

  private h() {
    if (!this.handle) throw new Error(`BPF object ${this.path} is closed`);
    return this.handle;
  }

  names(): { maps: string[]; programs: string[] } {
    return native().bpfObjectNames(this.h());
  }

  btf(): BtfInfo {
    return native().bpfObjectBtf(this.h());
  }

  setMaxEntries(map: string, n: number): void {
    native().bpfObjectSetMaxEntries(this.h(), map, n);
  }

  reuseMap(name: string, map: BpfMap): void {
    native().bpfObjectReuseMapFd(this.h(), name, map.fd);
  }

  load(): void {
    try {
      native().bpfObjectLoad(this.h());
    } catch (e) {
      throw annotate(e, `BPF object ${this.path}: load`);
    }
  }

  map(name: string): BpfMap {
    return new BpfMap(name, native().bpfObjectMapFd(this.h(), name));
  }

  program(name: string): BpfProgram {
    return new BpfProgram(name, native().bpfObjectProgFd(this.h(), name));
  }

  close(): void {
    if (this.handle) native().bpfObjectClose(this.handle);
    this.handle = null;
  }
}
