// Where the data path lives outside the process: pins in bpffs (maps, programs, tcx links) so
// the data path survives a daemon restart (tubular-style), and a small state file for what
// bpffs cannot hold (which hooks we attached and which clsact qdiscs we created).
import { join } from 'node:path';

export const DEFAULT_PIN_DIR = '/sys/fs/bpf/iro-ctl';
export const DEFAULT_STATE_FILE = '/run/iro-ctl/datapath.json';

export const MAP_NAMES = [
  'iro_rules',
  'iro_rule_stats',
  'iro_stats',
  'iro_cfg',
  'iro_anc_out',
  'iro_anc_in',
  'iro_anc_ring',
  'iro_anc_seq',
  'iro_events',
  'iro_miss_seen',
  'iro_frag',
  'iro_hoas',
  'iro_peers',
] as const;
export type MapName = (typeof MAP_NAMES)[number];

export const PROGRAM_NAMES = ['iro_ingress', 'iro_egress', 'iro_ingress_l3', 'iro_egress_l3'] as const;
export type ProgramName = (typeof PROGRAM_NAMES)[number];

/** Our clsact filter identity (so we only ever touch our own filter). */
export const CLSACT_HANDLE = 0x1ac0;
export const CLSACT_PRIORITY = 0x1ac0;

export function pinPaths(pinDir: string) {
  return {
    dir: pinDir,
    maps: join(pinDir, 'maps'),
    progs: join(pinDir, 'progs'),
    links: join(pinDir, 'links'),
    map: (name: MapName) => join(pinDir, 'maps', name),
    prog: (name: ProgramName) => join(pinDir, 'progs', name),
    // interface names repeat across namespaces: the namespace inode keeps link pins apart
    link: (ifname: string, direction: string, netnsInode: number) => join(pinDir, 'links', `${direction}-${pinSafe(ifname)}-${netnsInode}`),
  };
}

/** bpffs reserves "." in names (EPERM), and interface names may contain it (VLANs). */
export function pinSafe(name: string): string {
  return name.replace(/[^A-Za-z0-9_-]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
