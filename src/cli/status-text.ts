// Human-readable `iro-ctl status` (the JSON form is --json). Keys never reach it: the status
// object holds none.
type Obj = Record<string, unknown>;
const OWNED_LISTED = 32;

export function formatStatus(st: Obj): string {
  const lines: string[] = [];
  lines.push(`role ${String(st.role)}, pid ${String(st.pid)}, up ${String(st.uptimeSeconds)} s, PF_KEY: ${String(st.pfkey)}`);
  const fs = st.firstSync as Obj | null;
  const fp = st.firstPush as Obj | null;
  if (fs && fp) {
    lines.push(
      `start-up: data path ${st.adoptedDatapath ? 'adopted' : 'created'}, rules put ${String(fs.put)} deleted ${String(fs.deleted)} kept ${String(fs.unchanged)}; ` +
        `SAs/policies added ${String(fp.added)} replaced ${String(fp.replaced)} removed ${String(fp.removed)} kept ${String(fp.unchanged)}`,
    );
  }
  const coa = st.coa as Obj | null;
  if (coa) lines.push(coa.atHome ? `at home (${String(coa.ifname)})` : coa.coa ? `care-of address ${String(coa.coa)} on ${String(coa.ifname)}` : `no care-of address: ${String(coa.why)}`);
  const mn = st.mn as { entries?: Obj[] } | null;
  for (const e of mn?.entries ?? []) {
    lines.push(`  ${e.home ? 'home agent' : 'peer'} ${String(e.peer)}: ${String(e.state)}${e.coa ? ` (CoA ${String(e.coa)})` : ''}${e.phase && e.phase !== 'idle' ? `, ${String(e.phase)}` : ''}${e.remainingMs !== null && e.remainingMs !== undefined ? `, ${Math.round(Number(e.remainingMs) / 1000)} s left` : ''}`);
  }
  const cn = st.cn as { bindings?: Obj[] } | null;
  for (const b of cn?.bindings ?? []) lines.push(`  mobile node ${String(b.hoa)}: accepted ${String(b.acceptedCoa ?? '-')}, proven ${String(b.provenCoa ?? '-')}${b.pendingCoa ? `, testing ${String(b.pendingCoa)}` : ''}`);
  const ha = st.ha as { entries?: Obj[] } | null;
  for (const b of ha?.entries ?? []) lines.push(`  home address ${String(b.hoa)} -> ${String(b.coa)}`);
  const owned = st.owned as { sas?: Obj[]; policies?: number } | undefined;
  if (owned?.sas) {
    lines.push(`owned: ${owned.sas.length} SAs, ${String(owned.policies)} policies`);
    // a home agent serving many MNs owns four SAs per MN: the text lists the first ones (--json has all)
    for (const s of owned.sas.slice(0, OWNED_LISTED)) lines.push(`  ${String(s.proto)} spi 0x${Number(s.spi).toString(16)} ${String(s.saddr)} -> ${String(s.daddr)} ${String(s.mode)}`);
    if (owned.sas.length > OWNED_LISTED) lines.push(`  ... ${owned.sas.length - OWNED_LISTED} more (iro-ctl status --json)`);
  }
  const sas = (st.sas as Obj[]) ?? [];
  lines.push(`tracked SAs: ${sas.length}`);
  for (const s of sas) {
    const k = s.sa as Obj;
    lines.push(`  ${String(k.proto)} spi 0x${Number(k.spi).toString(16)} ${String(s.dir)} ${String(s.class)} peer ${String(s.peer ?? '-')}`);
  }
  const rules = (st.rules as Obj[]) ?? [];
  lines.push(`rules: ${rules.length}`);
  for (const r of rules) {
    const c = r.counters as Obj | null;
    const cnt = c ? ` [hits src ${String(c.srcHits)} dst ${String(c.dstHits)}, mismatches ${Number(c.srcMismatch) + Number(c.dstMismatch)}]` : '';
    lines.push(`  ${String(r.id)}${cnt}`);
    for (const why of (r.reasons as string[]) ?? []) lines.push(`      ${why}`);
  }
  const dp = st.datapath as { counters?: Obj } | undefined;
  const nz = Object.entries(dp?.counters ?? {}).filter(([, v]) => String(v) !== '0');
  lines.push(`data path counters: ${nz.length ? nz.map(([k, v]) => `${k}=${String(v)}`).join(' ') : 'all zero'}`);
  const misses = (dp as { misses?: Obj } | undefined)?.misses;
  const nm = Object.entries(misses ?? {}).filter(([, v]) => Number(v) !== 0);
  if (nm.length) lines.push(`rule misses looked up: ${nm.map(([k, v]) => `${k}=${String(v)}`).join(' ')}`);
  const sig = st.signalling as { counters?: Obj; mhDrops?: Obj } | undefined;
  const sc = Object.entries({ ...(sig?.counters ?? {}), ...(sig?.mhDrops ?? {}) });
  if (sc.length) lines.push(`signalling counters: ${sc.map(([k, v]) => `${k}=${String(v)}`).join(' ')}`);
  return lines.join('\n');
}
