// PF_KEY v2 (RFC 2367 + Linux extensions): codec, key-safe formatting, client, direction helper.
export * from './constants.ts';
export { decodePfkeyMessage, tryDecodePfkeyMessage, type DecodeOptions } from './decode.ts';
export { encodePfkeyMessage, type MessageInput } from './encode.ts';
export { KeyMaterial, isKeyMaterial } from './key-material.ts';
export { formatPfkeyMessage, pfkeyLoggable, spiHex } from './format.ts';
export { PfkeyError, PfkeyDecodeError, PfkeyRequestError, PfkeyUnavailableError, isPfkeyUnavailable, type PfkeyErrorCode } from './errors.ts';
export { classifyMessage, type PfkeyEvent, type Classified, type IgnoreReason } from './events.ts';
export { saInfo, policyInfo, type PfkeySaInfo, type PfkeyPolicyInfo, type PfkeyPolicyEnd } from './sa-info.ts';
export { inferDirection, localAddressSet, type SaDirection, type DirectionContext, type DirectionInput, type DirectionResult } from './direction.ts';
export { PfkeyClient, type PfkeyClientOptions, type PfkeyStats, type RegisterResult } from './client.ts';
export { openPfkeySocket, type PfkeyTransport, type PfkeyDatagram, type PfkeySocketOptions } from './transport.ts';
export * from './requests.ts';
export type * from './types.ts';
