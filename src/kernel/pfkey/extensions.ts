// Extension type number <-> field name of PfkeyExtensions, shared by the encoder and decoder.
import type { ExtensionName } from './types.ts';

export const EXT_FIELD: Readonly<Record<number, ExtensionName>> = {
  1: 'sa',
  2: 'lifetimeCurrent',
  3: 'lifetimeHard',
  4: 'lifetimeSoft',
  5: 'src',
  6: 'dst',
  7: 'proxy',
  8: 'keyAuth',
  9: 'keyEncrypt',
  10: 'identitySrc',
  11: 'identityDst',
  12: 'sensitivity',
  13: 'proposal',
  14: 'supportedAuth',
  15: 'supportedEncrypt',
  16: 'spirange',
  17: 'kmprivate',
  18: 'policy',
  19: 'sa2',
  20: 'natTType',
  21: 'natTSport',
  22: 'natTDport',
  23: 'natTOa',
  24: 'secCtx',
  25: 'kmaddress',
  26: 'filter',
};

export const EXT_TYPE: Readonly<Record<ExtensionName, number>> = Object.fromEntries(
  Object.entries(EXT_FIELD).map(([t, n]) => [n, Number(t)]),
) as Record<ExtensionName, number>;
