// Byte layout of the linux/xfrm.h structures on x86_64 (and every LP64 little-endian ABI).
// Field names follow the C names so a layout probe compiled from the header can check them
// (test/unit/xfrm-layout.test.ts).
export const SELECTOR = { size: 56, daddr: 0, saddr: 16, dport: 32, dport_mask: 34, sport: 36, sport_mask: 38, family: 40, prefixlen_d: 42, prefixlen_s: 43, proto: 44, ifindex: 48, user: 52 } as const;
export const ID = { size: 24, daddr: 0, spi: 16, proto: 20 } as const;
export const LIFETIME_CFG = {
  size: 64,
  soft_byte_limit: 0,
  hard_byte_limit: 8,
  soft_packet_limit: 16,
  hard_packet_limit: 24,
  soft_add_expires_seconds: 32,
  hard_add_expires_seconds: 40,
  soft_use_expires_seconds: 48,
  hard_use_expires_seconds: 56,
} as const;
export const LIFETIME_CUR = { size: 32, bytes: 0, packets: 8, add_time: 16, use_time: 24 } as const;
export const STATS = { size: 12, replay_window: 0, replay: 4, integrity_failed: 8 } as const;
export const USERSA_INFO = { size: 224, sel: 0, id: 56, saddr: 80, lft: 96, curlft: 160, stats: 192, seq: 204, reqid: 208, family: 212, mode: 214, replay_window: 215, flags: 216 } as const;
export const USERPOLICY_INFO = { size: 168, sel: 0, lft: 56, curlft: 120, priority: 152, index: 156, dir: 160, action: 161, flags: 162, share: 163 } as const;
export const USER_TMPL = { size: 64, id: 0, family: 24, saddr: 28, reqid: 44, mode: 48, share: 49, optional: 50, aalgos: 52, ealgos: 56, calgos: 60 } as const;
export const USERSA_ID = { size: 24, daddr: 0, spi: 16, family: 20, proto: 22 } as const;
export const USERSPI_INFO = { size: 232, info: 0, min: 224, max: 228 } as const;
export const USER_EXPIRE = { size: 232, state: 0, hard: 224 } as const;
export const USER_POLEXPIRE = { size: 176, pol: 0, hard: 168 } as const;
export const USER_ACQUIRE = { size: 280, id: 0, saddr: 24, sel: 40, policy: 96, aalgos: 264, ealgos: 268, calgos: 272, seq: 276 } as const;
export const USERPOLICY_ID = { size: 64, sel: 0, index: 56, dir: 60 } as const;
export const USERPOLICY_TYPE = { size: 6, type: 0, reserved1: 2, reserved2: 4 } as const;
export const USER_MIGRATE = { size: 76, old_daddr: 0, old_saddr: 16, new_daddr: 32, new_saddr: 48, proto: 64, mode: 65, reserved: 66, reqid: 68, old_family: 72, new_family: 74 } as const;
export const USER_KMADDRESS = { size: 40, local: 0, remote: 16, reserved: 32, family: 36 } as const;
export const MARK = { size: 8, v: 0, m: 4 } as const;
export const ALGO = { size: 68, alg_name: 0, alg_key_len: 64, alg_key: 68 } as const;
export const ALGO_AUTH = { size: 72, alg_name: 0, alg_key_len: 64, alg_trunc_len: 68, alg_key: 72 } as const;
export const ALGO_AEAD = { size: 72, alg_name: 0, alg_key_len: 64, alg_icv_len: 68, alg_key: 72 } as const;
export const USERSA_FLUSH = { size: 1, proto: 0 } as const;
export const REPLAY_STATE = { size: 12, oseq: 0, seq: 4, bitmap: 8 } as const;

/** C struct name -> layout, for the probe test. */
export const XFRM_LAYOUTS: Record<string, Record<string, number>> = {
  xfrm_selector: SELECTOR,
  xfrm_id: ID,
  xfrm_lifetime_cfg: LIFETIME_CFG,
  xfrm_lifetime_cur: LIFETIME_CUR,
  xfrm_stats: STATS,
  xfrm_usersa_info: USERSA_INFO,
  xfrm_userpolicy_info: USERPOLICY_INFO,
  xfrm_user_tmpl: USER_TMPL,
  xfrm_usersa_id: USERSA_ID,
  xfrm_userspi_info: USERSPI_INFO,
  xfrm_user_expire: USER_EXPIRE,
  xfrm_user_polexpire: USER_POLEXPIRE,
  xfrm_user_acquire: USER_ACQUIRE,
  xfrm_userpolicy_id: USERPOLICY_ID,
  xfrm_userpolicy_type: USERPOLICY_TYPE,
  xfrm_user_migrate: USER_MIGRATE,
  xfrm_user_kmaddress: USER_KMADDRESS,
  xfrm_mark: MARK,
  xfrm_algo: ALGO,
  xfrm_algo_auth: ALGO_AUTH,
  xfrm_algo_aead: ALGO_AEAD,
  xfrm_usersa_flush: USERSA_FLUSH,
  xfrm_replay_state: REPLAY_STATE,
};
