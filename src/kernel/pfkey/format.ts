// The only ways PF_KEY messages become text: a one-line summary for logs and a JSON-safe
// object for structured logs and debug dumps. Both redact KEY_AUTH/KEY_ENCRYPT to their bit
// length (DIGEST D08), turn u64 values into numbers or decimal strings, and name constants.
import {
  AUTH_ALG_NAMES,
  ENC_ALG_NAMES,
  IPSEC_DIR_NAMES,
  IPSEC_MODE_NAMES,
  IPSEC_POLICY_NAMES,
  SA_STATE_NAMES,
  messageTypeName,
  satypeName,
} from './constants.ts';
import { isKeyMaterial } from './key-material.ts';
import type { PfkeyMessage, PfkeySockaddr, SadbAddress } from './types.ts';

const REDACTED_KEY_FIELDS = new Set(['keyAuth', 'keyEncrypt']);

/** A JSON-safe, key-free copy of a decoded message (safe for pino, JSON.stringify, files). */
export function pfkeyLoggable(msg: PfkeyMessage): Record<string, unknown> {
  const ext: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(msg.ext)) {
    if (value === undefined) continue;
    if (REDACTED_KEY_FIELDS.has(name)) {
      const bits = (value as { bits?: unknown }).bits;
      ext[name] = { bits: typeof bits === 'number' ? bits : null, key: 'redacted' };
      continue;
    }
    ext[name] = jsonSafe(value);
  }
  const out: Record<string, unknown> = {
    type: messageTypeName(msg.type),
    satype: satypeName(msg.satype),
    errno: msg.errno,
    version: msg.version,
    seq: msg.seq,
    pid: msg.pid,
    ext,
  };
  if (msg.reserved) out.reserved = msg.reserved;
  if (msg.removedKeys) out.removedKeys = { ...msg.removedKeys };
  if (msg.unknown?.length) out.unknownExtensions = msg.unknown.map((u) => ({ ...u }));
  return out;
}

function jsonSafe(v: unknown): unknown {
  if (v === null || v === undefined) return v;
  if (typeof v === 'bigint') return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
  if (typeof v !== 'object') return v;
  // Key material nested anywhere (defence in depth) stays redacted.
  if (isKeyMaterial(v)) return v.toJSON();
  if (Buffer.isBuffer(v)) return v.toString('hex');
  if (Array.isArray(v)) return v.map(jsonSafe);
  const o: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) o[k] = jsonSafe(x);
  return o;
}

function sockaddrText(a: PfkeySockaddr): string {
  const host = a.family === 'inet6' ? `[${a.address}]` : a.address;
  return a.port ? `${host}:${a.port}` : a.address;
}

function addressText(a: SadbAddress): string {
  const full = a.addr.family === 'inet6' ? 128 : 32;
  const prefix = a.prefixlen && a.prefixlen !== full ? `/${a.prefixlen}` : '';
  return `${sockaddrText(a.addr)}${prefix}${a.proto ? ` proto ${a.proto}` : ''}`;
}

export function spiHex(spi: number): string {
  return `0x${spi.toString(16).padStart(8, '0')}`;
}

/** One line for logs, e.g. `SADB_ADD esp seq=3 pid=42 spi=0x00001234 src=... dst=... keys=[auth 256 bits redacted]`. */
export function formatPfkeyMessage(msg: PfkeyMessage): string {
  const e = msg.ext;
  const parts = [messageTypeName(msg.type), satypeName(msg.satype), `seq=${msg.seq}`, `pid=${msg.pid}`];
  if (msg.errno) parts.push(`errno=${msg.errno}`);
  if (msg.version !== 2) parts.push(`version=${msg.version}`);
  if (e.sa) {
    parts.push(`spi=${spiHex(e.sa.spi)}`, `state=${SA_STATE_NAMES[e.sa.state] ?? e.sa.state}`);
    if (e.sa.auth) parts.push(`auth=${AUTH_ALG_NAMES[e.sa.auth] ?? e.sa.auth}`);
    if (e.sa.encrypt) parts.push(`enc=${ENC_ALG_NAMES[e.sa.encrypt] ?? e.sa.encrypt}`);
  }
  if (e.src) parts.push(`src=${addressText(e.src)}`);
  if (e.dst) parts.push(`dst=${addressText(e.dst)}`);
  if (e.proxy) parts.push(`proxy=${addressText(e.proxy)}`);
  if (e.sa2) parts.push(`mode=${IPSEC_MODE_NAMES[e.sa2.mode] ?? e.sa2.mode}`, `reqid=${e.sa2.reqid}`);
  if (e.lifetimeHard) parts.push('lifetime=hard');
  if (e.lifetimeSoft) parts.push('lifetime=soft');
  const keys: string[] = [];
  if (e.keyAuth) keys.push(`auth ${e.keyAuth.bits} bits redacted`);
  if (e.keyEncrypt) keys.push(`encrypt ${e.keyEncrypt.bits} bits redacted`);
  if (msg.removedKeys?.auth !== undefined) keys.push(`auth ${msg.removedKeys.auth} bits removed`);
  if (msg.removedKeys?.encrypt !== undefined) keys.push(`encrypt ${msg.removedKeys.encrypt} bits removed`);
  if (keys.length) parts.push(`keys=[${keys.join(', ')}]`);
  if (e.spirange) parts.push(`spirange=${spiHex(e.spirange.min)}-${spiHex(e.spirange.max)}`);
  if (e.policy) {
    const p = e.policy;
    parts.push(
      `policy=${IPSEC_DIR_NAMES[p.dir] ?? p.dir}/${IPSEC_POLICY_NAMES[p.type] ?? p.type}`,
      `id=${p.id}`,
      `priority=${p.priority}`,
    );
    for (const rq of p.requests) {
      const ends = rq.endpoints ? ` ${sockaddrText(rq.endpoints.src)}->${sockaddrText(rq.endpoints.dst)}` : '';
      parts.push(`tmpl(proto ${rq.proto} ${IPSEC_MODE_NAMES[rq.mode] ?? rq.mode} reqid ${rq.reqid}${ends})`);
    }
  }
  if (e.supportedAuth) parts.push(`auth-algs=${e.supportedAuth.algs.length}`);
  if (e.supportedEncrypt) parts.push(`enc-algs=${e.supportedEncrypt.algs.length}`);
  if (e.natTType) parts.push(`natt=${e.natTType.type}`);
  if (e.kmaddress) parts.push(`km=${sockaddrText(e.kmaddress.local)}->${sockaddrText(e.kmaddress.remote)}`);
  if (msg.unknown?.length) parts.push(`unknown-ext=${msg.unknown.map((u) => u.type).join(',')}`);
  return parts.join(' ');
}
