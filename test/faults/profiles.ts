// How hard and how long each scenario pushes: `full` is issue 15's suite (10 kills, a minute
// of rebalance storm, 5 + 5 bounces, a 30 s outage of 2 brokers, a Redis restart, then all of
// them together); `short` runs every scenario briefly at a modest rate, for CI.

export interface Profile {
  name: 'short' | 'full';
  /** Transactions per second from the steady producer. */
  rate: number;
  /** Steady input before the first fault, and after the last one. */
  warmupS: number;
  cooldownS: number;
  workers: number;
  kills: { count: number; everyS: number };
  storm: { durationS: number; everyS: number; maxWorkers: number };
  leaderBounces: number;
  controllerBounces: number;
  /** How long a bounced broker stays down. */
  bounceDownS: number;
  outageS: number;
  redisRestarts: number;
  /** The `all` scenario: the same faults at once, in two lanes (workers; brokers and Redis). */
  all: { kills: number; stormS: number; leaderBounces: number; controllerBounces: number; outageS: number; redisRestarts: number };
}

export const PROFILES: Record<Profile['name'], Profile> = {
  short: {
    name: 'short',
    rate: 100,
    warmupS: 2,
    cooldownS: 1,
    workers: 3,
    kills: { count: 2, everyS: 3 },
    storm: { durationS: 12, everyS: 3, maxWorkers: 5 },
    leaderBounces: 1,
    controllerBounces: 1,
    bounceDownS: 3,
    outageS: 10,
    redisRestarts: 1,
    // The controller bounce and the outage have their own scenarios; here they would add most
    // of a minute of broker restarts.
    all: { kills: 2, stormS: 6, leaderBounces: 1, controllerBounces: 0, outageS: 0, redisRestarts: 1 },
  },
  full: {
    name: 'full',
    rate: 300,
    warmupS: 5,
    cooldownS: 5,
    workers: 3,
    kills: { count: 10, everyS: 6 },
    storm: { durationS: 60, everyS: 3, maxWorkers: 5 },
    leaderBounces: 5,
    controllerBounces: 5,
    bounceDownS: 5,
    outageS: 30,
    redisRestarts: 1,
    all: { kills: 10, stormS: 60, leaderBounces: 5, controllerBounces: 5, outageS: 30, redisRestarts: 1 },
  },
};
