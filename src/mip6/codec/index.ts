// Mobility Header codec (RFC 6275 §6.1/§6.2 messages and options, IRO AOTO/AOTC/AOTR/AOTS and
// the IRO Nonce option). Pure: no I/O; the MH socket loop calls decodeMh/encodeMh.
export * from './constants.ts';
export * from './config.ts';
export * from './reasons.ts';
export * from './header.ts';
export * from './checksum.ts';
export * from './lifetime.ts';
export * from './status.ts';
export * from './nonce.ts';
export * from './options.ts';
export * from './messages.ts';
export * from './encode.ts';
export * from './decode.ts';
