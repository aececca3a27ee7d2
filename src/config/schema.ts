// The node configuration file (DESIGN decision 10): one YAML file per node, this schema, and
// the defaults (DIGEST Part 2 open points). Checks that need several fields at once are in
// checks-*.ts; this file says what each field may hold.
import { z } from 'zod';
import { haIpsecProfilesSchema, ipsecSchema } from './schema-ipsec.ts';
import { ADDRESS_NAME, IDENTIFIER, absPath, address, bindingLifetime, duration, ifname, octet, prefix, saName, uint32 } from './schema-primitives.ts';

export const DEFAULTS = {
  markMask: 0x00ff0000,
  reqidBase: 0x1ac00000,
  reqidCount: 65536,
  pinDir: '/sys/fs/bpf/iro-ctl',
  stateFile: '/run/iro-ctl/datapath.json',
  controlSocket: '/run/iro-ctl/control.sock',
  stateDir: '/run/iro-ctl',
  haSequenceFile: '/var/lib/iro-ctl/ha-sequence.json',
} as const;

const iroSchema = z.strictObject({
  /** OP-1: the draft's test values; identical on every node of a deployment */
  mhTypes: z
    .strictObject({ aoto: octet.default(30), aotc: octet.default(31), aotr: octet.default(32), aots: octet.default(33) })
    .prefault({}),
  /** OP-2 */
  nonceOptionType: octet.default(88),
  /** OP-10: the skb->mark bits of the ancillary channel: one contiguous run nothing else uses */
  markMask: uint32.default(DEFAULTS.markMask),
  /** OP-18: outgoing ESP/AH from a HoA to an IRO peer with an unknown SPI */
  missPolicy: z.enum(['drop', 'pass']).default('drop'),
  /** OP-47: the reqids of the SAs and policies iro-ctl owns */
  ownership: z
    .strictObject({ reqidBase: uint32.default(DEFAULTS.reqidBase), reqidCount: z.number().int().min(1).default(DEFAULTS.reqidCount) })
    .prefault({}),
  /** OP-44: unique local home addresses are refused unless this is true */
  allowUla: z.boolean().default(false),
  /** OP-30, IRO App. I: classic-mode HA together with IRO peers is refused unless this is true */
  allowMixedModes: z.boolean().default(false),
});

const datapathSchema = z.strictObject({
  pinDir: absPath.default(DEFAULTS.pinDir),
  stateFile: absPath.default(DEFAULTS.stateFile),
  ruleCapacity: z.number().int().min(1).max(1 << 24).default(65536),
  attachMode: z.enum(['auto', 'tcx', 'clsact']).default('auto'),
});

const kernelSchema = z.strictObject({
  /** auto: use PF_KEY when af_key is there, else XFRM only (with a notice) */
  pfkey: z.enum(['auto', 'on', 'off']).default('auto'),
  /** OP-18 b: SADB_X_PROMISC, to see other daemons' GETSPI replies */
  pfkeyPromiscuous: z.boolean().default(false),
  /** decisions D11: SAs and policies are pushed through XFRM; PF_KEY only observes */
  push: z
    .literal('xfrm', { error: 'expected xfrm: iro-ctl pushes through XFRM only, PF_KEY cannot express a 128-bit hmac(sha256) ICV or an MH-type selector (docs/decisions.md D11)' })
    .default('xfrm'),
});

const mnSchema = z.strictObject({
  homeAddress: address.optional(),
  homeAddresses: z.array(address).min(1).optional(),
  homeAgent: address,
  homePrefixLength: z.number().int().min(1).max(128).default(64),
  /** candidate care-of interfaces, most preferred first */
  interfaces: z.array(ifname).min(1, { error: 'expected at least one candidate care-of interface' }),
  /** DESIGN decision 7: the MN-HA tunnel device and the table of the `from HoA` rule */
  tunnel: z
    .strictObject({
      name: ifname.default('iro-ha0'),
      table: uint32.refine((t) => t !== 0, { error: 'expected a routing table id other than 0' }).default(100),
    })
    .prefault({}),
  /** OP-30 */
  haMode: z.enum(['iro', 'classic']).default('iro'),
  lifetimes: z.strictObject({ home: bindingLifetime.default(3600), correspondent: bindingLifetime.default(1800) }).prefault({}),
  /** OP-22: refresh when this fraction of the granted lifetime has passed */
  refreshAt: z.number().gt(0).lt(1).default(0.8),
  /** IRO §4.5.2: AOTO tests of candidate CoAs before moving */
  earlyCoaTest: z.boolean().default(false),
  /** OP-20: non-IPsec traffic to IRO peers through the HA tunnel (allow) or dropped (deny) */
  tunnelFallback: z.enum(['allow', 'deny']).default('allow'),
  /** K flag ([HAIPSEC] §5.19): the MN-HA IKE SA can follow the CoA */
  keyManagement: z.boolean().default(false),
});

const cnSchema = z.strictObject({
  address: address.optional(),
  addresses: z.array(address).min(1).optional(),
  interfaces: z.array(ifname).default([]),
  allowAoto: z.boolean().default(true),
  /** OP-4 */
  proofsPerMn: z.number().int().min(1).default(16),
  proofIdleTtl: duration.default(30 * 86400),
  maxProofs: z.number().int().min(1).default(100000),
  /** OP-5 */
  aotcTtl: duration.default(60),
  nonceKeepAfterBa: duration.default(60),
  /** E1: false = the IRO body (no BA before the CoA is proven) */
  sendBeforeProof: z.boolean().default(false),
  /** OP-22: the longest correspondent binding granted */
  maxLifetime: bindingLifetime.default(1800),
  /** OP-26 (IRO App. C: off by default) */
  hoaTest: z
    .strictObject({
      enabled: z.boolean().default(false),
      interval: duration.default(3600),
      maxMisses: z.number().int().min(1).default(3),
      onFail: z.enum(['keep', 'dropBinding']).default('keep'),
    })
    .prefault({}),
  /** OP-22: a BRR this long before an unrefreshed binding expires; 0 = never */
  brrBeforeExpiry: duration.default(180),
});

const mobileNodeSchema = z.strictObject({
  homeAddress: address,
  mode: z.enum(['iro', 'classic']).default('iro'),
  /** [HAIPSEC] P9: who may register this HoA. Default: the SAs of its haIpsecProfile */
  authorisation: z
    .strictObject({
      sas: z.array(saName).min(1).optional(),
      ikeIdentity: z.string().min(1).optional(),
    })
    .optional(),
});

const haSchema = z.strictObject({
  address,
  homeLink: ifname,
  homePrefix: prefix,
  /** interfaces the data path attaches to; default [homeLink] */
  interfaces: z.array(ifname).min(1).optional(),
  maxBindingLifetime: bindingLifetime.default(3600),
  mobileNodes: z.array(mobileNodeSchema).default([]),
  /** OP-43: last accepted BU sequence per HoA across restarts (manual keys have no replay protection) */
  persistSequence: z
    .union([absPath, z.literal(false)], { error: 'expected an absolute file path, or false' })
    .default(DEFAULTS.haSequenceFile),
});

const PEER_NAME_ERROR = 'expected a name: a letter, then letters, digits, _ or - (at most 32), other than HoA, HoA<n>, HA, CN, CN<n> and any';

const PEER_MODE_ERROR = 'expected the peer\'s mode: iro or tunnel-only (IRO App. I: there is no default)';

const peerSchema = z.strictObject({
  /** a CN's address, or a peer MN's home address */
  address,
  kind: z.enum(['cn', 'mn', 'ha']),
  /** required (IRO App. I, L03); classic-ro is recognised only to refuse it */
  mode: z.enum(['iro', 'tunnel-only', 'classic-ro'], { error: PEER_MODE_ERROR }),
  /** OP-20, per peer; default mn.tunnelFallback */
  tunnelFallback: z.enum(['allow', 'deny']).optional(),
  /** usable instead of the address in ipsec and haIpsecProfile */
  name: z
    .string({ error: PEER_NAME_ERROR })
    .refine((n) => IDENTIFIER.test(n) && !ADDRESS_NAME.test(n) && n !== 'any', { error: PEER_NAME_ERROR })
    .optional(),
});

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

export const nodeConfigSchema = z.strictObject({
  role: z.enum(['mn', 'cn', 'ha'], { error: 'expected the node\'s role: mn, cn or ha' }),
  iro: iroSchema.prefault({}),
  datapath: datapathSchema.prefault({}),
  kernel: kernelSchema.prefault({}),
  control: z.strictObject({ socket: absPath.default(DEFAULTS.controlSocket) }).prefault({}),
  state: z.strictObject({ dir: absPath.default(DEFAULTS.stateDir) }).prefault({}),
  log: z.strictObject({ level: z.enum(LOG_LEVELS).default('info') }).prefault({}),
  mn: mnSchema.optional(),
  cn: cnSchema.optional(),
  ha: haSchema.optional(),
  peers: z.array(peerSchema).default([]),
  ipsec: ipsecSchema.prefault({}),
  haIpsecProfile: haIpsecProfilesSchema.optional(),
});

/** What a file may contain. */
export type NodeConfigInput = z.input<typeof nodeConfigSchema>;
/** After the schema: defaults filled in, addresses canonical, names and keys not yet resolved. */
export type ParsedConfig = z.output<typeof nodeConfigSchema>;
export type ParsedMn = NonNullable<ParsedConfig['mn']>;
export type ParsedCn = NonNullable<ParsedConfig['cn']>;
export type ParsedHa = NonNullable<ParsedConfig['ha']>;
export type ParsedPeer = ParsedConfig['peers'][number];

