// Reads librdkafka's statistics (statistics.interval.ms): which of a consumer's assigned
// partitions have no leader it can reach, and how many of the cluster's brokers the client
// finds down. A worker whose partitions' leaders are down, or whose cluster has lost most of
// its brokers (and with them the controller quorum and the in-sync replicas its writes need),
// may see no error in its own traffic, having none; its statistics say so.

interface BrokerStats {
  nodeid?: number;
  state?: string;
}

interface PartitionStats {
  leader?: number;
  desired?: boolean;
  /** High watermark minus the committed offset; -1 when unknown (nothing committed yet). */
  consumer_lag?: number;
}

interface Stats {
  brokers?: Record<string, BrokerStats>;
  topics?: Record<string, { partitions?: Record<string, PartitionStats> }>;
}

/**
 * Broker states that are not trouble: up, never needed (sparse connections: INIT), or up and
 * busy. Every other state (DOWN, TRY_CONNECT, CONNECT, the handshakes) is a connection that
 * failed and is being retried: a broker that was killed cycles through them.
 */
const QUIET_STATES = new Set(['UP', 'INIT', 'UPDATE', 'REAUTH']);

/** The payload the client hands to stats_cb: the JSON text, or an object holding it. */
export type StatsEvent = string | { message?: string };

export interface ClientHealth {
  /** Assigned partitions (a consumer's) with no leader, or one whose connection is not up. */
  leaderless: number;
  /** Brokers the client knows of (from metadata), and those it found down (a connection that failed and is being retried). */
  brokers: number;
  down: number;
  /** Records of the assigned partitions not yet committed, where known (a consumer's; 0 for a producer). */
  lag: number;
}

/** What one statistics event says of the client's cluster; null when unreadable. */
export function clientHealth(event: StatsEvent): ClientHealth | null {
  const text = typeof event === 'string' ? event : event.message;
  if (text === undefined) return null;
  let stats: Stats;
  try {
    stats = JSON.parse(text) as Stats;
  } catch {
    return null;
  }
  const up = new Set<number>();
  let brokers = 0;
  let down = 0;
  for (const b of Object.values(stats.brokers ?? {})) {
    if (b.nodeid === undefined || b.nodeid < 0) continue; // bootstrap and coordinator handles
    brokers++;
    if (b.state === 'UP') up.add(b.nodeid);
    else if (b.state !== undefined && !QUIET_STATES.has(b.state)) down++;
  }
  let leaderless = 0;
  let lag = 0;
  for (const topic of Object.values(stats.topics ?? {})) {
    for (const [id, p] of Object.entries(topic.partitions ?? {})) {
      if (id === '-1' || p.desired !== true) continue;
      if (p.leader === undefined || p.leader < 0 || !up.has(p.leader)) leaderless++;
      if (p.consumer_lag !== undefined && p.consumer_lag > 0) lag += p.consumer_lag;
    }
  }
  return { leaderless, brokers, down, lag };
}

/** The client cannot work: an assigned partition without a reachable leader, or most brokers down. */
export function impaired(h: ClientHealth): boolean {
  return h.leaderless > 0 || (h.brokers > 0 && h.down * 2 > h.brokers);
}
