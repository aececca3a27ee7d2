// The desired-state pusher over XFRM netlink (issue 3 item 5): make the kernel hold exactly
// the desired SAs and policies among those iro-ctl owns (reqid range, OP-47), never touching
// anything else; a second run with the same input changes nothing; a failed run is rolled
// back so the kernel is left as it was.
import * as C from '../kernel/xfrm/constants.ts';
import type { XfrmClient } from '../kernel/xfrm/client.ts';
import type { XfrmPolicy, XfrmPolicyInput, XfrmSa, XfrmSaInput, XfrmSelector } from '../kernel/xfrm/model.ts';
import { silentLogger, type Logger } from '../obs/log.ts';
import { describePushPolicy, describePushSa, ownsReqid, type DesiredIpsec, type Ownership, type PushPolicy, type PushSa } from './desired.ts';
import type { SaSelector } from './model.ts';

const AF_INET6 = 10;
const MH = 135;
const ICMPV6 = 58;

export interface PushResult {
  added: string[];
  replaced: string[];
  removed: string[];
  unchanged: number;
}

function protoNum(p: 'esp' | 'ah'): number {
  return p === 'ah' ? 51 : 50;
}

function selectorIn(s: SaSelector): Partial<XfrmSelector> & { family: number } {
  const sel: Partial<XfrmSelector> & { family: number } = { family: AF_INET6, saddr: s.src, daddr: s.dst, prefixlenS: s.srcLen, prefixlenD: s.dstLen, proto: s.proto };
  if (s.type !== undefined && (s.proto === MH || s.proto === ICMPV6)) {
    sel.sport = s.type;
    sel.sportMask = 0xffff;
  }
  return sel;
}

function saInput(s: PushSa): XfrmSaInput {
  const x: XfrmSaInput = {
    id: { daddr: s.daddr, spi: s.spi >>> 0, proto: protoNum(s.proto) },
    saddr: s.saddr,
    family: AF_INET6,
    mode: s.mode === 'tunnel' ? C.XFRM_MODE_TUNNEL : C.XFRM_MODE_TRANSPORT,
    reqid: s.reqid,
    replayWindow: 32,
  };
  if (s.selector) x.selector = selectorIn(s.selector);
  if (s.auth) x.auth = { name: s.auth.name, key: s.auth.key, ...(s.auth.truncBits ? { truncBits: s.auth.truncBits } : {}) };
  if (s.crypt) x.crypt = { name: s.crypt.name, key: s.crypt.key };
  if (s.aead) x.aead = { name: s.aead.name, key: s.aead.key, icvBits: s.aead.icvBits };
  if (s.lifetime) {
    x.lifetime = {};
    if (s.lifetime.softSeconds) x.lifetime.softAddExpiresSeconds = BigInt(s.lifetime.softSeconds);
    if (s.lifetime.hardSeconds) x.lifetime.hardAddExpiresSeconds = BigInt(s.lifetime.hardSeconds);
  }
  return x;
}

/** The kernel SA back as pushable input (for rollback; keys are in it, never logged). */
function saInputFromKernel(k: XfrmSa): XfrmSaInput {
  const x: XfrmSaInput = { id: k.id, saddr: k.saddr, family: k.family, mode: k.mode, reqid: k.reqid, replayWindow: k.replayWindow, flags: k.flags, selector: k.selector, lifetime: k.lifetime };
  if (k.auth) x.auth = k.auth;
  if (k.crypt) x.crypt = k.crypt;
  if (k.aead) x.aead = k.aead;
  if (k.mark) x.mark = k.mark;
  return x;
}

const saId = (daddr: string, spi: number, proto: number) => `${proto}/${spi >>> 0}/${daddr}`;

function sameSa(want: PushSa, have: XfrmSa): boolean {
  const w = saInput(want);
  const sel = have.selector;
  const wsel = w.selector ?? {};
  const selOk = !want.selector || (sel.saddr === wsel.saddr && sel.daddr === wsel.daddr && sel.prefixlenS === wsel.prefixlenS && sel.prefixlenD === wsel.prefixlenD && sel.proto === wsel.proto && (wsel.sport ?? 0) === sel.sport && (wsel.sportMask ?? 0) === sel.sportMask);
  const algOk = (a?: { name: string; key?: { equals(o: never): boolean } }, b?: { name: string; key?: unknown }) =>
    (!a && !b) || (!!a && !!b && a.name === b.name && !!a.key && !!b.key && (a.key as { equals(o: unknown): boolean }).equals(b.key));
  const life = have.lifetime;
  const lifeOk = BigInt(want.lifetime?.softSeconds ?? 0) === life.softAddExpiresSeconds && BigInt(want.lifetime?.hardSeconds ?? 0) === life.hardAddExpiresSeconds;
  return (
    have.saddr === w.saddr &&
    have.mode === w.mode &&
    have.reqid === w.reqid &&
    selOk &&
    algOk(w.auth, have.auth) &&
    (w.auth?.truncBits ?? have.auth?.truncBits) === have.auth?.truncBits &&
    algOk(w.crypt, have.crypt) &&
    algOk(w.aead, have.aead) &&
    lifeOk
  );
}

function dirNum(d: PushPolicy['dir']): number {
  return d === 'in' ? C.XFRM_POLICY_IN : d === 'out' ? C.XFRM_POLICY_OUT : C.XFRM_POLICY_FWD;
}

function policyInput(p: PushPolicy): XfrmPolicyInput {
  return {
    selector: selectorIn(p.selector),
    dir: dirNum(p.dir),
    priority: p.priority,
    action: C.XFRM_POLICY_ALLOW,
    templates: p.templates.map((t) => ({
      id: { proto: protoNum(t.proto), ...(t.daddr ? { daddr: t.daddr } : {}) },
      family: AF_INET6,
      ...(t.saddr ? { saddr: t.saddr } : {}),
      reqid: t.reqid,
      mode: t.mode === 'tunnel' ? C.XFRM_MODE_TUNNEL : C.XFRM_MODE_TRANSPORT,
    })),
  };
}

function policyKey(dir: number, s: Partial<XfrmSelector>): string {
  return `${dir}/${s.saddr}/${s.prefixlenS}/${s.daddr}/${s.prefixlenD}/${s.proto ?? 0}/${s.sport ?? 0}/${s.sportMask ?? 0}`;
}

function samePolicy(want: XfrmPolicyInput, have: XfrmPolicy): boolean {
  const tw = (want.templates ?? []).map((t) => `${t.id.proto}/${t.reqid}/${t.mode}/${t.saddr ?? '::'}/${t.id.daddr ?? '::'}`).join(',');
  const th = have.templates.map((t) => `${t.id.proto}/${t.reqid}/${t.mode}/${t.saddr}/${t.id.daddr}`).join(',');
  return have.priority === want.priority && have.action === (want.action ?? 0) && tw === th;
}

export class XfrmPusher {
  constructor(
    private readonly client: XfrmClient,
    private readonly own: Ownership,
    private readonly log: Logger = silentLogger,
  ) {}

  private ownsPolicy(p: XfrmPolicy): boolean {
    return p.templates.length > 0 && p.templates.every((t) => ownsReqid(this.own, t.reqid));
  }

  /** Make the owned part of the kernel state equal `desired`. Throws (after rollback) on failure. */
  async apply(desired: DesiredIpsec): Promise<PushResult> {
    for (const s of desired.sas) if (!ownsReqid(this.own, s.reqid)) throw new Error(`${describePushSa(s)}: reqid ${s.reqid} is outside iro-ctl's range ${this.own.reqidMin}-${this.own.reqidMax}`);
    for (const p of desired.policies) for (const t of p.templates) if (!ownsReqid(this.own, t.reqid)) throw new Error(`${describePushPolicy(p)}: template reqid ${t.reqid} is outside iro-ctl's range`);

    const [sas, pols] = await Promise.all([this.client.dumpSas({ withKeys: true }), this.client.dumpPolicies()]);
    const haveSa = new Map(sas.items.map((s) => [saId(s.id.daddr, s.id.spi, s.id.proto), s]));
    const havePol = new Map(pols.items.map((p) => [policyKey(p.dir, p.selector), p]));
    const result: PushResult = { added: [], replaced: [], removed: [], unchanged: 0 };
    const undo: Array<() => Promise<void>> = [];

    const wantSa = new Map(desired.sas.map((s) => [saId(s.daddr, s.spi, protoNum(s.proto)), s]));
    const wantPol = new Map(desired.policies.map((p) => [policyKey(dirNum(p.dir), selectorIn(p.selector)), p]));

    try {
      // conflicts with state we do not own are errors: we never touch it
      for (const [id, s] of wantSa) {
        const h = haveSa.get(id);
        if (h && !ownsReqid(this.own, h.reqid)) throw new Error(`${describePushSa(s)}: an SA with this SPI and destination already exists and is not iro-ctl's (reqid ${h.reqid})`);
      }
      for (const [id, p] of wantPol) {
        const h = havePol.get(id);
        if (h && !this.ownsPolicy(h)) throw new Error(`${describePushPolicy(p)}: a policy with this selector already exists and is not iro-ctl's`);
      }
      // 1. remove owned policies no longer wanted, then owned SAs no longer wanted
      for (const [id, h] of havePol) {
        if (!this.ownsPolicy(h) || wantPol.has(id)) continue;
        await this.client.deletePolicy({ selector: h.selector, dir: h.dir });
        undo.push(() => this.client.addPolicy(h));
        result.removed.push(`policy ${id}`);
      }
      for (const [id, h] of haveSa) {
        if (!ownsReqid(this.own, h.reqid) || wantSa.has(id)) continue;
        await this.client.deleteSa({ daddr: h.id.daddr, spi: h.id.spi, proto: h.id.proto, family: h.family });
        undo.push(() => this.client.addSa(saInputFromKernel(h)));
        result.removed.push(`sa ${id}`);
      }
      // 2. SAs (before the policies that use them)
      for (const [id, s] of wantSa) {
        const h = haveSa.get(id);
        if (h && sameSa(s, h)) {
          result.unchanged++;
          continue;
        }
        if (h) {
          // keys and algorithms cannot be updated in place: replace
          await this.client.deleteSa({ daddr: h.id.daddr, spi: h.id.spi, proto: h.id.proto, family: h.family });
          undo.push(() => this.client.addSa(saInputFromKernel(h)));
        }
        await this.client.addSa(saInput(s));
        undo.push(() => this.client.deleteSa({ daddr: s.daddr, spi: s.spi >>> 0, proto: protoNum(s.proto), family: AF_INET6 }));
        (h ? result.replaced : result.added).push(describePushSa(s));
      }
      // 3. policies
      for (const [id, p] of wantPol) {
        const input = policyInput(p);
        const h = havePol.get(id);
        if (h && samePolicy(input, h)) {
          result.unchanged++;
          continue;
        }
        if (h) {
          await this.client.updatePolicy(input);
          undo.push(() => this.client.updatePolicy(h));
          result.replaced.push(describePushPolicy(p));
        } else {
          await this.client.addPolicy(input);
          undo.push(() => this.client.deletePolicy({ selector: input.selector, dir: input.dir }));
          result.added.push(describePushPolicy(p));
        }
      }
    } catch (e) {
      for (const u of undo.reverse()) {
        try {
          await u();
        } catch (ue) {
          this.log.error({ error: (ue as Error).message }, 'rollback step failed');
        }
      }
      throw e;
    }
    if (result.added.length || result.replaced.length || result.removed.length) this.log.info({ added: result.added, replaced: result.replaced, removed: result.removed }, 'ipsec state pushed');
    return result;
  }

  /** Remove every SA and policy iro-ctl owns (and nothing else): `iro-ctl down`. */
  async removeOwned(): Promise<PushResult> {
    return this.apply({ sas: [], policies: [] });
  }
}
