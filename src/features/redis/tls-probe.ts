// Finds out why a connection to a Redis server closed: a certificate refused on either side,
// or a TLS-only server spoken to without TLS. A Cluster client loses that reason (ioredis
// reports "Connection is closed."), so the store asks this probe before it reports a failure.
import { connect, type ConnectionOptions } from 'node:tls';

/** Node's certificate checks fail with OpenSSL's codes (SELF_SIGNED_CERT_IN_CHAIN, …) or ERR_TLS_CERT_ALTNAME_INVALID. */
export function isCertificateError(err: Error & { code?: unknown }): boolean {
  return typeof err.code === 'string' && (err.code === 'ERR_TLS_CERT_ALTNAME_INVALID' || /CERT|SIGNATURE|ISSUER/.test(err.code));
}

/**
 * Opens a TLS connection to `host:port` with `tls` (the client's own settings; undefined: the
 * client uses no TLS) and sends a PING, which any Redis answers, if only with NOAUTH. Resolves
 * with a sentence saying what is wrong, or undefined when nothing TLS-related is. Sends no
 * credentials and always verifies the server (a plaintext client's probe only learns that
 * the server spoke TLS at all).
 */
export function probeTls(host: string, port: number, tls: ConnectionOptions | undefined, timeoutMs = 3000): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, ...(tls ?? {}) });
    const finish = (why: string | undefined): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(why);
    };
    const timer = setTimeout(() => finish(undefined), timeoutMs);
    const speaksTls = `${host}:${port} accepts TLS connections only: set REDIS_TLS=true (and REDIS_TLS_CA_FILE)`;
    socket.once('secureConnect', () => {
      if (tls === undefined) return finish(speaksTls);
      socket.write('PING\r\n');
    });
    socket.once('data', () => finish(undefined));
    socket.once('close', () => finish(tls === undefined ? undefined : `TLS to ${host}:${port}: the server closed the connection (did it refuse this client's certificate, or want one?)`));
    socket.once('error', (err: Error & { code?: unknown }) => {
      if (isCertificateError(err)) finish(tls === undefined ? speaksTls : `TLS to ${host}:${port}: the server's certificate was refused (${String(err.code)}: ${err.message})`);
      else finish(tls === undefined ? undefined : `TLS to ${host}:${port} failed: ${handshakeFailure(err)}`);
    });
  });
}

/** OpenSSL's reason without its file and line ("tlsv1 alert unknown ca"), and what a server's refusal means. */
function handshakeFailure(err: Error & { code?: unknown; reason?: unknown }): string {
  if (typeof err.reason !== 'string') return err.message;
  const code = String(err.code);
  const meaning = /UNKNOWN_CA|BAD_CERTIFICATE|CERTIFICATE_REQUIRED/.test(code) ? ': the server refused this client\'s certificate, or wants one' : '';
  return `${err.reason} (${code})${meaning}`;
}
