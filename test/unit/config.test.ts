import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { ConfigError } from '../../src/contract/errors.js';
import { kafkaSettings } from '../../src/kafka/client.js';

describe('loadConfig', () => {
  it('has defaults for everything', () => {
    const c = loadConfig({});
    expect(c.KAFKA_BROKERS).toEqual(['127.0.0.1:9092']);
    expect(c.TOPIC_TRANSACTIONS).toBe('transactions');
    expect(c.EMIT_DECISIONS).toBe(false);
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('parses lists, numbers and booleans from the environment', () => {
    const c = loadConfig({ KAFKA_BROKERS: 'a:1, b:2', BATCH_MAX_SIZE: '100', EMIT_DECISIONS: 'true', REDIS_CLUSTER_NODES: 'h:7000,h:7001' });
    expect(c.KAFKA_BROKERS).toEqual(['a:1', 'b:2']);
    expect(c.BATCH_MAX_SIZE).toBe(100);
    expect(c.EMIT_DECISIONS).toBe(true);
    expect(c.REDIS_CLUSTER_NODES).toEqual(['h:7000', 'h:7001']);
  });

  it('fails at start naming the variable, the expectation and the value', () => {
    expect(() => loadConfig({ BATCH_MAX_SIZE: 'lots' })).toThrow(ConfigError);
    expect(() => loadConfig({ BATCH_MAX_SIZE: 'lots' })).toThrow(/BATCH_MAX_SIZE.*got "lots"/);
    expect(() => loadConfig({ KAFKA_BROKERS: 'no-port' })).toThrow(/KAFKA_BROKERS/);
    expect(() => loadConfig({ REVIEW_THRESHOLD: '0.9', BLOCK_THRESHOLD: '0.5' })).toThrow(/BLOCK_THRESHOLD must be at least REVIEW_THRESHOLD/);
  });

  it('builds the Kafka client\'s SASL settings, and refuses SASL without credentials (TLS: kafka-security.test.ts)', () => {
    const c = loadConfig({ KAFKA_SECURITY_PROTOCOL: 'SASL_PLAINTEXT', KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512', KAFKA_SASL_USERNAME: 'fd', KAFKA_SASL_PASSWORD: 'secret' });
    expect(kafkaSettings(c).security).toEqual({ 'security.protocol': 'sasl_plaintext', 'sasl.mechanisms': 'SCRAM-SHA-512', 'sasl.username': 'fd', 'sasl.password': 'secret' });
    expect(kafkaSettings(loadConfig({})).security).toEqual({ 'security.protocol': 'plaintext' });
    expect(() => loadConfig({ KAFKA_SECURITY_PROTOCOL: 'sasl_ssl' })).toThrow(/KAFKA_SECURITY_PROTOCOL: sasl_plaintext and sasl_ssl need KAFKA_SASL_MECHANISM/);
  });

  it('reads a YAML config file, and the environment wins over it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fd-config-'));
    const file = join(dir, 'config.yaml');
    writeFileSync(file, 'TOPIC_ALERTS: file-alerts\nBATCH_MAX_SIZE: 77\n');
    const c = loadConfig({ CONFIG_FILE: file, BATCH_MAX_SIZE: '88' });
    expect(c.TOPIC_ALERTS).toBe('file-alerts');
    expect(c.BATCH_MAX_SIZE).toBe(88);
    writeFileSync(file, 'NOT_A_SETTING: 1\n');
    expect(() => loadConfig({ CONFIG_FILE: file })).toThrow(/unknown setting NOT_A_SETTING/);
  });
});
