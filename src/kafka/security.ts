// The Kafka client's security settings (TLS, SASL) from the configuration, as librdkafka's
// properties; the TLS files are checked at start, naming the variable of a file that cannot be used.
import type { Config } from '../config.js';
import { ConfigError } from '../contract/errors.js';
import { keyMatches, readPem } from '../pem-file.js';

/** librdkafka's security properties, only those configured (and hostname verification, always explicit). */
export function kafkaSecurity(config: Config): Record<string, string> {
  const security: Record<string, string> = { 'security.protocol': config.KAFKA_SECURITY_PROTOCOL };
  if (config.KAFKA_SASL_MECHANISM !== undefined) security['sasl.mechanisms'] = config.KAFKA_SASL_MECHANISM;
  if (config.KAFKA_SASL_USERNAME !== undefined) security['sasl.username'] = config.KAFKA_SASL_USERNAME;
  if (config.KAFKA_SASL_PASSWORD !== undefined) security['sasl.password'] = config.KAFKA_SASL_PASSWORD;
  if (config.KAFKA_SECURITY_PROTOCOL === 'ssl' || config.KAFKA_SECURITY_PROTOCOL === 'sasl_ssl') Object.assign(security, tlsSettings(config));
  return security;
}

function tlsSettings(config: Config): Record<string, string> {
  // librdkafka's default is `https` too; set here so that `none` is only ever a choice made in the configuration.
  const tls: Record<string, string> = { 'ssl.endpoint.identification.algorithm': config.KAFKA_SSL_ENDPOINT_IDENTIFICATION };
  if (config.KAFKA_SSL_CA_LOCATION !== undefined) {
    readPem('KAFKA_SSL_CA_LOCATION', config.KAFKA_SSL_CA_LOCATION, 'certificate');
    tls['ssl.ca.location'] = config.KAFKA_SSL_CA_LOCATION;
  }
  if (config.KAFKA_SSL_CERTIFICATE_LOCATION !== undefined && config.KAFKA_SSL_KEY_LOCATION !== undefined) {
    const passphrase = { variable: 'KAFKA_SSL_KEY_PASSWORD', value: config.KAFKA_SSL_KEY_PASSWORD };
    const cert = readPem('KAFKA_SSL_CERTIFICATE_LOCATION', config.KAFKA_SSL_CERTIFICATE_LOCATION, 'certificate');
    const key = readPem('KAFKA_SSL_KEY_LOCATION', config.KAFKA_SSL_KEY_LOCATION, 'private key', passphrase);
    if (!keyMatches(cert, key, passphrase.value)) {
      throw new ConfigError(`KAFKA_SSL_KEY_LOCATION: ${config.KAFKA_SSL_KEY_LOCATION} is not the key of the certificate in KAFKA_SSL_CERTIFICATE_LOCATION`);
    }
    tls['ssl.certificate.location'] = config.KAFKA_SSL_CERTIFICATE_LOCATION;
    tls['ssl.key.location'] = config.KAFKA_SSL_KEY_LOCATION;
    if (config.KAFKA_SSL_KEY_PASSWORD !== undefined) tls['ssl.key.password'] = config.KAFKA_SSL_KEY_PASSWORD;
  }
  return tls;
}

/** What a log line may say of the security in use: no secret, no file content. */
export function describeKafkaSecurity(config: Config): Record<string, string | boolean> {
  const out: Record<string, string | boolean> = { protocol: config.KAFKA_SECURITY_PROTOCOL };
  if (config.KAFKA_SASL_MECHANISM !== undefined) out.mechanism = config.KAFKA_SASL_MECHANISM;
  if (config.KAFKA_SASL_USERNAME !== undefined) out.user = config.KAFKA_SASL_USERNAME;
  if (config.KAFKA_SECURITY_PROTOCOL === 'ssl' || config.KAFKA_SECURITY_PROTOCOL === 'sasl_ssl') {
    out.ca = config.KAFKA_SSL_CA_LOCATION ?? 'system roots';
    out.clientCertificate = config.KAFKA_SSL_CERTIFICATE_LOCATION !== undefined;
    out.hostnameVerification = config.KAFKA_SSL_ENDPOINT_IDENTIFICATION === 'https';
  }
  return out;
}
