// Kafka's own command-line tools, run from the jars scripts/services.sh resolved, for what the
// client library does not offer: a topic's configs and the KRaft quorum's active controller.
import { execFile } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');
const LIBS = join(process.env.FD_LOCAL_DIR ?? join(ROOT, '.local'), 'kafka', 'libs', '*');

/**
 * Runs a tool's main class (no log configuration: log4j then prints errors only); resolves
 * with its stdout. A short-lived JVM: the first JIT tier only, which halves its CPU.
 */
export function kafkaTool(mainClass: string, args: string[], timeoutMs = 60_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('java', ['-Xmx256m', '-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC', '-cp', LIBS, mainClass, ...args], { timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${mainClass} ${args.join(' ')}: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/** The configs set on the topic itself (not inherited from the broker), e.g. `{ 'min.insync.replicas': '2' }`. */
export async function topicConfigs(bootstrap: string, topic: string): Promise<Record<string, string>> {
  const out = await kafkaTool('org.apache.kafka.tools.ConfigCommand', ['--bootstrap-server', bootstrap, '--describe', '--entity-type', 'topics', '--entity-name', topic]);
  const configs: Record<string, string> = {};
  // `  min.insync.replicas=2 sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:min.insync.replicas=2, ...}`
  for (const match of out.matchAll(/^\s+([a-z0-9.]+)=(\S*) sensitive=/gm)) configs[match[1] as string] = match[2] as string;
  return configs;
}

/** The node id of the active KRaft controller (the quorum's leader). */
export async function activeController(controllers: string): Promise<number> {
  const out = await kafkaTool('org.apache.kafka.tools.MetadataQuorumCommand', ['--bootstrap-controller', controllers, 'describe', '--status'], 30_000);
  const match = /^LeaderId:\s+(-?\d+)/m.exec(out);
  if (!match) throw new Error(`no LeaderId in MetadataQuorumCommand's answer:\n${out}`);
  return Number(match[1]);
}
