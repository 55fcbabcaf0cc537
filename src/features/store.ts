// The feature store port: what the pipeline needs from Redis or the in-memory store.
import type { EntityKind } from './definitions.js';
import type { WindowSpec } from './windows.js';

export interface EntityEvent {
  transactionId: string;
  eventTimeMs: number;
  amount: number;
}

/** All events of one entity instance in a batch, in arrival order. */
export interface EntityBatch {
  entity: EntityKind;
  id: string;
  windows: readonly WindowSpec[];
  events: EntityEvent[];
}

export interface WindowAggregate {
  count: number;
  sum: number;
  sumSq: number;
}

/** What the store saw for one event of one entity: the state as of that event, itself included. */
export interface EntityObservation {
  /** The transactionId was already applied; nothing changed. */
  duplicate: boolean;
  /** Older than the allowed lateness; decided on a best-effort read, not applied. */
  tooLate: boolean;
  /** Event time of the entity's previous event, when this event is in order. */
  previousTimeMs: number | null;
  /** One aggregate per window, in the order of the batch's `windows`. */
  windows: WindowAggregate[];
}

export interface FeatureStore {
  /** Applies each event once and returns, per batch entry and per event, the aggregates as of that event. */
  observe(batches: readonly EntityBatch[]): Promise<EntityObservation[][]>;
  close(): Promise<void>;
}

export interface StoreOptions {
  allowedLatenessMs: number;
}
