// Applies ACLs with Kafka's own kafka-acls tool (the confluent client's admin API has no
// CreateAcls). The admin's connection settings reach the tool in a command-config file
// readable by its owner only, removed afterwards; no secret is ever on a command line.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../config.js';
import { KafkaError } from '../contract/errors.js';
import { kafkaAclsArgs, type AclEntry } from './acls.js';

const LOGIN_MODULES = {
  PLAIN: 'org.apache.kafka.common.security.plain.PlainLoginModule',
  'SCRAM-SHA-256': 'org.apache.kafka.common.security.scram.ScramLoginModule',
  'SCRAM-SHA-512': 'org.apache.kafka.common.security.scram.ScramLoginModule',
} as const;

/** A value in a .properties file: backslashes and line breaks escaped. */
const prop = (value: string): string => value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
/** A value in a JAAS option: quoted, with backslashes and quotes escaped. */
const jaas = (value: string): string => `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

/** The Java client's properties for the configuration's security; a client key goes to `dir` as a PEM keystore. */
export function commandConfig(config: Config, dir: string): string {
  const lines = [`security.protocol=${config.KAFKA_SECURITY_PROTOCOL.toUpperCase()}`];
  if (config.KAFKA_SASL_MECHANISM !== undefined && config.KAFKA_SASL_USERNAME !== undefined && config.KAFKA_SASL_PASSWORD !== undefined) {
    lines.push(`sasl.mechanism=${config.KAFKA_SASL_MECHANISM}`);
    lines.push(`sasl.jaas.config=${prop(`${LOGIN_MODULES[config.KAFKA_SASL_MECHANISM]} required username=${jaas(config.KAFKA_SASL_USERNAME)} password=${jaas(config.KAFKA_SASL_PASSWORD)};`)}`);
  }
  if (config.KAFKA_SECURITY_PROTOCOL === 'ssl' || config.KAFKA_SECURITY_PROTOCOL === 'sasl_ssl') {
    lines.push(`ssl.endpoint.identification.algorithm=${config.KAFKA_SSL_ENDPOINT_IDENTIFICATION === 'https' ? 'https' : ''}`);
    if (config.KAFKA_SSL_CA_LOCATION !== undefined) lines.push('ssl.truststore.type=PEM', `ssl.truststore.location=${prop(config.KAFKA_SSL_CA_LOCATION)}`);
    if (config.KAFKA_SSL_CERTIFICATE_LOCATION !== undefined && config.KAFKA_SSL_KEY_LOCATION !== undefined) {
      const keystore = join(dir, 'client.pem');
      writeFileSync(keystore, `${readFileSync(config.KAFKA_SSL_KEY_LOCATION, 'utf8')}\n${readFileSync(config.KAFKA_SSL_CERTIFICATE_LOCATION, 'utf8')}`, { mode: 0o600 });
      lines.push('ssl.keystore.type=PEM', `ssl.keystore.location=${prop(keystore)}`);
      if (config.KAFKA_SSL_KEY_PASSWORD !== undefined) lines.push(`ssl.key.password=${prop(config.KAFKA_SSL_KEY_PASSWORD)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** The commands, as a person would paste them (the command-config file named, not written). */
export function printableCommands(config: Config, plan: readonly AclEntry[], tool: string, commandConfigFile = 'admin.properties'): string[] {
  return kafkaAclsArgs(plan).map((args) => [tool, '--bootstrap-server', config.KAFKA_BROKERS.join(','), '--command-config', commandConfigFile, ...args].map(shellWord).join(' '));
}

function shellWord(word: string): string {
  return /^[A-Za-z0-9_./:,=@-]+$/.test(word) ? word : `'${word.replace(/'/g, "'\\''")}'`;
}

/** Adds the plan's ACLs (adding one that exists changes nothing); `onCommand` hears each command as run. */
export async function applyAcls(config: Config, plan: readonly AclEntry[], tool: string, onCommand: (line: string) => void = () => undefined): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'fd-acls-'));
  try {
    const file = join(dir, 'admin.properties');
    writeFileSync(file, commandConfig(config, dir), { mode: 0o600 });
    const printable = printableCommands(config, plan, tool);
    for (const [i, args] of kafkaAclsArgs(plan).entries()) {
      onCommand(printable[i] as string);
      await run(tool, ['--bootstrap-server', config.KAFKA_BROKERS.join(','), '--command-config', file, ...args], [config.KAFKA_SASL_PASSWORD, config.KAFKA_SSL_KEY_PASSWORD]);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function run(command: string, args: string[], secrets: readonly (string | undefined)[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', (err: NodeJS.ErrnoException) => reject(new KafkaError(`cannot run ${command} (${err.code ?? err.message}): give Kafka's kafka-acls tool with --kafka-acls`, { retriable: false, fatal: false })));
    child.on('exit', (code) => {
      if (code === 0) return resolve();
      let tail = output.trim().split('\n').slice(-5).join('\n');
      for (const s of secrets) if (s !== undefined && s.length > 0) tail = tail.split(s).join('***');
      reject(new KafkaError(`${command} exited with ${code ?? 'a signal'}:\n${tail}`, { retriable: false, fatal: false }));
    });
  });
}
