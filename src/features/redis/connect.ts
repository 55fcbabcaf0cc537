// Opens the ioredis client for the feature store: a single Redis from a URL, or a Redis Cluster.
import { Cluster, Redis } from 'ioredis';

export interface RedisTarget {
  url: string;
  /** `host:port` seeds; when given, the store talks to a Redis Cluster instead of `url`. */
  clusterNodes?: readonly string[];
}

/** `onError` hears connection errors (the worker's retry loop reports their effect). */
export function connectRedis(target: RedisTarget, onError: (err: Error) => void = () => undefined): Redis | Cluster {
  // Fail commands fast while disconnected: the worker's own retry loop backs off and reports not-ready.
  const common = { maxRetriesPerRequest: 2, enableAutoPipelining: true, connectTimeout: 5000 };
  if (target.clusterNodes && target.clusterNodes.length > 0) {
    const nodes = target.clusterNodes.map((n) => {
      const [host, port] = n.split(':');
      return { host: host as string, port: Number(port) };
    });
    // No auto-pipelining here: ioredis refuses to auto-pipeline scripts across hash slots.
    return new Cluster(nodes, { redisOptions: { ...common, enableAutoPipelining: false } }).on('error', onError);
  }
  return new Redis(target.url, common).on('error', onError);
}
