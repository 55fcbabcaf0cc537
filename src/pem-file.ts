// Reads a PEM file a setting names (a CA, a certificate, a private key) and checks it holds
// what it should, so a wrong file fails at start naming its variable, never showing its content.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError } from './contract/errors.js';

export type PemHolds = 'certificate' | 'private key';

/** An encrypted key's passphrase, and the setting that gives it (named when it is missing). */
export interface Passphrase {
  variable: string;
  value?: string;
}

/** The file's text; a private key may be encrypted when `passphrase` says where its passphrase comes from. */
export function readPem(variable: string, file: string, holds: PemHolds, passphrase?: Passphrase): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`${variable}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  try {
    if (holds === 'certificate') new X509Certificate(text);
    else createPrivateKey(passphrase?.value === undefined ? text : { key: text, passphrase: passphrase.value });
  } catch {
    const why = holds === 'certificate' ? '' : passphrase === undefined ? ' (an encrypted key is not supported)' : passphrase.value === undefined ? ` (an encrypted key needs ${passphrase.variable})` : ` (or ${passphrase.variable} does not open it)`;
    throw new ConfigError(`${variable}: ${file} holds no PEM ${holds}${why}`);
  }
  return text;
}

/** Whether the key (PEM, opened with `passphrase` when encrypted) belongs to the certificate. */
export function keyMatches(certificate: string, key: string, passphrase?: string): boolean {
  return new X509Certificate(certificate).checkPrivateKey(createPrivateKey(passphrase === undefined ? key : { key, passphrase }));
}
