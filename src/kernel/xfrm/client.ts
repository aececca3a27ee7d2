// XFRM netlink client: typed requests over the netlink core. Requests may be issued
// concurrently (they are pipelined, and bursts share datagrams); dumps are serialised by
// the core. Debug logs go through formatXfrmMessage, which never shows key bytes.
import { NetlinkClient, type KernelLogger } from '../netlink/client.ts';
import { NETLINK_XFRM } from '../constants.ts';
import type { NetlinkMessage } from '../netlink/message.ts';
import {
  decodeXfrmMessage,
  describePolicy,
  describeSa,
  encodeAllocSpiPayload,
  encodeFlushPolicyPayload,
  encodeFlushSaPayload,
  encodeMigratePayload,
  encodePolicyIdPayload,
  encodePolicyPayload,
  encodeSaIdPayload,
  encodeSaPayload,
  type DecodeOptions,
} from './codec.ts';
import * as C from './constants.ts';
import * as L from './layout.ts';
import { formatXfrmMessage } from './format.ts';
import type { XfrmMigrate, XfrmPolicy, XfrmPolicyId, XfrmPolicyInput, XfrmSa, XfrmSaId, XfrmSaInput, XfrmSpiRequest } from './model.ts';

export interface XfrmClientOptions {
  /** open the socket in this network namespace (`ip netns` name or path) */
  netns?: string;
  logger?: KernelLogger;
  timeoutMs?: number;
  maxInFlight?: number;
  kernelRcvBuf?: number;
}

export interface DumpOptions {
  /** retries while the kernel flags the dump interrupted (NLM_F_DUMP_INTR); default 3 */
  retries?: number;
}

export interface DumpOf<T> {
  items: T[];
  /** still inconsistent after the retries: the caller should dump again later */
  interrupted: boolean;
}

export class XfrmClient {
  readonly netlink: NetlinkClient;

  constructor(netlink: NetlinkClient) {
    this.netlink = netlink;
  }

  static open(opts: XfrmClientOptions = {}): XfrmClient {
    const o: ConstructorParameters<typeof NetlinkClient>[1] & Parameters<typeof NetlinkClient.open>[0] = {
      protocol: NETLINK_XFRM,
      label: opts.netns ? `xfrm netlink (netns ${opts.netns})` : 'xfrm netlink',
      formatter: formatXfrmMessage,
    };
    if (opts.netns) o.netns = opts.netns;
    if (opts.logger) o.logger = opts.logger;
    if (opts.timeoutMs) o.timeoutMs = opts.timeoutMs;
    if (opts.maxInFlight) o.maxInFlight = opts.maxInFlight;
    if (opts.kernelRcvBuf) o.kernelRcvBuf = opts.kernelRcvBuf;
    return new XfrmClient(NetlinkClient.open(o));
  }

  close(): void {
    this.netlink.close();
  }

  // ---------------------------------------------------------------- SAs

  /** NEWSA (EEXIST if the SA exists; XFRM decides add vs update by message type, not NLM_F_* flags). */
  async addSa(sa: XfrmSaInput): Promise<void> {
    await this.netlink.request(C.XFRM_MSG_NEWSA, encodeSaPayload(sa), { operation: 'xfrm NEWSA', object: describeSa(sa), fixedLength: L.USERSA_INFO.size });
  }

  /** UPDSA: replace an existing SA (or complete a larval one from ALLOCSPI). */
  async updateSa(sa: XfrmSaInput): Promise<void> {
    await this.netlink.request(C.XFRM_MSG_UPDSA, encodeSaPayload(sa), { operation: 'xfrm UPDSA', object: describeSa(sa), fixedLength: L.USERSA_INFO.size });
  }

  async deleteSa(id: XfrmSaId): Promise<void> {
    await this.netlink.request(C.XFRM_MSG_DELSA, encodeSaIdPayload(id), { operation: 'xfrm DELSA', object: describeSa({ id, saddr: id.saddr ?? '?' }), fixedLength: L.USERSA_ID.size });
  }

  /** GETSA; null when the kernel has no such SA (ESRCH). Keys only with opts.withKeys. */
  async getSa(id: XfrmSaId, opts: DecodeOptions = {}): Promise<XfrmSa | null> {
    try {
      const r = await this.netlink.request(C.XFRM_MSG_GETSA, encodeSaIdPayload(id), { operation: 'xfrm GETSA', object: describeSa({ id, saddr: id.saddr ?? '?' }), fixedLength: L.USERSA_ID.size });
      return this.singleSa(r, opts);
    } catch (e) {
      if ((e as { errno?: number }).errno === 3) return null;
      throw e;
    }
  }

  /** Every SA in the namespace (GETSA dump). */
  async dumpSas(opts: DumpOptions & DecodeOptions = {}): Promise<DumpOf<XfrmSa>> {
    const r = await this.netlink.dump(C.XFRM_MSG_GETSA, [], { operation: 'xfrm GETSA dump', retries: opts.retries ?? 3 });
    const items: XfrmSa[] = [];
    for (const m of r.messages) {
      const d = decodeXfrmMessage(m, opts);
      if (d.kind === 'newsa') items.push(d.sa);
    }
    return { items, interrupted: r.interrupted };
  }

  /** ALLOCSPI: the kernel creates a larval SA and returns it with its SPI. The reply is unicast. */
  async allocSpi(req: XfrmSpiRequest): Promise<XfrmSa> {
    const object = `SPI for ${req.id.proto === C.IPPROTO_ESP ? 'esp' : req.id.proto} ${req.saddr} -> ${req.id.daddr} in 0x${req.min.toString(16)}-0x${req.max.toString(16)}`;
    const r = await this.netlink.request(C.XFRM_MSG_ALLOCSPI, encodeAllocSpiPayload(req), { operation: 'xfrm ALLOCSPI', object, fixedLength: L.USERSPI_INFO.size });
    const sa = this.singleSa(r, {});
    if (!sa) throw new Error(`xfrm ALLOCSPI ${object}: the kernel acknowledged without returning the SA`);
    return sa;
  }

  /** FLUSHSA for one IPsec protocol, or every SA (0). Scoped to the socket's netns. */
  async flushSas(proto = 0): Promise<void> {
    await this.netlink.request(C.XFRM_MSG_FLUSHSA, encodeFlushSaPayload(proto), { operation: 'xfrm FLUSHSA', object: `proto ${proto}` });
  }

  // ---------------------------------------------------------------- policies

  async addPolicy(p: XfrmPolicyInput): Promise<void> {
    await this.netlink.request(C.XFRM_MSG_NEWPOLICY, encodePolicyPayload(p), { operation: 'xfrm NEWPOLICY', object: describePolicy(p), fixedLength: L.USERPOLICY_INFO.size });
  }

  /** UPDPOLICY: create or replace the policy with the same selector, dir, mark and type. */
  async updatePolicy(p: XfrmPolicyInput): Promise<void> {
    await this.netlink.request(C.XFRM_MSG_UPDPOLICY, encodePolicyPayload(p), { operation: 'xfrm UPDPOLICY', object: describePolicy(p), fixedLength: L.USERPOLICY_INFO.size });
  }

  async deletePolicy(id: XfrmPolicyId): Promise<void> {
    await this.netlink.request(C.XFRM_MSG_DELPOLICY, encodePolicyIdPayload(id), { operation: 'xfrm DELPOLICY', object: describePolicy(id), fixedLength: L.USERPOLICY_ID.size });
  }

  /** GETPOLICY; null when there is no such policy (ENOENT). */
  async getPolicy(id: XfrmPolicyId): Promise<XfrmPolicy | null> {
    try {
      const r = await this.netlink.request(C.XFRM_MSG_GETPOLICY, encodePolicyIdPayload(id), { operation: 'xfrm GETPOLICY', object: describePolicy(id), fixedLength: L.USERPOLICY_ID.size });
      return this.singlePolicy(r);
    } catch (e) {
      if ((e as { errno?: number }).errno === 2) return null;
      throw e;
    }
  }

  async dumpPolicies(opts: DumpOptions = {}): Promise<DumpOf<XfrmPolicy>> {
    const r = await this.netlink.dump(C.XFRM_MSG_GETPOLICY, [], { operation: 'xfrm GETPOLICY dump', retries: opts.retries ?? 3 });
    const items: XfrmPolicy[] = [];
    for (const m of r.messages) {
      const d = decodeXfrmMessage(m);
      if (d.kind === 'newpolicy') items.push(d.policy);
    }
    return { items, interrupted: r.interrupted };
  }

  /** FLUSHPOLICY of the main type (or `type`). Scoped to the socket's netns. */
  async flushPolicies(type?: number): Promise<void> {
    await this.netlink.request(C.XFRM_MSG_FLUSHPOLICY, encodeFlushPolicyPayload(type), { operation: 'xfrm FLUSHPOLICY', object: type === undefined ? 'main' : `type ${type}` });
  }

  /** MIGRATE: move the policy's templates (and matching SAs) from old to new addresses. */
  async migrate(m: XfrmMigrate): Promise<void> {
    await this.netlink.request(C.XFRM_MSG_MIGRATE, encodeMigratePayload(m), { operation: 'xfrm MIGRATE', object: describePolicy(m.policy), fixedLength: L.USERPOLICY_ID.size });
  }

  private singleSa(replies: NetlinkMessage[], opts: DecodeOptions): XfrmSa | null {
    for (const m of replies) {
      const d = decodeXfrmMessage(m, opts);
      if (d.kind === 'newsa') return d.sa;
    }
    return null;
  }

  private singlePolicy(replies: NetlinkMessage[]): XfrmPolicy | null {
    for (const m of replies) {
      const d = decodeXfrmMessage(m);
      if (d.kind === 'newpolicy') return d.policy;
    }
    return null;
  }
}
