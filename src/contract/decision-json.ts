// Serialises a decision for Kafka. The original event is spliced in as the bytes it
// arrived as (already valid JSON), instead of being re-serialised.
import type { Decision } from './decision.js';

const CLOSE = Buffer.from('}');
const EVENT_FIELD = ',"event":';

export function decisionJson(decision: Decision, rawEvent: Buffer | null): Buffer | string {
  if (rawEvent === null) return JSON.stringify(decision);
  const { event, ...rest } = decision;
  void event;
  const head = JSON.stringify(rest);
  return Buffer.concat([Buffer.from(head.slice(0, -1) + EVENT_FIELD), rawEvent, CLOSE]);
}
