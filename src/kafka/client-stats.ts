// Reads librdkafka's statistics (statistics.interval.ms): which of a consumer's assigned
// partitions have no leader it can reach. A worker whose partitions' leaders are down (two of
// three brokers gone, the controller quorum with them) receives nothing and cannot tell from
// its own traffic; its statistics say so.

interface BrokerStats {
  nodeid?: number;
  state?: string;
}

interface PartitionStats {
  leader?: number;
  desired?: boolean;
}

interface Stats {
  brokers?: Record<string, BrokerStats>;
  topics?: Record<string, { partitions?: Record<string, PartitionStats> }>;
}

/** The payload the client hands to stats_cb: the JSON text, or an object holding it. */
export type StatsEvent = string | { message?: string };

/** How many of the consumer's assigned partitions have no leader, or one whose connection is not up; null when unreadable. */
export function partitionsWithoutLeader(event: StatsEvent): number | null {
  const text = typeof event === 'string' ? event : event.message;
  if (text === undefined) return null;
  let stats: Stats;
  try {
    stats = JSON.parse(text) as Stats;
  } catch {
    return null;
  }
  const up = new Set<number>();
  for (const b of Object.values(stats.brokers ?? {})) if (b.state === 'UP' && b.nodeid !== undefined && b.nodeid >= 0) up.add(b.nodeid);
  let without = 0;
  for (const topic of Object.values(stats.topics ?? {})) {
    for (const [id, p] of Object.entries(topic.partitions ?? {})) {
      if (id === '-1' || p.desired !== true) continue;
      if (p.leader === undefined || p.leader < 0 || !up.has(p.leader)) without++;
    }
  }
  return without;
}
