// The ACL plan: the detector's principal gets read on its input topics and groups, write on its
// outputs and idempotent write, and nothing else; the producer and the subscriber theirs; as
// kafka-acls commands, one per operation and resource set; the admin's command-config for the tool.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { commandConfig, printableCommands } from '../../src/kafka/acl-tool.js';
import { aclPlan, kafkaAclsArgs, TAIL_GROUP_PREFIX, type AclPrincipals } from '../../src/kafka/acls.js';

const principals: AclPrincipals = { detector: 'User:det', producer: 'User:prod', subscriber: 'User:sub', subscriberGroup: 'sub-group' };
const config = loadConfig({ TOPIC_TRANSACTIONS: 'tx', TOPIC_ALERTS: 'al', TOPIC_DECISIONS: 'de', TOPIC_DLQ: 'dl', TOPIC_LABELS: 'la', KAFKA_GROUP_ID: 'g' });
const rows = (principal: string): string[] => aclPlan(config, principals).filter((e) => e.principal === principal).map((e) => `${e.operation} ${e.resource.type}:${e.resource.name}${e.resource.pattern === 'prefixed' ? '*' : ''}`);

describe('ACL plan', () => {
  it('gives the detector read on its inputs and groups, write on its outputs, idempotent write, nothing more', () => {
    expect(rows('User:det')).toEqual(['Read topic:tx', 'Read topic:la', 'Read group:g', 'Read group:g-labels', 'Write topic:al', 'Write topic:de', 'Write topic:dl', 'IdempotentWrite cluster:kafka-cluster']);
  });

  it('gives the producer write on transactions and labels, and the subscriber read on alerts and its groups', () => {
    expect(rows('User:prod')).toEqual(['Write topic:tx', 'Write topic:la', 'IdempotentWrite cluster:kafka-cluster']);
    expect(rows('User:sub')).toEqual(['Read topic:al', 'Read group:sub-group', `Read group:${TAIL_GROUP_PREFIX}*`]);
  });

  it('follows the configured labels group', () => {
    expect(aclPlan(loadConfig({ KAFKA_LABELS_GROUP_ID: 'lg' }), principals).some((e) => e.resource.name === 'lg' && e.principal === 'User:det')).toBe(true);
  });

  it('becomes one kafka-acls command per operation, pattern and resource set, every ACL in exactly one', () => {
    const commands = kafkaAclsArgs(aclPlan(config, principals));
    expect(commands).toEqual([
      ['--add', '--allow-principal', 'User:det', '--operation', 'Read', '--topic', 'tx', '--topic', 'la', '--group', 'g', '--group', 'g-labels'],
      ['--add', '--allow-principal', 'User:det', '--operation', 'Write', '--topic', 'al', '--topic', 'de', '--topic', 'dl'],
      ['--add', '--allow-principal', 'User:det', '--allow-principal', 'User:prod', '--operation', 'IdempotentWrite', '--cluster'],
      ['--add', '--allow-principal', 'User:prod', '--operation', 'Write', '--topic', 'tx', '--topic', 'la'],
      ['--add', '--allow-principal', 'User:sub', '--operation', 'Read', '--topic', 'al', '--group', 'sub-group'],
      ['--add', '--allow-principal', 'User:sub', '--operation', 'Read', '--resource-pattern-type', 'prefixed', '--group', TAIL_GROUP_PREFIX],
    ]);
  });
});

describe('kafka-acls with the admin\'s settings', () => {
  const admin = loadConfig({ KAFKA_BROKERS: 'k:9095', KAFKA_SECURITY_PROTOCOL: 'sasl_ssl', KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512', KAFKA_SASL_USERNAME: 'admin', KAFKA_SASL_PASSWORD: 'p"w\\1' });

  it('writes the Java client\'s properties, the JAAS password escaped, hostname verification kept', () => {
    const text = commandConfig(admin, mkdtempSync(join(tmpdir(), 'fd-acl-test-')));
    expect(text.split('\n')).toEqual([
      'security.protocol=SASL_SSL',
      'sasl.mechanism=SCRAM-SHA-512',
      'sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="p\\\\"w\\\\\\\\1";',
      'ssl.endpoint.identification.algorithm=https',
      '',
    ]);
  });

  it('prints commands a person can paste, naming the command-config file and never a password', () => {
    const lines = printableCommands(admin, aclPlan(admin, principals), 'kafka-acls.sh');
    expect(lines[0]).toBe('kafka-acls.sh --bootstrap-server k:9095 --command-config admin.properties --add --allow-principal User:det --operation Read --topic transactions --topic fraud-labels --group fraud-detector --group fraud-detector-labels');
    expect(lines.join('\n')).not.toContain('p"w');
  });
});
