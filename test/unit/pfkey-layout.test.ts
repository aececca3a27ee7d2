// The PF_KEY codec against the installed uapi headers (<linux/pfkeyv2.h>, <linux/ipsec.h>):
// a C probe compiled with gcc prints every constant and struct size, and builds a message by
// assigning struct fields (the compiler lays it out); the codec must read every field back.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as C from '../../src/kernel/pfkey/constants.ts';
import { decodePfkeyMessage } from '../../src/kernel/pfkey/decode.ts';
import { encodePfkeyMessage } from '../../src/kernel/pfkey/encode.ts';

function haveGcc(): boolean {
  try {
    execFileSync('gcc', ['--version'], { stdio: 'ignore' });
    return existsSync('/usr/include/linux/pfkeyv2.h');
  } catch {
    return false;
  }
}
const skip = haveGcc() ? false : 'gcc or /usr/include/linux/pfkeyv2.h missing (npm run bootstrap installs gcc and linux-libc-dev)';

const STRUCTS = [
  'sadb_msg', 'sadb_ext', 'sadb_sa', 'sadb_lifetime', 'sadb_address', 'sadb_key', 'sadb_ident', 'sadb_sens',
  'sadb_prop', 'sadb_comb', 'sadb_supported', 'sadb_alg', 'sadb_spirange', 'sadb_x_kmprivate', 'sadb_x_sa2',
  'sadb_x_policy', 'sadb_x_ipsecrequest', 'sadb_x_nat_t_type', 'sadb_x_nat_t_port', 'sadb_x_sec_ctx',
  'sadb_x_kmaddress', 'sadb_x_filter',
] as const;

// Every macro/enum of the two headers that the codec defines, by name.
const CONSTANTS = Object.keys(C).filter(
  (k) => /^(SADB_|IPSEC_|PF_KEY_V2$|PFKEYV2_REVISION$)/.test(k) && typeof (C as Record<string, unknown>)[k] === 'number',
);

const PROBE = String.raw`
#include <stdio.h>
#include <string.h>
#include <stddef.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <linux/pfkeyv2.h>
#include <linux/ipsec.h>

static unsigned char buf[2048];
static size_t off = 0;
static void *put(size_t n) { void *p = buf + off; memset(p, 0, n); off += n; return p; }
static void pad8(void) { while (off % 8) buf[off++] = 0; }

int main(void) {
${STRUCTS.map((s) => `  printf("size ${s} %zu\\n", sizeof(struct ${s}));`).join('\n')}
  printf("size sockaddr_in %zu\n", sizeof(struct sockaddr_in));
  printf("size sockaddr_in6 %zu\n", sizeof(struct sockaddr_in6));
${CONSTANTS.map((k) => `  printf("const ${k} %lld\\n", (long long)(${k}));`).join('\n')}

  struct sadb_msg *h = put(sizeof *h);
  h->sadb_msg_version = PF_KEY_V2; h->sadb_msg_type = SADB_ADD; h->sadb_msg_errno = 0;
  h->sadb_msg_satype = SADB_SATYPE_ESP; h->sadb_msg_reserved = 0; h->sadb_msg_seq = 0x01020304; h->sadb_msg_pid = 4242;

  struct sadb_sa *sa = put(sizeof *sa);
  sa->sadb_sa_len = sizeof *sa / 8; sa->sadb_sa_exttype = SADB_EXT_SA; sa->sadb_sa_spi = htonl(0xc0ffee01);
  sa->sadb_sa_replay = 64; sa->sadb_sa_state = SADB_SASTATE_MATURE; sa->sadb_sa_auth = SADB_X_AALG_SHA2_256HMAC;
  sa->sadb_sa_encrypt = SADB_X_EALG_AESCBC; sa->sadb_sa_flags = SADB_SAFLAGS_NOECN | SADB_SAFLAGS_PFS;

  struct sadb_lifetime *lt = put(sizeof *lt);
  lt->sadb_lifetime_len = sizeof *lt / 8; lt->sadb_lifetime_exttype = SADB_EXT_LIFETIME_CURRENT;
  lt->sadb_lifetime_allocations = 77; lt->sadb_lifetime_bytes = 0x1122334455667788ULL;
  lt->sadb_lifetime_addtime = 1700000000; lt->sadb_lifetime_usetime = 1700000042;

  struct sadb_address *ad = put(sizeof *ad);
  struct sockaddr_in6 *s6 = put(sizeof *s6); pad8();
  ad->sadb_address_len = (sizeof *ad + sizeof *s6 + 7) / 8; ad->sadb_address_exttype = SADB_EXT_ADDRESS_SRC;
  ad->sadb_address_proto = 135; ad->sadb_address_prefixlen = 64;
  s6->sin6_family = AF_INET6; s6->sin6_port = htons(5000); s6->sin6_flowinfo = htonl(0xabcde); s6->sin6_scope_id = 3;
  inet_pton(AF_INET6, "2001:db8:1::10", &s6->sin6_addr);

  struct sadb_address *ad4 = put(sizeof *ad4);
  struct sockaddr_in *s4 = put(sizeof *s4); pad8();
  ad4->sadb_address_len = (sizeof *ad4 + sizeof *s4 + 7) / 8; ad4->sadb_address_exttype = SADB_EXT_ADDRESS_DST;
  ad4->sadb_address_prefixlen = 32;
  s4->sin_family = AF_INET; s4->sin_port = htons(4500); inet_pton(AF_INET, "192.0.2.7", &s4->sin_addr);

  struct sadb_key *k = put(sizeof *k); unsigned char *kb = put(20); pad8();
  k->sadb_key_len = (sizeof *k + 20 + 7) / 8; k->sadb_key_exttype = SADB_EXT_KEY_AUTH; k->sadb_key_bits = 160;
  for (int i = 0; i < 20; i++) kb[i] = (unsigned char)(0xa0 + i);

  struct sadb_x_sa2 *s2 = put(sizeof *s2);
  s2->sadb_x_sa2_len = sizeof *s2 / 8; s2->sadb_x_sa2_exttype = SADB_X_EXT_SA2; s2->sadb_x_sa2_mode = IPSEC_MODE_TUNNEL;
  s2->sadb_x_sa2_sequence = 9; s2->sadb_x_sa2_reqid = 0x3ffe;

  struct sadb_spirange *sr = put(sizeof *sr);
  sr->sadb_spirange_len = sizeof *sr / 8; sr->sadb_spirange_exttype = SADB_EXT_SPIRANGE;
  sr->sadb_spirange_min = 0x1000; sr->sadb_spirange_max = 0x1fff;

  struct sadb_x_policy *po = put(sizeof *po);
  struct sadb_x_ipsecrequest *rq = put(sizeof *rq);
  struct sockaddr_in6 *t1 = put(sizeof *t1); struct sockaddr_in6 *t2 = put(sizeof *t2);
  struct sadb_x_ipsecrequest *rq2 = put(sizeof *rq2);
  pad8();
  po->sadb_x_policy_len = (sizeof *po + sizeof *rq + 2 * sizeof *t1 + sizeof *rq2) / 8;
  po->sadb_x_policy_exttype = SADB_X_EXT_POLICY; po->sadb_x_policy_type = IPSEC_POLICY_IPSEC;
  po->sadb_x_policy_dir = IPSEC_DIR_OUTBOUND; po->sadb_x_policy_id = 0x209; po->sadb_x_policy_priority = 2000;
  rq->sadb_x_ipsecrequest_len = sizeof *rq + 2 * sizeof *t1; rq->sadb_x_ipsecrequest_proto = IPPROTO_ESP;
  rq->sadb_x_ipsecrequest_mode = IPSEC_MODE_TUNNEL; rq->sadb_x_ipsecrequest_level = IPSEC_LEVEL_UNIQUE;
  rq->sadb_x_ipsecrequest_reqid = 12;
  t1->sin6_family = AF_INET6; inet_pton(AF_INET6, "2001:db8:a::1", &t1->sin6_addr);
  t2->sin6_family = AF_INET6; inet_pton(AF_INET6, "2001:db8:b::2", &t2->sin6_addr);
  rq2->sadb_x_ipsecrequest_len = sizeof *rq2; rq2->sadb_x_ipsecrequest_proto = IPPROTO_AH;
  rq2->sadb_x_ipsecrequest_mode = IPSEC_MODE_TRANSPORT; rq2->sadb_x_ipsecrequest_level = IPSEC_LEVEL_REQUIRE;

  struct sadb_supported *su = put(sizeof *su); struct sadb_alg *al = put(sizeof *al);
  su->sadb_supported_len = (sizeof *su + sizeof *al) / 8; su->sadb_supported_exttype = SADB_EXT_SUPPORTED_ENCRYPT;
  al->sadb_alg_id = SADB_X_EALG_AESCBC; al->sadb_alg_ivlen = 8; al->sadb_alg_minbits = 128; al->sadb_alg_maxbits = 256;

  struct sadb_prop *pr = put(sizeof *pr); struct sadb_comb *cb = put(sizeof *cb);
  pr->sadb_prop_len = (sizeof *pr + sizeof *cb) / 8; pr->sadb_prop_exttype = SADB_EXT_PROPOSAL; pr->sadb_prop_replay = 32;
  cb->sadb_comb_auth = SADB_AALG_SHA1HMAC; cb->sadb_comb_encrypt = SADB_X_EALG_AESCBC; cb->sadb_comb_flags = 1;
  cb->sadb_comb_auth_minbits = 160; cb->sadb_comb_auth_maxbits = 160; cb->sadb_comb_encrypt_minbits = 128;
  cb->sadb_comb_encrypt_maxbits = 256; cb->sadb_comb_soft_allocations = 5; cb->sadb_comb_hard_allocations = 6;
  cb->sadb_comb_soft_bytes = 7; cb->sadb_comb_hard_bytes = 8; cb->sadb_comb_soft_addtime = 20*60*60;
  cb->sadb_comb_hard_addtime = 24*60*60; cb->sadb_comb_soft_usetime = 7*60*60; cb->sadb_comb_hard_usetime = 8*60*60;

  struct sadb_x_nat_t_type *nt = put(sizeof *nt);
  nt->sadb_x_nat_t_type_len = 1; nt->sadb_x_nat_t_type_exttype = SADB_X_EXT_NAT_T_TYPE; nt->sadb_x_nat_t_type_type = 2;
  struct sadb_x_nat_t_port *np = put(sizeof *np);
  np->sadb_x_nat_t_port_len = 1; np->sadb_x_nat_t_port_exttype = SADB_X_EXT_NAT_T_SPORT; np->sadb_x_nat_t_port_port = htons(4500);

  struct sadb_x_sec_ctx *sc = put(sizeof *sc); char *ctx = put(11); pad8();
  sc->sadb_x_sec_len = (sizeof *sc + 11 + 7) / 8; sc->sadb_x_sec_exttype = SADB_X_EXT_SEC_CTX;
  sc->sadb_x_ctx_alg = 1; sc->sadb_x_ctx_doi = 1; sc->sadb_x_ctx_len = 11; memcpy(ctx, "system_u:xy", 11);

  struct sadb_x_kmaddress *km = put(sizeof *km);
  struct sockaddr_in *k1 = put(sizeof *k1); struct sockaddr_in *k2 = put(sizeof *k2);
  km->sadb_x_kmaddress_len = (sizeof *km + 2 * sizeof *k1) / 8; km->sadb_x_kmaddress_exttype = SADB_X_EXT_KMADDRESS;
  k1->sin_family = AF_INET; inet_pton(AF_INET, "198.51.100.1", &k1->sin_addr);
  k2->sin_family = AF_INET; inet_pton(AF_INET, "198.51.100.2", &k2->sin_addr);

  struct sadb_x_filter *fi = put(sizeof *fi);
  fi->sadb_x_filter_len = sizeof *fi / 8; fi->sadb_x_filter_exttype = SADB_X_EXT_FILTER;
  fi->sadb_x_filter_saddr[0] = 0x11111111; fi->sadb_x_filter_daddr[3] = 0x22222222;
  fi->sadb_x_filter_family = AF_INET6; fi->sadb_x_filter_splen = 48; fi->sadb_x_filter_dplen = 64;

  struct sadb_ident *id = put(sizeof *id); char *idd = put(8);
  id->sadb_ident_len = (sizeof *id + 8) / 8; id->sadb_ident_exttype = SADB_EXT_IDENTITY_SRC;
  id->sadb_ident_type = SADB_IDENTTYPE_FQDN; id->sadb_ident_id = 99; memcpy(idd, "mn.test", 7);

  h->sadb_msg_len = off / 8;
  printf("msg ");
  for (size_t i = 0; i < off; i++) printf("%02x", buf[i]);
  printf("\n");
  return 0;
}
`;

let out = '';
let dir = '';

describe('PF_KEY layout vs <linux/pfkeyv2.h> and <linux/ipsec.h>', { skip }, () => {
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'iro-pfkey-probe-'));
    writeFileSync(join(dir, 'probe.c'), PROBE);
    execFileSync('gcc', ['-Wall', '-Werror', '-o', join(dir, 'probe'), join(dir, 'probe.c')], { stdio: 'pipe' });
    out = execFileSync(join(dir, 'probe'), { encoding: 'utf8' });
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const line = (kind: string, name: string): string => {
    const m = out.match(new RegExp(name ? `^${kind} ${name} (\\S+)$` : `^${kind} (\\S+)$`, 'm'));
    assert.ok(m, `probe printed no ${kind} for ${name}`);
    return m[1]!;
  };

  test('D01 every struct size equals the codec SIZEOF table', () => {
    for (const s of [...STRUCTS, 'sockaddr_in', 'sockaddr_in6'] as const)
      assert.equal(C.SIZEOF[s], Number(line('size', s)), `sizeof(struct ${s})`);
  });

  test(`D01 all ${CONSTANTS.length} message/extension/SA/ipsec constants equal the header values`, () => {
    assert.ok(CONSTANTS.length > 120, `expected the full constant set, found ${CONSTANTS.length}`);
    for (const k of CONSTANTS) assert.equal((C as unknown as Record<string, number>)[k], Number(line('const', k)), k);
  });

  test('D01 extension minimum lengths match af_key sadb_ext_min_len (struct sizes)', () => {
    const map: Record<number, string> = {
      1: 'sadb_sa', 2: 'sadb_lifetime', 3: 'sadb_lifetime', 4: 'sadb_lifetime', 5: 'sadb_address', 6: 'sadb_address',
      7: 'sadb_address', 8: 'sadb_key', 9: 'sadb_key', 10: 'sadb_ident', 11: 'sadb_ident', 12: 'sadb_sens',
      13: 'sadb_prop', 14: 'sadb_supported', 15: 'sadb_supported', 16: 'sadb_spirange', 17: 'sadb_x_kmprivate',
      18: 'sadb_x_policy', 19: 'sadb_x_sa2', 20: 'sadb_x_nat_t_type', 21: 'sadb_x_nat_t_port', 22: 'sadb_x_nat_t_port',
      23: 'sadb_address', 24: 'sadb_x_sec_ctx', 25: 'sadb_x_kmaddress', 26: 'sadb_x_filter',
    };
    for (let t = 1; t <= C.SADB_EXT_MAX; t++) assert.equal(C.EXT_MIN_LEN[t], Number(line('size', map[t]!)), `ext ${t}`);
  });

  test('D01 a message laid out by the C compiler decodes field by field, and re-encodes to the same bytes', () => {
    const bytes = Buffer.from(line('msg', ''), 'hex');
    const m = decodePfkeyMessage(bytes);
    assert.equal(m.version, 2);
    assert.equal(m.type, C.SADB_ADD);
    assert.equal(m.satype, C.SADB_SATYPE_ESP);
    assert.equal(m.seq, 0x01020304);
    assert.equal(m.pid, 4242);
    assert.equal(m.length, bytes.length);
    const e = m.ext;
    assert.deepEqual(e.sa, { spi: 0xc0ffee01, replay: 64, state: 1, auth: 5, encrypt: 12, flags: 0x80000001 });
    assert.deepEqual(e.lifetimeCurrent, { allocations: 77, bytes: 0x1122334455667788n, addtime: 1700000000n, usetime: 1700000042n });
    assert.deepEqual(e.src, {
      proto: 135,
      prefixlen: 64,
      reserved: 0,
      addr: { family: 'inet6', address: '2001:db8:1::10', port: 5000, flowinfo: 0xabcde, scopeId: 3 },
    });
    assert.deepEqual(e.dst, { proto: 0, prefixlen: 32, reserved: 0, addr: { family: 'inet', address: '192.0.2.7', port: 4500 } });
    assert.equal(e.keyAuth?.bits, 160);
    assert.deepEqual([...e.keyAuth!.key.reveal()], Array.from({ length: 20 }, (_, i) => 0xa0 + i));
    assert.deepEqual(e.sa2, { mode: 2, reserved1: 0, reserved2: 0, sequence: 9, reqid: 0x3ffe });
    assert.deepEqual(e.spirange, { min: 0x1000, max: 0x1fff, reserved: 0 });
    assert.equal(e.policy?.type, 2);
    assert.equal(e.policy?.dir, 2);
    assert.equal(e.policy?.id, 0x209);
    assert.equal(e.policy?.priority, 2000);
    assert.equal(e.policy?.requests.length, 2);
    assert.deepEqual(e.policy?.requests[0], {
      proto: 50, mode: 2, level: 3, reqid: 12, reserved1: 0, reserved2: 0, length: 16 + 56,
      endpoints: {
        src: { family: 'inet6', address: '2001:db8:a::1', port: 0, flowinfo: 0, scopeId: 0 },
        dst: { family: 'inet6', address: '2001:db8:b::2', port: 0, flowinfo: 0, scopeId: 0 },
      },
    });
    assert.deepEqual(e.policy?.requests[1], { proto: 51, mode: 1, level: 2, reqid: 0, reserved1: 0, reserved2: 0, length: 16 });
    assert.deepEqual(e.supportedEncrypt, { reserved: 0, algs: [{ id: 12, ivlen: 8, minbits: 128, maxbits: 256, reserved: 0 }] });
    assert.equal(e.proposal?.replay, 32);
    assert.deepEqual(e.proposal?.combs[0], {
      auth: 3, encrypt: 12, flags: 1, authMinbits: 160, authMaxbits: 160, encryptMinbits: 128, encryptMaxbits: 256,
      reserved: 0, softAllocations: 5, hardAllocations: 6, softBytes: 7n, hardBytes: 8n, softAddtime: 72000n,
      hardAddtime: 86400n, softUsetime: 25200n, hardUsetime: 28800n,
    });
    assert.deepEqual(e.natTType, { type: 2, reserved: 0 });
    assert.deepEqual(e.natTSport, { port: 4500, reserved: 0 });
    assert.equal(e.secCtx?.alg, 1);
    assert.equal(e.secCtx?.doi, 1);
    assert.equal(e.secCtx?.ctx.toString(), 'system_u:xy');
    assert.deepEqual(e.kmaddress, {
      reserved: 0,
      local: { family: 'inet', address: '198.51.100.1', port: 0 },
      remote: { family: 'inet', address: '198.51.100.2', port: 0 },
    });
    assert.equal(e.filter?.family, 10);
    assert.equal(e.filter?.splen, 48);
    assert.equal(e.filter?.dplen, 64);
    assert.equal(e.filter?.saddr.readUInt32LE(0), 0x11111111);
    assert.equal(e.filter?.daddr.readUInt32LE(12), 0x22222222);
    assert.equal(e.identitySrc?.identType, 2);
    assert.equal(e.identitySrc?.id, 99n);
    assert.equal(e.identitySrc?.data.subarray(0, 7).toString(), 'mn.test');
    assert.deepEqual(encodePfkeyMessage(m), bytes);
  });
});
