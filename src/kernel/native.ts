// Typed view of the N-API addon (native/). The addon only wraps syscalls and libbpf; every
// encoding decision (sockaddr bytes, netlink, PF_KEY, map layouts) is made in TypeScript.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** An opaque handle owned by the addon (closed explicitly or on GC). */
export type NativeHandle = { readonly __native: unique symbol };

export interface ControlMessage {
  level: number;
  type: number;
  data: Buffer;
}

export interface ReceivedDatagram {
  data: Buffer;
  /** raw sockaddr bytes of the sender */
  addr: Buffer;
  cmsgs: ControlMessage[];
  flags: number;
  truncated: boolean;
}

/** Errors thrown by the addon carry the errno, its code and the failed call. */
export interface NativeError extends Error {
  errno: number;
  code: string;
  syscall: string;
}

export interface BtfMember {
  name: string;
  offset: number;
  bitOffset: number;
  bitSize: number;
  size: number;
}
export interface BtfStruct {
  size: number;
  union: boolean;
  members: BtfMember[];
}
export interface BtfInfo {
  structs: Record<string, BtfStruct>;
  enums: Record<string, Record<string, number>>;
}

export interface MapInfo {
  type: number;
  id: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  name: string;
}

export interface ProgInfo {
  id: number;
  type: number;
  name: string;
  tag: string;
  xlatedLength: number;
  jitedLength: number;
  mapIds: number[];
}

export interface LinkInfo {
  id: number;
  type: number;
  progId: number;
  ifindex: number;
  attachType: number;
}

export interface TestRunResult {
  retval: number;
  data: Buffer;
  durationNs: number;
  /** the context as the program left it, when one was passed in */
  ctx?: Buffer;
}

type RecvCallback = (err: NativeError | null, msgs: ReceivedDatagram[]) => void;
type RingbufCallback = (err: NativeError | null, samples: Buffer[]) => void;

export interface NativeAddon {
  socketOpen(family: number, type: number, protocol: number): NativeHandle;
  socketFd(h: NativeHandle): number;
  socketBind(h: NativeHandle, addr: Buffer): void;
  socketConnect(h: NativeHandle, addr: Buffer): void;
  socketName(h: NativeHandle): Buffer;
  socketSetOpt(h: NativeHandle, level: number, name: number, value: number | Buffer): void;
  socketGetOpt(h: NativeHandle, level: number, name: number, length: number): Buffer;
  socketSend(h: NativeHandle, data: Uint8Array, addr: Buffer | null, cmsgs: ControlMessage[] | null, flags: number): number;
  socketRecv(h: NativeHandle): ReceivedDatagram | null;
  socketWait(h: NativeHandle, timeoutMs: number): boolean;
  socketConfigure(h: NativeHandle, rxBufferSize: number, batch: number): void;
  socketStart(h: NativeHandle, cb: RecvCallback): void;
  socketStop(h: NativeHandle): void;
  socketRef(h: NativeHandle, ref: boolean): void;
  socketClose(h: NativeHandle): void;

  bpfObjectOpen(path: string): NativeHandle;
  bpfObjectSetMaxEntries(obj: NativeHandle, map: string, n: number): void;
  bpfObjectReuseMapFd(obj: NativeHandle, map: string, fd: number): void;
  bpfObjectLoad(obj: NativeHandle): void;
  bpfObjectMapFd(obj: NativeHandle, map: string): number;
  bpfObjectProgFd(obj: NativeHandle, prog: string): number;
  bpfObjectNames(obj: NativeHandle): { maps: string[]; programs: string[] };
  bpfObjectBtf(obj: NativeHandle): BtfInfo;
  bpfObjectClose(obj: NativeHandle): void;
  numPossibleCpus(): number;

  mapInfo(fd: number): MapInfo;
  mapLookup(fd: number, key: Uint8Array, valueLength: number): Buffer | null;
  mapUpdate(fd: number, key: Uint8Array, value: Uint8Array, flags: number): void;
  mapDelete(fd: number, key: Uint8Array): boolean;
  mapNextKey(fd: number, key: Uint8Array | null, keyLength: number): Buffer | null;
  mapDump(fd: number, keyLength: number, valueLength: number): { keys: Buffer; values: Buffer; count: number };
  mapUpdateBatch(fd: number, keys: Uint8Array, values: Uint8Array, count: number, flags: number): number;
  mapDeleteBatch(fd: number, keys: Uint8Array, count: number): number;

  progTestRun(fd: number, data: Uint8Array, repeat: number, dataOutSize: number, ctx?: Uint8Array | null): TestRunResult;
  progInfo(fd: number): ProgInfo;
  linkInfo(fd: number): LinkInfo;
  objPin(fd: number, path: string): void;
  objGet(path: string): number;
  fdById(kind: 'prog' | 'map' | 'link', id: number): number;
  closeFd(fd: number): void;
  tcxAttach(progFd: number, ifindex: number, attachType: number): number;
  linkUpdate(linkFd: number, progFd: number): void;
  linkDetach(linkFd: number): void;
  progQuery(ifindex: number, attachType: number): number[];
  tcHookCreate(ifindex: number): boolean;
  tcHookDestroy(ifindex: number): boolean;
  tcAttach(ifindex: number, where: number, progFd: number, handle: number, priority: number, replace: boolean): {
    handle: number;
    priority: number;
    progId: number;
  };
  tcDetach(ifindex: number, where: number, handle: number, priority: number): boolean;
  tcQuery(ifindex: number, where: number, handle: number, priority: number): number | null;

  ringbufOpen(mapFd: number): NativeHandle;
  ringbufStart(h: NativeHandle, cb: RingbufCallback): void;
  ringbufStop(h: NativeHandle): void;
  ringbufRef(h: NativeHandle, ref: boolean): void;
  ringbufPoll(h: NativeHandle, timeoutMs: number): Buffer[];
  ringbufClose(h: NativeHandle): void;

  setns(fd: number, nstype: number): void;
  ifNameToIndex(name: string): number;
  ifHwType(name: string): number;
}

/** Repository root (works from src/ under tsx and from dist/src/ after tsc). */
export function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'native'))) return dir;
    dir = dirname(dir);
  }
  throw new Error('cannot locate the iro-ctl project root from ' + fileURLToPath(import.meta.url));
}

let cached: NativeAddon | undefined;

/** Load the addon once; a missing build gets an actionable message. */
export function native(): NativeAddon {
  if (cached) return cached;
  const path = join(projectRoot(), 'native', 'build', 'Release', 'iro_native.node');
  if (!existsSync(path)) {
    throw new Error(`native addon not built (${path} missing): run "npm run build:native" or "npm run bootstrap"`);
  }
  cached = createRequire(import.meta.url)(path) as NativeAddon;
  return cached;
}

export function isNativeError(e: unknown): e is NativeError {
  return e instanceof Error && typeof (e as Partial<NativeError>).errno === 'number';
}
