// Finds key material in text: raw bytes (latin1), hex (any case, with or without separators),
// base64, and any 8-byte window of a key in hex, so partial leaks are caught too.
export function keyLeaks(text: string, keys: Buffer[]): string[] {
  const found: string[] = [];
  const lower = text.toLowerCase();
  const compact = lower.replace(/[^0-9a-f]/g, '');
  keys.forEach((k, i) => {
    const hex = k.toString('hex');
    if (lower.includes(hex)) found.push(`key ${i} as hex`);
    else if (compact.includes(hex)) found.push(`key ${i} as separated hex`);
    if (text.includes(k.toString('base64'))) found.push(`key ${i} as base64`);
    if (text.includes(k.toString('latin1'))) found.push(`key ${i} as raw bytes`);
    for (let o = 0; o + 8 <= k.length; o++) {
      if (lower.includes(k.subarray(o, o + 8).toString('hex'))) {
        found.push(`key ${i} bytes ${o}..${o + 7} as hex`);
        break;
      }
    }
  });
  return found;
}
