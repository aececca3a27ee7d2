// Names that can never clash: namespaces carry a prefix, the pid and a per-process counter, so
// parallel runs (and parallel topologies in one run) have disjoint names, and a namespace left
// by a killed run can be traced back to its (dead) pid.

let counter = 0;

export const DEFAULT_PREFIX = 'iro';

/** Topology ids look like `iro-12345-3`; namespaces are `<id>-<host>`. */
export function nextTopologyId(prefix = DEFAULT_PREFIX): string {
  if (!/^[a-z][a-z0-9]{0,11}$/.test(prefix)) throw new Error(`topology prefix "${prefix}": use 1-12 lower-case letters/digits, starting with a letter`);
  counter += 1;
  return `${prefix}-${process.pid}-${counter}`;
}

export function namespaceName(topologyId: string, host: string): string {
  return `${topologyId}-${host}`;
}

/** The pid embedded in a namespace name made by nextTopologyId, or null. */
export function ownerPid(namespace: string, prefix = DEFAULT_PREFIX): number | null {
  const m = namespace.match(new RegExp(`^${prefix}-(\\d+)-\\d+-`));
  return m ? Number(m[1]) : null;
}

export function checkHostName(name: string): void {
  if (!/^[a-z][a-zA-Z0-9]{0,15}$/.test(name)) throw new Error(`host name "${name}": use 1-16 letters/digits, starting with a lower-case letter`);
}

/** Linux limits interface names to 15 bytes; `ip` also parses some words as keywords. */
export function checkIfname(host: string, ifname: string): void {
  if (!/^[A-Za-z0-9_.-]{1,15}$/.test(ifname) || ifname === '.' || ifname === '..')
    throw new Error(`host ${host}: interface name "${ifname}" is not a valid Linux interface name (1-15 of [A-Za-z0-9_.-])`);
  if (ifname === 'lo') throw new Error(`host ${host}: interface name "lo" is the loopback device`);
}
