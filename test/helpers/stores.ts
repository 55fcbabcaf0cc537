// Test doubles around a real feature store: every call goes to `inner` unless overridden.
import type { FeatureStore } from '../../src/features/store.js';

export function delegating(inner: FeatureStore, overrides: Partial<FeatureStore>): FeatureStore {
  return {
    observe: (batches) => inner.observe(batches),
    claim: (partition) => inner.claim(partition),
    release: (partition, committedOffset) => inner.release(partition, committedOffset),
    close: () => inner.close(),
    ...overrides,
  };
}
