// Addresses, message builders and action filters shared by the mip6-*.test.ts files.
import { formatIPv6, parseIPv6 } from '../../src/common/ipv6.ts';
import { findOption, type BindingAck, type BindingUpdate, type MhMessage } from '../../src/mip6/codec/index.ts';
import type {
  BindingChangedAction,
  CnBindingsChanged,
  CounterAction,
  HaBindingsChanged,
  IpsecSaRef,
  LogAction,
  MhReceivedEvent,
  Mip6Action,
  MnBindingsChanged,
  SendAction,
} from '../../src/mip6/types.ts';

export const HOA = '2001:db8:1::100';
export const HOA2 = '2001:db8:1::200';
export const HA = '2001:db8:1::1';
export const CN = '2001:db8:2::1';
export const COA1 = '2001:db8:3::100';
export const COA2 = '2001:db8:4::100';
export const COA3 = '2001:db8:6::100';
export const CAND = '2001:db8:5::100';
export const VICTIM = '2001:db8:66::1';
export const SA: IpsecSaRef = { proto: 'esp', spi: 0x1001 };

export function rx(
  msg: MhMessage,
  o: { src: string; dst: string; onWireSrc?: string; onWireDst?: string; sa?: IpsecSaRef | null; peerIdentity?: string },
): MhReceivedEvent {
  const ev: MhReceivedEvent = {
    type: 'mh-received',
    msg,
    src: o.src,
    dst: o.dst,
    onWireSrc: o.onWireSrc ?? '::',
    onWireDst: o.onWireDst ?? '::',
  };
  if (o.sa !== null) ev.sa = o.sa ?? SA;
  if (o.peerIdentity !== undefined) ev.peerIdentity = o.peerIdentity;
  return ev;
}

export function ba(sequence: number, status = 0, lifetime = 1800): BindingAck {
  return { kind: 'ba', status, keyManagement: false, otherFlags: 0, sequence, lifetime, options: [] };
}

export function bu(
  sequence: number,
  o: { coa?: string | null; lifetime?: number; home?: boolean; ack?: boolean; keyManagement?: boolean } = {},
): BindingUpdate {
  return {
    kind: 'bu',
    sequence,
    ack: o.ack ?? true,
    home: o.home ?? false,
    linkLocal: false,
    keyManagement: o.keyManagement ?? false,
    otherFlags: 0,
    lifetime: o.lifetime ?? 1800,
    options: o.coa ? [{ kind: 'alternateCoa', address: parseIPv6(o.coa) }] : [],
  };
}

export function sends(actions: Mip6Action[], kind?: MhMessage['kind']): SendAction[] {
  return actions.filter((a): a is SendAction => a.type === 'send' && (kind === undefined || a.msg.kind === kind));
}

export function counters(actions: Mip6Action[]): string[] {
  return actions.filter((a): a is CounterAction => a.type === 'counter').map((a) => a.name);
}

export function logs(actions: Mip6Action[], level?: LogAction['level']): LogAction[] {
  return actions.filter((a): a is LogAction => a.type === 'log' && (level === undefined || a.level === level));
}

export function changes(actions: Mip6Action[]): BindingChangedAction[] {
  return actions.filter((a): a is BindingChangedAction => a.type === 'binding-changed');
}

export function mnChanges(actions: Mip6Action[]): MnBindingsChanged[] {
  return changes(actions).filter((a): a is MnBindingsChanged => a.role === 'mn');
}

export function cnChanges(actions: Mip6Action[]): CnBindingsChanged[] {
  return changes(actions).filter((a): a is CnBindingsChanged => a.role === 'cn');
}

export function haChanges(actions: Mip6Action[]): HaBindingsChanged[] {
  return changes(actions).filter((a): a is HaBindingsChanged => a.role === 'ha');
}

/** The AltCoA of a BU as text, or undefined. */
export function altCoaOf(msg: MhMessage): string | undefined {
  if (msg.kind !== 'bu') return undefined;
  const o = findOption(msg.options, 'alternateCoa');
  return o && formatIPv6(o.address);
}
