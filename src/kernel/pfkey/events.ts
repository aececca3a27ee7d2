// Which received PF_KEY messages are kernel notifications, and what they mean. Pure: the
// client feeds it every valid (version 2, errno 0) message that is not a duplicate.
//
// Linux facts used (net/key/af_key.c): every SA message the kernel builds (pfkey_xfrm_state2msg)
// has SA, LIFETIME_CURRENT and X_SA2; every policy message (pfkey_xfrm_policy2msg) has
// LIFETIME_CURRENT and X_POLICY; EXPIRE carries LIFETIME_HARD (hard) or LIFETIME_SOFT (soft);
// the kernel's ACQUIRE has addresses; its MIGRATE has seq 0 and pid 0. Promiscuous sockets also
// get copies of requests other sockets send: those lack these marks and are not notifications.
import * as K from './constants.ts';
import * as I from './sa-info.ts';
import type { PfkeyPolicyInfo, PfkeySaInfo } from './sa-info.ts';
import type { PfkeyMessage, PfkeySockaddr } from './types.ts';

// Local copies: under tsx every read of an imported binding is a getter call, and this runs per message.
const policyInfo = I.policyInfo;
const saInfo = I.saInfo;
const SADB_ACQUIRE = K.SADB_ACQUIRE;
const SADB_ADD = K.SADB_ADD;
const SADB_DELETE = K.SADB_DELETE;
const SADB_EXPIRE = K.SADB_EXPIRE;
const SADB_FLUSH = K.SADB_FLUSH;
const SADB_GETSPI = K.SADB_GETSPI;
const SADB_UPDATE = K.SADB_UPDATE;
const SADB_X_MIGRATE = K.SADB_X_MIGRATE;
const SADB_X_NAT_T_NEW_MAPPING = K.SADB_X_NAT_T_NEW_MAPPING;
const SADB_X_SPDADD = K.SADB_X_SPDADD;
const SADB_X_SPDDELETE = K.SADB_X_SPDDELETE;
const SADB_X_SPDDELETE2 = K.SADB_X_SPDDELETE2;
const SADB_X_SPDFLUSH = K.SADB_X_SPDFLUSH;
const SADB_X_SPDUPDATE = K.SADB_X_SPDUPDATE;

export type PfkeyEvent =
  | { kind: 'sa-added' | 'sa-updated' | 'sa-deleted'; sa: PfkeySaInfo; message: PfkeyMessage }
  /** a GETSPI reply: an SPI reserved for an SA being negotiated (seen by the requester and promiscuous sockets) */
  | { kind: 'sa-larval'; sa: PfkeySaInfo; message: PfkeyMessage }
  | { kind: 'sa-expired'; hard: boolean; sa: PfkeySaInfo; message: PfkeyMessage }
  | { kind: 'sa-flushed'; satype: number; message: PfkeyMessage }
  | { kind: 'acquire'; satype: number; seq: number; src: PfkeySockaddr; dst: PfkeySockaddr; policyId?: number; message: PfkeyMessage }
  | { kind: 'policy-added' | 'policy-updated' | 'policy-deleted'; policy: PfkeyPolicyInfo; message: PfkeyMessage }
  | { kind: 'policy-flushed'; message: PfkeyMessage }
  | { kind: 'migrate'; message: PfkeyMessage }
  | { kind: 'nat-mapping'; message: PfkeyMessage };

export type IgnoreReason =
  /** a copy of a request another socket sent (promiscuous mode), e.g. GETSPI without an SA (D07) */
  | 'request-echo'
  /** a reply to someone's request, not a state change (GET, DUMP, REGISTER, SPDGET, X_PROMISC ...) */
  | 'not-a-notification'
  /** a notification type whose content is incomplete (e.g. EXPIRE without a hard or soft lifetime) */
  | 'incomplete';

export type Classified = { event: PfkeyEvent } | { ignored: IgnoreReason };

const SA_NOTIFY: Record<number, 'sa-added' | 'sa-updated' | 'sa-deleted'> = {
  [SADB_ADD]: 'sa-added',
  [SADB_UPDATE]: 'sa-updated',
  [SADB_DELETE]: 'sa-deleted',
};

const SPD_NOTIFY: Record<number, 'policy-added' | 'policy-updated' | 'policy-deleted'> = {
  [SADB_X_SPDADD]: 'policy-added',
  [SADB_X_SPDUPDATE]: 'policy-updated',
  [SADB_X_SPDDELETE]: 'policy-deleted',
  [SADB_X_SPDDELETE2]: 'policy-deleted',
};

/** Classify a valid message (version 2, errno 0). */
export function classifyMessage(msg: PfkeyMessage): Classified {
  const e = msg.ext;
  switch (msg.type) {
    case SADB_ADD:
    case SADB_UPDATE:
    case SADB_DELETE: {
      if (!e.sa || !e.lifetimeCurrent) return { ignored: 'request-echo' };
      const sa = saInfo(msg);
      if (!sa) return { ignored: 'incomplete' };
      // An in-place update of a live SA is notified with the temporary state object the kernel
      // copied from and then discarded (xfrm_state_update sets it DEAD); the SA itself lives on.
      if (msg.type === SADB_UPDATE && sa.state === 'dead') sa.state = 'mature';
      return { event: { kind: SA_NOTIFY[msg.type]!, sa, message: msg } };
    }
    case SADB_GETSPI: {
      if (!e.sa) return { ignored: 'request-echo' };
      const sa = saInfo(msg);
      return sa ? { event: { kind: 'sa-larval', sa, message: msg } } : { ignored: 'incomplete' };
    }
    case SADB_EXPIRE: {
      const sa = saInfo(msg);
      if (!sa || (!e.lifetimeHard && !e.lifetimeSoft)) return { ignored: 'incomplete' };
      return { event: { kind: 'sa-expired', hard: e.lifetimeHard !== undefined, sa, message: msg } };
    }
    case SADB_ACQUIRE:
      if (!e.src || !e.dst) return { ignored: 'request-echo' };
      return {
        event: {
          kind: 'acquire',
          satype: msg.satype,
          seq: msg.seq,
          src: e.src.addr,
          dst: e.dst.addr,
          ...(e.policy ? { policyId: e.policy.id } : {}),
          message: msg,
        },
      };
    case SADB_FLUSH:
      return { event: { kind: 'sa-flushed', satype: msg.satype, message: msg } };
    case SADB_X_SPDADD:
    case SADB_X_SPDUPDATE:
    case SADB_X_SPDDELETE:
    case SADB_X_SPDDELETE2: {
      if (!e.policy || !e.lifetimeCurrent) return { ignored: 'request-echo' };
      const policy = policyInfo(msg);
      return policy ? { event: { kind: SPD_NOTIFY[msg.type]!, policy, message: msg } } : { ignored: 'incomplete' };
    }
    case SADB_X_SPDFLUSH:
      return { event: { kind: 'policy-flushed', message: msg } };
    case SADB_X_MIGRATE:
      if (msg.seq !== 0 || msg.pid !== 0 || !e.policy) return { ignored: 'request-echo' };
      return { event: { kind: 'migrate', message: msg } };
    case SADB_X_NAT_T_NEW_MAPPING:
      if (!e.sa) return { ignored: 'incomplete' };
      return { event: { kind: 'nat-mapping', message: msg } };
    default:
      return { ignored: 'not-a-notification' };
  }
}
