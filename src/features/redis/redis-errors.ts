// Redis client errors as we pass them on: a message that names the cause, and nothing secret.
import { isCertificateError } from './tls-probe.js';

/** A Redis client error made safe to log, show or send to another thread (see redisError). */
export class RedisClientError extends Error {
  readonly code: string | undefined;
  constructor(name: string, message: string, code?: string) {
    super(message);
    this.name = name;
    this.code = code;
  }
}

/**
 * A copy of a Redis client error that is safe to pass on. ioredis attaches the failed command
 * to its errors (`command.args`), and a failed AUTH's arguments are the user and the password;
 * a Cluster that could not connect says only "Failed to refresh slots cache." and keeps the
 * reason (a refused password, say) in `lastNodeError`. The copy keeps the class name and the
 * code, and a message with the reason; `secrets` (the configured password) are masked in it
 * should a server ever echo one back.
 */
export function redisError(err: unknown, secrets: readonly (string | undefined)[] = []): RedisClientError {
  if (err instanceof RedisClientError) return err;
  if (!(err instanceof Error)) return new RedisClientError('Error', mask(String(err), secrets));
  const reason = err as Error & { code?: unknown; lastNodeError?: unknown };
  let message = reason.message;
  if (reason.lastNodeError instanceof Error && !message.includes(reason.lastNodeError.message)) message += ` (last node: ${describe(reason.lastNodeError)})`;
  else message = describe(reason);
  return new RedisClientError(reason.name, mask(message, secrets), typeof reason.code === 'string' ? reason.code : undefined);
}

function describe(err: Error & { code?: unknown }): string {
  return isCertificateError(err) ? `TLS: the server's certificate was refused (${String(err.code)}: ${err.message})` : err.message;
}

function mask(message: string, secrets: readonly (string | undefined)[]): string {
  let out = message;
  for (const secret of secrets) if (secret !== undefined && secret.length > 0) out = out.split(secret).join('***');
  return out;
}
