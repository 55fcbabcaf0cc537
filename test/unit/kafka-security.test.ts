// The Kafka client's security settings: SASL (SCRAM-SHA-256/512, PLAIN) with the password from a
// file that wins over its twin, TLS with a CA file, mutual TLS with a client certificate and an
// optionally encrypted key, hostname verification on unless turned off by name; TLS files
// checked at start; the refusals the client logs read as errors that name the setting, never a secret.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { ConfigError } from '../../src/contract/errors.js';
import { kafkaSettings } from '../../src/kafka/client.js';
import { refusalIn } from '../../src/kafka/preflight.js';
import { describeKafkaSecurity } from '../../src/kafka/security.js';

const dir = mkdtempSync(join(tmpdir(), 'fd-kafka-security-'));
const at = (name: string): string => join(dir, name);
const file = (name: string, content: string): string => {
  writeFileSync(at(name), content);
  return at(name);
};
const messageOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected a failure');
};
const sasl = { KAFKA_SECURITY_PROTOCOL: 'SASL_SSL', KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512', KAFKA_SASL_USERNAME: 'fraud-detector' };

beforeAll(() => {
  const ssl = (...args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  ssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'ca.key');
  ssl('req', '-x509', '-new', '-key', 'ca.key', '-days', '2', '-subj', '/CN=test CA', '-out', 'ca.crt');
  ssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'client.key');
  ssl('req', '-new', '-key', 'client.key', '-subj', '/CN=fraud-detector', '-out', 'client.csr');
  ssl('x509', '-req', '-in', 'client.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-set_serial', '1', '-days', '2', '-out', 'client.crt');
  ssl('pkcs8', '-topk8', '-in', 'client.key', '-passout', 'pass:key-passphrase-1', '-out', 'client.enc.key');
  ssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'other.key');
});

describe('Kafka security settings', () => {
  it('map SASL_SSL with a CA file to librdkafka, hostname verification explicitly on', () => {
    const c = loadConfig({ ...sasl, KAFKA_SASL_PASSWORD: 'pw', KAFKA_SSL_CA_LOCATION: at('ca.crt') });
    expect(kafkaSettings(c).security).toEqual({
      'security.protocol': 'sasl_ssl', 'sasl.mechanisms': 'SCRAM-SHA-512', 'sasl.username': 'fraud-detector', 'sasl.password': 'pw',
      'ssl.endpoint.identification.algorithm': 'https', 'ssl.ca.location': at('ca.crt'),
    });
    for (const mechanism of ['SCRAM-SHA-256', 'PLAIN']) {
      expect(kafkaSettings(loadConfig({ ...sasl, KAFKA_SASL_MECHANISM: mechanism, KAFKA_SASL_PASSWORD: 'pw' })).security['sasl.mechanisms']).toBe(mechanism);
    }
    expect(() => loadConfig({ ...sasl, KAFKA_SASL_MECHANISM: 'GSSAPI', KAFKA_SASL_PASSWORD: 'pw' })).toThrow(/KAFKA_SASL_MECHANISM/);
  });

  it('read the SASL password and the key passphrase from files, which win over their twins', () => {
    const c = loadConfig({ ...sasl, KAFKA_SASL_PASSWORD: 'plain', KAFKA_SASL_PASSWORD_FILE: file('sasl', 'from-file\n') });
    expect(kafkaSettings(c).security['sasl.password']).toBe('from-file');
    const m = loadConfig({ KAFKA_SECURITY_PROTOCOL: 'ssl', KAFKA_SSL_CERTIFICATE_LOCATION: at('client.crt'), KAFKA_SSL_KEY_LOCATION: at('client.enc.key'), KAFKA_SSL_KEY_PASSWORD: 'wrong', KAFKA_SSL_KEY_PASSWORD_FILE: file('pass', 'key-passphrase-1\n') });
    expect(kafkaSettings(m).security).toMatchObject({ 'ssl.certificate.location': at('client.crt'), 'ssl.key.location': at('client.enc.key'), 'ssl.key.password': 'key-passphrase-1' });
    expect(() => loadConfig({ ...sasl, KAFKA_SASL_PASSWORD_FILE: at('missing') })).toThrow(/KAFKA_SASL_PASSWORD_FILE: cannot read .*missing \(ENOENT\)/);
  });

  it('mutual TLS: the certificate and its key, both or neither, the key checked against the certificate', () => {
    const c = loadConfig({ KAFKA_SECURITY_PROTOCOL: 'ssl', KAFKA_SSL_CA_LOCATION: at('ca.crt'), KAFKA_SSL_CERTIFICATE_LOCATION: at('client.crt'), KAFKA_SSL_KEY_LOCATION: at('client.key') });
    expect(kafkaSettings(c).security).toEqual({
      'security.protocol': 'ssl', 'ssl.endpoint.identification.algorithm': 'https', 'ssl.ca.location': at('ca.crt'),
      'ssl.certificate.location': at('client.crt'), 'ssl.key.location': at('client.key'),
    });
    expect(() => loadConfig({ KAFKA_SECURITY_PROTOCOL: 'ssl', KAFKA_SSL_CERTIFICATE_LOCATION: at('client.crt') })).toThrow(/needs both KAFKA_SSL_CERTIFICATE_LOCATION and KAFKA_SSL_KEY_LOCATION/);
    expect(() => kafkaSettings(loadConfig({ KAFKA_SECURITY_PROTOCOL: 'ssl', KAFKA_SSL_CERTIFICATE_LOCATION: at('client.crt'), KAFKA_SSL_KEY_LOCATION: at('other.key') }))).toThrow(/KAFKA_SSL_KEY_LOCATION: .*other\.key is not the key of the certificate/);
    expect(() => kafkaSettings(loadConfig({ KAFKA_SECURITY_PROTOCOL: 'ssl', KAFKA_SSL_CERTIFICATE_LOCATION: at('client.crt'), KAFKA_SSL_KEY_LOCATION: at('client.enc.key') }))).toThrow(/an encrypted key needs KAFKA_SSL_KEY_PASSWORD/);
  });

  it('fail at start on a TLS file they cannot use, naming the variable and never the content', () => {
    const notPem = file('not-a-cert.pem', 'hunter2-not-a-certificate');
    const message = messageOf(() => kafkaSettings(loadConfig({ KAFKA_SECURITY_PROTOCOL: 'ssl', KAFKA_SSL_CA_LOCATION: notPem })));
    expect(message).toMatch(/KAFKA_SSL_CA_LOCATION: .*not-a-cert\.pem holds no PEM certificate/);
    expect(message).not.toContain('hunter2');
    expect(() => kafkaSettings(loadConfig({ KAFKA_SECURITY_PROTOCOL: 'ssl', KAFKA_SSL_CA_LOCATION: at('missing.pem') }))).toThrow(ConfigError);
  });

  it('refuse TLS settings that would be ignored, and turn hostname verification off only by name', () => {
    expect(() => loadConfig({ KAFKA_SSL_CA_LOCATION: at('ca.crt') })).toThrow(/KAFKA_SSL_\* settings are given but TLS is off/);
    expect(() => loadConfig({ KAFKA_SECURITY_PROTOCOL: 'ssl', KAFKA_SSL_KEY_PASSWORD: 'x' })).toThrow(/KAFKA_SSL_KEY_PASSWORD is the passphrase of KAFKA_SSL_KEY_LOCATION/);
    expect(() => loadConfig({ KAFKA_SSL_ENDPOINT_IDENTIFICATION: 'off' })).toThrow(/KAFKA_SSL_ENDPOINT_IDENTIFICATION/);
    const off = loadConfig({ KAFKA_SECURITY_PROTOCOL: 'ssl', KAFKA_SSL_ENDPOINT_IDENTIFICATION: 'none' });
    expect(kafkaSettings(off).security['ssl.endpoint.identification.algorithm']).toBe('none');
    expect(describeKafkaSecurity(off)).toEqual({ protocol: 'ssl', ca: 'system roots', clientCertificate: false, hostnameVerification: false });
  });

  it('never show a secret in a configuration error or in what a log line says of them', () => {
    const message = messageOf(() => loadConfig({ KAFKA_SECURITY_PROTOCOL: 'ssl', KAFKA_SASL_PASSWORD: 'hunter2', KAFKA_SSL_KEY_PASSWORD: 'hunter3' }));
    expect(message).toMatch(/KAFKA_SSL_KEY_PASSWORD: .*\(got a value, not shown\)/);
    expect(message).not.toMatch(/hunter/);
    const c = loadConfig({ ...sasl, KAFKA_SASL_PASSWORD: 'hunter2', KAFKA_SSL_CA_LOCATION: at('ca.crt') });
    expect(JSON.stringify(describeKafkaSecurity(c))).not.toContain('hunter2');
    expect(describeKafkaSecurity(c)).toMatchObject({ protocol: 'sasl_ssl', mechanism: 'SCRAM-SHA-512', user: 'fraud-detector', hostnameVerification: true });
  });
});

describe('Refusals in the client\'s log', () => {
  const settings = { brokers: ['h:9095'], clientId: 'fd', security: { 'sasl.username': 'fraud-detector', 'sasl.mechanisms': 'SCRAM-SHA-512', 'sasl.password': 'hunter2', 'ssl.ca.location': at('ca.crt') } };

  it('read a refused SASL login as an error naming the user, the mechanism and the settings', () => {
    const err = refusalIn('[thrd:sasl_ssl://127.0.0.1:9095/bootstrap]: sasl_ssl://127.0.0.1:9095/bootstrap: SASL authentication error: Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512 (after 316ms in state AUTH_REQ)', settings);
    expect(err?.code).toBe('FD_KAFKA');
    expect(err?.message).toBe('Kafka refused the credentials of fraud-detector with SCRAM-SHA-512 (KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD_FILE or KAFKA_SASL_PASSWORD): Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512');
  });

  it('read a refused certificate as an error naming the CA file, and mask a password a line would carry', () => {
    const err = refusalIn('[thrd:sasl_ssl://h:9095/bootstrap]: sasl_ssl://h:9095/bootstrap: SSL handshake failed: error:0A000086:SSL routines::certificate verify failed: broker certificate could not be verified (after 9ms in state SSL_HANDSHAKE)', settings);
    expect(err?.message).toBe(`the broker's certificate was refused (checked against ${at('ca.crt')}, KAFKA_SSL_CA_LOCATION): error:0A000086:SSL routines::certificate verify failed: broker certificate could not be verified`);
    const alert = refusalIn('[thrd:sasl_ssl://h:9095/bootstrap]: sasl_ssl://h:9095/bootstrap: SSL handshake failed: error:0A000412:SSL routines::sslv3 alert bad certificate: SSL alert number 42 (after 5ms in state SSL_HANDSHAKE)', settings);
    expect(alert?.message).toBe("the broker refused this client's certificate (KAFKA_SSL_CERTIFICATE_LOCATION: none given): error:0A000412:SSL routines::sslv3 alert bad certificate: SSL alert number 42");
    expect(refusalIn('SASL authentication error: bad hunter2 (after 1ms in state AUTH_REQ)', settings)?.message).toMatch(/: bad \*\*\*$/);
    expect(refusalIn('[thrd:main]: Broker transport failure', settings)).toBeNull();
  });
});
