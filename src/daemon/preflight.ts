// Preflight (L01, L02): the capabilities iro-ctl needs, named when missing, and the kernel
// features, each reported on its own.
import { existsSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

export const CAP_NET_ADMIN = 12;
export const CAP_NET_RAW = 13;
export const CAP_SYS_ADMIN = 21;
export const CAP_BPF = 39;

/** Effective capabilities from /proc/self/status (CapEff, hex). */
export function effectiveCaps(statusText = readFileSync('/proc/self/status', 'utf8')): bigint {
  const m = statusText.match(/^CapEff:\s*([0-9a-f]+)$/m);
  return m ? BigInt(`0x${m[1]}`) : 0n;
}

const has = (caps: bigint, bit: number) => (caps & (1n << BigInt(bit))) !== 0n;

/** The missing capabilities by name (CAP_BPF may be replaced by CAP_SYS_ADMIN on old kernels). */
export function missingCapabilities(caps: bigint): string[] {
  const out: string[] = [];
  if (!has(caps, CAP_NET_ADMIN)) out.push('CAP_NET_ADMIN');
  if (!has(caps, CAP_BPF) && !has(caps, CAP_SYS_ADMIN)) out.push('CAP_BPF (or CAP_SYS_ADMIN)');
  if (!has(caps, CAP_NET_RAW)) out.push('CAP_NET_RAW');
  return out;
}

export function requireCapabilities(what: string, caps = effectiveCaps()): void {
  const missing = missingCapabilities(caps);
  if (missing.length) throw new Error(`${what} needs ${missing.join(', ')}: run it as root or grant them (the systemd unit does)`);
}

export interface FeatureReport {
  feature: string;
  ok: boolean;
  detail: string;
}

type Presence = 'loaded' | 'builtin' | 'module' | 'absent' | 'unknown';

/** Where a kernel feature stands: loaded module, built in, loadable module, or absent. */
function presence(mod: string, configSym: string): Presence {
  const loaded = existsSync('/proc/modules') && readFileSync('/proc/modules', 'utf8').split('\n').some((l) => l.startsWith(`${mod} `));
  if (loaded) return 'loaded';
  const release = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
  const builtinFile = `/lib/modules/${release}/modules.builtin`;
  if (existsSync(builtinFile) && readFileSync(builtinFile, 'utf8').split('\n').some((l) => l.endsWith(`/${mod}.ko`))) return 'builtin';
  if (existsSync('/proc/config.gz')) {
    const cfg = gunzipSync(readFileSync('/proc/config.gz')).toString('utf8');
    if (new RegExp(`^${configSym}=y$`, 'm').test(cfg)) return 'builtin';
    if (new RegExp(`^${configSym}=m$`, 'm').test(cfg)) return 'module';
    return 'absent';
  }
  const modDir = `/lib/modules/${release}`;
  if (existsSync(`${modDir}/modules.dep`) && readFileSync(`${modDir}/modules.dep`, 'utf8').includes(`/${mod}.ko`)) return 'module';
  return 'unknown';
}

const FEATURES: Array<{ feature: string; mod: string; sym: string; why: string; required: boolean }> = [
  { feature: 'xfrm_user', mod: 'xfrm_user', sym: 'CONFIG_XFRM_USER', why: 'XFRM netlink: SA/policy push and events', required: true },
  { feature: 'esp6', mod: 'esp6', sym: 'CONFIG_INET6_ESP', why: 'IPv6 ESP', required: true },
  { feature: 'ah6', mod: 'ah6', sym: 'CONFIG_INET6_AH', why: 'IPv6 AH (only if AH SAs are configured)', required: false },
  { feature: 'af_key', mod: 'af_key', sym: 'CONFIG_NET_KEY', why: 'PF_KEY; without it SAs are tracked through XFRM only', required: false },
  { feature: 'ip6_tunnel', mod: 'ip6_tunnel', sym: 'CONFIG_IPV6_TUNNEL', why: 'ip6tnl: the MN-HA tunnel', required: false },
  { feature: 'sch_ingress', mod: 'sch_ingress', sym: 'CONFIG_NET_SCH_INGRESS', why: 'the clsact qdisc (tc attach on kernels without tcx)', required: false },
  { feature: 'cls_bpf', mod: 'cls_bpf', sym: 'CONFIG_NET_CLS_BPF', why: 'tc BPF filters (on kernels without tcx)', required: false },
];

/** What this kernel offers, each feature on its own line (L02). */
export function kernelFeatures(): FeatureReport[] {
  const out: FeatureReport[] = [{ feature: 'bpf', ok: existsSync('/proc/sys/kernel/unprivileged_bpf_disabled'), detail: 'bpf(2) for the remap programs' }];
  for (const f of FEATURES) {
    const p = presence(f.mod, f.sym);
    const ok = p === 'loaded' || p === 'builtin' || p === 'module';
    const how = p === 'module' ? `available as a module (modprobe ${f.mod})` : p === 'unknown' ? 'could not be determined' : p;
    out.push({ feature: f.feature, ok: ok || p === 'unknown', detail: `${f.why}: ${how}${f.required && !ok ? ' — REQUIRED' : ''}` });
  }
  return out;
}
