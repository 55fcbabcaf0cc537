// The least-privilege ACLs of the detector and the principals around it, as data: who may do
// what on which resource, and why. Printed as a table or as Kafka's own kafka-acls commands.
import type { Config } from '../config.js';

export type AclOperation = 'Read' | 'Write' | 'IdempotentWrite';

export interface AclResource {
  type: 'topic' | 'group' | 'cluster';
  name: string;
  /** `prefixed`: every resource whose name starts with `name`. */
  pattern: 'literal' | 'prefixed';
}

export interface AclEntry {
  principal: string;
  operation: AclOperation;
  resource: AclResource;
  why: string;
}

export interface AclPrincipals {
  /** The worker (`run`), e.g. `User:fraud-detector`. */
  detector: string;
  /** Whoever writes transactions and labels (the payment platform; `simulate` locally). */
  producer: string;
  /** A reader of the alerts. */
  subscriber: string;
  /** The subscriber's consumer group. */
  subscriberGroup: string;
}

/** `alerts tail` reads in throw-away groups named with this prefix and a random suffix. */
export const TAIL_GROUP_PREFIX = 'fraud-detector-tail-';

const topic = (name: string): AclResource => ({ type: 'topic', name, pattern: 'literal' });
const group = (name: string, pattern: AclResource['pattern'] = 'literal'): AclResource => ({ type: 'group', name, pattern });
// Kafka 3.0 and later (KIP-679) let Write on a topic stand for IdempotentWrite; older brokers need it.
const CLUSTER: AclResource = { type: 'cluster', name: 'kafka-cluster', pattern: 'literal' };

/**
 * What each principal needs and nothing more. Read implies Describe, and Write implies Describe,
 * so the clients' metadata requests need no ACL of their own.
 */
export function aclPlan(config: Config, p: AclPrincipals): AclEntry[] {
  const labelsGroup = config.KAFKA_LABELS_GROUP_ID ?? `${config.KAFKA_GROUP_ID}-labels`;
  const entry = (principal: string, operation: AclOperation, resource: AclResource, why: string): AclEntry => ({ principal, operation, resource, why });
  return [
    entry(p.detector, 'Read', topic(config.TOPIC_TRANSACTIONS), 'consume the transactions'),
    entry(p.detector, 'Read', topic(config.TOPIC_LABELS), 'consume the labels (label-fed features)'),
    entry(p.detector, 'Read', group(config.KAFKA_GROUP_ID), 'join its group and commit its offsets'),
    entry(p.detector, 'Read', group(labelsGroup), "the labels consumer's group"),
    entry(p.detector, 'Write', topic(config.TOPIC_ALERTS), 'produce alerts'),
    entry(p.detector, 'Write', topic(config.TOPIC_DECISIONS), 'produce decisions (EMIT_DECISIONS)'),
    entry(p.detector, 'Write', topic(config.TOPIC_DLQ), 'produce dead letters'),
    entry(p.detector, 'IdempotentWrite', CLUSTER, 'its idempotent producer (brokers before Kafka 3.0)'),
    entry(p.producer, 'Write', topic(config.TOPIC_TRANSACTIONS), 'produce transactions'),
    entry(p.producer, 'Write', topic(config.TOPIC_LABELS), 'produce labels'),
    entry(p.producer, 'IdempotentWrite', CLUSTER, 'its idempotent producer (brokers before Kafka 3.0)'),
    entry(p.subscriber, 'Read', topic(config.TOPIC_ALERTS), 'consume the alerts'),
    entry(p.subscriber, 'Read', group(p.subscriberGroup), 'its own group'),
    entry(p.subscriber, 'Read', group(TAIL_GROUP_PREFIX, 'prefixed'), "`alerts tail`'s throw-away groups"),
  ];
}

/** The plan as a table, one ACL a line. */
export function aclTable(plan: readonly AclEntry[]): string[] {
  const rows = [['principal', 'operation', 'resource', 'why'], ...plan.map((e) => [e.principal, e.operation, resourceText(e.resource), e.why])];
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => (r[i] as string).length)));
  return rows.map((r) => r.map((cell, i) => (i < 3 ? cell.padEnd(widths[i] as number) : cell)).join('  ').trimEnd());
}

function resourceText(r: AclResource): string {
  return `${r.type} ${r.name}${r.pattern === 'prefixed' ? '*' : ''}`;
}

/**
 * kafka-acls arguments (after `--bootstrap-server … --command-config …`) that add the plan: one
 * command (a JVM that takes seconds to start) per operation, pattern type and set of resources,
 * naming every principal that needs that set and every resource in it.
 */
export function kafkaAclsArgs(plan: readonly AclEntry[]): string[][] {
  const byPrincipal = new Map<string, { principal: string; operation: AclOperation; pattern: AclResource['pattern']; resources: string[] }>();
  for (const e of plan) {
    const key = `${e.principal}\u0000${e.operation}\u0000${e.resource.pattern}`;
    const group = byPrincipal.get(key) ?? { principal: e.principal, operation: e.operation, pattern: e.resource.pattern, resources: [] };
    group.resources.push(...(e.resource.type === 'cluster' ? ['--cluster'] : [`--${e.resource.type}`, e.resource.name]));
    byPrincipal.set(key, group);
  }
  const commands = new Map<string, { principals: string[]; rest: string[] }>();
  for (const g of byPrincipal.values()) {
    const rest = ['--operation', g.operation, ...(g.pattern === 'prefixed' ? ['--resource-pattern-type', 'prefixed'] : []), ...g.resources];
    const key = rest.join('\u0000');
    const command = commands.get(key) ?? { principals: [], rest };
    command.principals.push(g.principal);
    commands.set(key, command);
  }
  return [...commands.values()].map((c) => ['--add', ...c.principals.flatMap((p) => ['--allow-principal', p]), ...c.rest]);
}
