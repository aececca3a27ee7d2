// PF_KEY events -> the one SA/SP model. Linux PF_KEY carries no direction and no selector
// protocol (DIGEST §2.1.5 item 4): the SA arrives without a selector, and classification
// correlates it with policies by reqid (F02). IPv6 and ESP/AH only.
import type { PfkeyEvent } from '../kernel/pfkey/events.ts';
import type { PfkeyPolicyInfo, PfkeySaInfo } from '../kernel/pfkey/sa-info.ts';
import type { BackendChange } from './mirror.ts';
import type { PolicyInfo, PolicyTemplate, SaInfo, SaMode } from './model.ts';
import { protoName } from './xfrm-adapter.ts';
import type { AdapterOutput } from './xfrm-adapter.ts';

function mode(m: string | undefined): SaMode {
  return m === 'transport' || m === 'tunnel' || m === 'beet' ? m : m === undefined || m === 'any' ? 'transport' : 'other';
}

export function saFromPfkey(s: PfkeySaInfo): SaInfo | null {
  const proto = protoName(s.proto);
  if (!proto || s.family !== 'inet6') return null;
  const state = s.state === 'larval' || s.state === 'mature' || s.state === 'dying' || s.state === 'dead' ? s.state : 'mature';
  return { key: { proto, spi: s.spi >>> 0, daddr: s.dst }, saddr: s.src, mode: mode(s.mode), reqid: s.reqid ?? 0, state, sources: ['pfkey'] };
}

export function policyFromPfkey(p: PfkeyPolicyInfo): PolicyInfo | null {
  if (p.family !== 'inet6') return null;
  const dir = p.dir === 'in' || p.dir === 'out' || p.dir === 'fwd' ? p.dir : null;
  if (!dir) return null;
  const templates = p.templates
    .map((t): PolicyTemplate | null => {
      const proto = protoName(t.proto);
      if (!proto) return null;
      return { proto, reqid: t.reqid, mode: mode(t.mode), ...(t.src ? { saddr: t.src } : {}), ...(t.dst ? { daddr: t.dst } : {}) };
    })
    .filter((t): t is PolicyTemplate => t !== null);
  return {
    dir,
    selector: { src: p.src.address, dst: p.dst.address, srcLen: p.src.prefixlen, dstLen: p.dst.prefixlen, proto: p.proto },
    priority: p.priority,
    index: p.id,
    action: p.action === 'block' || p.action === 'discard' ? 'block' : 'allow',
    templates,
  };
}

export function changesFromPfkey(e: PfkeyEvent): AdapterOutput[] {
  const source = 'pfkey' as const;
  switch (e.kind) {
    case 'sa-added':
    case 'sa-updated': {
      const sa = saFromPfkey(e.sa);
      return sa ? [{ kind: 'sa-upsert', sa, source }] : [];
    }
    case 'sa-deleted': {
      const sa = saFromPfkey(e.sa);
      return sa ? [{ kind: 'sa-remove', key: sa.key, source }] : [];
    }
    case 'sa-expired': {
      const sa = saFromPfkey(e.sa);
      return sa ? [{ kind: 'sa-expire', key: sa.key, hard: e.hard, source, sa }] : [];
    }
    case 'sa-larval': {
      const sa = saFromPfkey(e.sa);
      return sa ? [{ kind: 'spi-allocated', key: sa.key, saddr: sa.saddr, source } satisfies BackendChange] : [];
    }
    case 'sa-flushed':
      return [{ kind: 'resync', reason: 'SAs flushed (PF_KEY)' }];
    case 'policy-added':
    case 'policy-updated': {
      const p = policyFromPfkey(e.policy);
      return p ? [{ kind: 'policy-upsert', policy: p, source }] : [];
    }
    case 'policy-deleted': {
      const p = policyFromPfkey(e.policy);
      return p ? [{ kind: 'policy-remove', policy: p, source }] : [];
    }
    case 'policy-flushed':
      return [{ kind: 'resync', reason: 'policies flushed (PF_KEY)' }];
    default:
      return [];
  }
}
