// Holds a store call until its Redis client is connected, and fails it with the reason when a
// connection attempt fails instead. Left to itself, ioredis holds a Cluster's commands until
// the Cluster connects (forever, with a wrong password or a refused certificate), and gives a
// single Redis's up after a few attempts saying only that it retried.
import type { Cluster, Redis } from 'ioredis';
import { redisError } from './redis-errors.js';

type Client = Redis | Cluster;

/** Turns a failed connection attempt's error into the secret-free error the waiting calls fail with. */
export type Diagnose = (err: unknown) => Promise<Error>;

const diagnoses = new WeakMap<Client, Diagnose>();
/** One wait per client, shared by the calls that arrive meanwhile (one listener pair, not one per call). */
const waits = new WeakMap<Client, Promise<void>>();
const CONNECTING = new Set(['connecting', 'connect', 'reconnecting']);

export function explainFailures(client: Client, diagnose: Diagnose): void {
  diagnoses.set(client, diagnose);
}

/** Resolves once `client` is ready (at once if it is, or is not trying to connect); rejects with the reason its next attempt failed. */
export function whenReady(client: Client, timeoutMs: number): Promise<void> {
  if (!CONNECTING.has(client.status)) return Promise.resolve();
  let wait = waits.get(client);
  if (wait === undefined) {
    wait = nextOutcome(client, timeoutMs).finally(() => waits.delete(client));
    waits.set(client, wait);
  }
  return wait;
}

async function nextOutcome(client: Client, timeoutMs: number): Promise<void> {
  const failure = await new Promise<unknown>((resolve) => {
    const done = (outcome: unknown): void => {
      clearTimeout(timer);
      client.off('ready', onReady);
      client.off('error', onError);
      resolve(outcome);
    };
    const onReady = (): void => done(undefined);
    const onError = (err: unknown): void => done(err ?? new Error('connection failed'));
    const timer = setTimeout(() => done(new Error(`not connected after ${timeoutMs} ms`)), timeoutMs);
    client.on('ready', onReady);
    client.on('error', onError);
  });
  if (failure === undefined) return;
  const diagnose = diagnoses.get(client);
  throw diagnose ? await diagnose(failure) : redisError(failure);
}
