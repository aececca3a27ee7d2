// Golden XFRM fixtures (test/fixtures/xfrm/*.json, captured from iproute2 by capture.ts) and
// the model inputs that describe the same objects, for the golden and E01 tests.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../src/kernel/native.ts';
import { parseMessages, type NetlinkMessage } from '../../src/kernel/netlink/message.ts';
import { SecretKey } from '../../src/kernel/xfrm/secret-key.ts';
import type { XfrmPolicyInput, XfrmSaInput } from '../../src/kernel/xfrm/model.ts';
import { FIXTURE_KEYS } from '../fixtures/xfrm/capture.ts';

export interface XfrmFixture {
  name: string;
  command: string;
  note: string;
  producedBy: string;
  exitCode: number | null;
  stderr: string;
  sent: string[];
  received: string[];
  steps?: string[];
}

export function loadFixture(name: string): XfrmFixture {
  return JSON.parse(readFileSync(join(projectRoot(), 'test', 'fixtures', 'xfrm', `${name}.json`), 'utf8')) as XfrmFixture;
}

/** The single request message iproute2 sent. */
export function sentMessage(f: XfrmFixture): NetlinkMessage {
  const msgs = f.sent.flatMap((h) => parseMessages(Buffer.from(h, 'hex')));
  if (msgs.length !== 1) throw new Error(`${f.name}: expected 1 sent message, found ${msgs.length}`);
  return msgs[0]!;
}

export function receivedMessages(f: XfrmFixture): NetlinkMessage[] {
  return f.received.flatMap((h) => parseMessages(Buffer.from(h, 'hex')));
}

export const HOA = '2001:db8:1::1000';
export const HA = '2001:db8:1::1';
export const COA = '2001:db8:2::1000';
const AF6 = 10;
const AF4 = 2;
export const key = (hex: string) => SecretKey.fromHex(hex);
export { FIXTURE_KEYS };

const host = (a: string, b: string, proto = 0) => ({ family: AF6, saddr: a, daddr: b, prefixlenS: 128, prefixlenD: 128, proto });

export const SA1: XfrmSaInput = {
  id: { daddr: HA, spi: 0x1001, proto: 50 },
  saddr: HOA,
  family: AF6,
  mode: 0,
  reqid: 101,
  selector: host(HOA, HA, 135),
  auth: { name: 'hmac(sha256)', key: key(FIXTURE_KEYS.k1Sha256), truncBits: 128 },
  crypt: { name: 'cbc(aes)', key: key(FIXTURE_KEYS.e1Aes128) },
};

/** fixture name -> the model our encoder gets for the same object */
export const SA_FIXTURES: Record<string, XfrmSaInput> = {
  'e01-sa1-newsa': SA1,
  'sa-updsa': SA1,
  'sa2-newsa': {
    id: { daddr: HOA, spi: 0x1002, proto: 50 },
    saddr: HA,
    family: AF6,
    mode: 0,
    reqid: 102,
    selector: host(HA, HOA, 135),
    auth: { name: 'hmac(sha256)', key: key(FIXTURE_KEYS.k2Sha256), truncBits: 128 },
    crypt: { name: 'cbc(aes)', key: key(FIXTURE_KEYS.e2Aes128) },
  },
  'sa-mh-type-newsa': {
    id: { daddr: HA, spi: 0x1011, proto: 50 },
    saddr: HOA,
    family: AF6,
    mode: 0,
    reqid: 111,
    selector: { ...host(HOA, HA, 135), sport: 5, sportMask: 0xffff },
    auth: { name: 'hmac(sha1)', key: key(FIXTURE_KEYS.kSha1), truncBits: 96 },
    crypt: { name: 'cbc(aes)', key: key(FIXTURE_KEYS.e1Aes128) },
  },
  'sa-icmpv6-tunnel-newsa': {
    id: { daddr: HA, spi: 0x1005, proto: 50 },
    saddr: COA,
    family: AF6,
    mode: 1,
    reqid: 105,
    replayWindow: 32,
    flags: 1,
    selector: { ...host(HOA, HA, 58), sport: 135, sportMask: 0xffff, dport: 0, dportMask: 0xffff },
    lifetime: { softAddExpiresSeconds: 3000n, hardAddExpiresSeconds: 3600n, hardByteLimit: 1000000n },
    mark: { value: 0x10, mask: 0xff },
    setMark: { value: 0x20, mask: 0xf0 },
    ifId: 7,
    auth: { name: 'hmac(sha512)', key: key(FIXTURE_KEYS.kSha512), truncBits: 256 },
    crypt: { name: 'cbc(aes)', key: key(FIXTURE_KEYS.eAes256) },
  },
  'sa-ah-newsa': {
    id: { daddr: HA, spi: 0x2001, proto: 51 },
    saddr: HOA,
    family: AF6,
    mode: 0,
    reqid: 201,
    auth: { name: 'hmac(sha1)', key: key(FIXTURE_KEYS.kSha1), truncBits: 96 },
  },
  'sa-aead-newsa': {
    id: { daddr: HA, spi: 0x3001, proto: 50 },
    saddr: HOA,
    family: AF6,
    mode: 0,
    reqid: 301,
    aead: { name: 'rfc4106(gcm(aes))', key: key(FIXTURE_KEYS.aeadGcm), icvBits: 128 },
  },
  'sa-ipv4-tunnel-newsa': {
    id: { daddr: '192.0.2.2', spi: 0x4001, proto: 50 },
    saddr: '192.0.2.1',
    family: AF4,
    mode: 1,
    reqid: 401,
    auth: { name: 'hmac(sha256)', key: key(FIXTURE_KEYS.k1Sha256) },
    crypt: { name: 'cbc(aes)', key: key(FIXTURE_KEYS.e1Aes128) },
  },
};

const esp = (reqid: number, extra: Partial<NonNullable<XfrmPolicyInput['templates']>[number]> = {}) => ({ id: { proto: 50 }, family: AF6, mode: 0, reqid, ...extra });

export const POLICY_FIXTURES: Record<string, XfrmPolicyInput> = {
  'policy-sa1-out-newpolicy': { selector: host(HOA, HA, 135), dir: 1, templates: [esp(101)] },
  'policy-sa2-in-newpolicy': { selector: host(HA, HOA, 135), dir: 0, templates: [esp(102)] },
  'policy-icmpv6-newpolicy': {
    selector: { ...host(HOA, HA, 58), sport: 135, sportMask: 0xffff, dport: 0, dportMask: 0xffff },
    dir: 1,
    priority: 100,
    mark: { value: 0x10, mask: 0xff },
    ifId: 7,
    templates: [esp(105)],
  },
  'policy-tunnel-mh-newpolicy': {
    selector: { family: AF6, saddr: HOA, prefixlenS: 128, daddr: '::', prefixlenD: 0, proto: 135, sport: 5, sportMask: 0xffff },
    dir: 1,
    templates: [{ id: { daddr: HA, proto: 50 }, saddr: COA, family: AF6, mode: 1, reqid: 103 }],
  },
  'policy-optional-in-newpolicy': {
    selector: { family: AF6, saddr: '2001:db8:7::', prefixlenS: 64, daddr: HOA, prefixlenD: 128 },
    dir: 0,
    templates: [esp(104, { optional: true })],
  },
  'policy-sub-block-newpolicy': {
    selector: { family: AF6, saddr: '2001:db8:5::', prefixlenS: 64, daddr: '2001:db8:6::', prefixlenD: 64 },
    dir: 2,
    action: 1,
    type: 1,
  },
  'policy-ipv4-newpolicy': {
    selector: { family: AF4, saddr: '192.0.2.1', prefixlenS: 32, daddr: '192.0.2.2', prefixlenD: 32, proto: 17, sport: 500, sportMask: 0xffff, dport: 4500, dportMask: 0xffff },
    dir: 1,
    templates: [{ id: { daddr: '192.0.2.2', proto: 50 }, saddr: '192.0.2.1', family: AF4, mode: 1, reqid: 7 }],
  },
  'policy-updpolicy': { selector: host(HOA, HA, 135), dir: 1, priority: 5, templates: [esp(101)] },
};
