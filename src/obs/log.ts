// Structured logs (pino): JSON, pretty on a terminal. Key material never reaches a log line:
// every object is passed through redactSecrets, which blanks fields that carry keys whatever
// the nesting (DESIGN decision 3).
import pino, { type Logger, type LoggerOptions } from 'pino';

export type { Logger };

/** Field names that may hold key material anywhere in a logged object. */
export const SECRET_FIELDS = ['key', 'keys', 'authKey', 'encKey', 'aeadKey', 'keyAuth', 'keyEncrypt', 'psk', 'secret', 'keyMaterial'];

const SECRET_RE = new RegExp(`^(${SECRET_FIELDS.join('|')})$`, 'i');

/** A deep copy with secret-named fields replaced by "[redacted]" and Buffers summarised. */
export function redactSecrets(v: unknown, depth = 0): unknown {
  if (depth > 8 || v === null || typeof v !== 'object') return typeof v === 'bigint' ? v.toString() : v;
  if (Buffer.isBuffer(v) || v instanceof Uint8Array) return `<${v.length} bytes>`;
  if (Array.isArray(v)) return v.map((x) => redactSecrets(x, depth + 1));
  if (v instanceof Error) return { message: v.message, code: (v as { code?: unknown }).code, errno: (v as { errno?: unknown }).errno };
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = SECRET_RE.test(k) ? '[redacted]' : redactSecrets(x, depth + 1);
  return out;
}

export interface LogOptions {
  level?: string;
  /** where to write (default stderr) */
  destination?: NodeJS.WritableStream;
  /** force pretty/JSON (default: pretty on a TTY) */
  pretty?: boolean;
  name?: string;
}

export function createLogger(opts: LogOptions = {}): Logger {
  const dest = opts.destination ?? process.stderr;
  const pretty = opts.pretty ?? Boolean((dest as { isTTY?: boolean }).isTTY);
  const options: LoggerOptions = {
    name: opts.name ?? 'iro-ctl',
    level: opts.level ?? process.env.IRO_LOG_LEVEL ?? 'info',
    formatters: { log: (o) => redactSecrets(o) as Record<string, unknown> },
    serializers: { err: (e: unknown) => redactSecrets(e) },
  };
  if (pretty) {
    return pino(options, pino.transport({ target: 'pino-pretty', options: { destination: 2, colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } }));
  }
  return pino(options, dest as pino.DestinationStream);
}

/** A logger that writes nothing (library default). */
export const silentLogger: Logger = pino({ level: 'silent' });
