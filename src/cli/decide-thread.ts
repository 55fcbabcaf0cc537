// replay's decide thread (offline/threaded-decider.ts): scores each chunk whose features the
// main thread computed, applies the rules and encodes the decision lines. Its pipeline is
// built from the same configuration as the main thread's, so it decides as processBatch does.
import { parentPort, workerData } from 'node:worker_threads';
import type { ParsedTransaction } from '../contract/transaction.js';
import { batchFeaturesFrom } from '../features/engine.js';
import { decisionLine, linesBytes } from '../offline/output-lines.js';
import { movable, OUTCOMES, type DecideReply, type DecideRequest, type DecideThreadData } from '../offline/threaded-decider.js';
import { scoreAndDecide, type PipelineDeps } from '../pipeline/process-batch.js';
import { configWith, featureSetFor, modelsFor, offlinePipeline, type Models } from './build.js';

const port = parentPort;
if (port === null) throw new Error('decide-thread.js runs as a worker thread');
const data = workerData as DecideThreadData;
const send = (reply: DecideReply, transfer: ArrayBuffer[] = []): void => port.postMessage(reply, transfer);

async function decide(deps: PipelineDeps, request: Extract<DecideRequest, { type: 'chunk' }>): Promise<void> {
  const raw = Buffer.from(request.raw.buffer, request.raw.byteOffset, request.raw.byteLength);
  const valid: { index: number; value: ParsedTransaction }[] = [];
  let start = 0;
  request.ends.forEach((end, index) => {
    // Validated when it was read: its JSON is its ParsedTransaction's event.
    valid.push({ index, value: { event: JSON.parse(raw.toString('utf8', start, end)) as ParsedTransaction['event'], eventTimeMs: request.times[index] as number } });
    start = end;
  });
  const outcome = await scoreAndDecide(valid, [], batchFeaturesFrom(deps.features, request.features), deps);
  const bytes = linesBytes(outcome.decided, decisionLine);
  const outcomes = Uint8Array.from(outcome.decided, (d) => OUTCOMES.indexOf(d.outcome));
  send({ type: 'decided', id: request.id, bytes, outcomes }, movable(bytes, outcomes));
}

function failed(id: number, err: unknown): void {
  send({ type: 'failed', id, message: err instanceof Error ? err.message : String(err) });
}

let models: Models | undefined;
try {
  const config = configWith(data.overrides);
  const features = featureSetFor(config);
  if (features.names.join('\n') !== data.featureNames.join('\n')) throw new Error('the decide thread loaded another feature set than the main thread');
  models = await modelsFor(config, features);
  const deps = offlinePipeline(config, features, { decisions: 'all', models });
  // One chunk at a time, in the order they came.
  let queue = Promise.resolve();
  port.on('message', (request: DecideRequest) => {
    if (request.type === 'close') {
      // The port closes whatever the models' close does: the main thread waits for this thread to end.
      queue = queue.then(() => Promise.allSettled([models?.scorer.close(), models?.challenger?.close()]).then(() => port.close()));
      return;
    }
    queue = queue.then(() => decide(deps, request).catch((err: unknown) => failed(request.id, err)));
  });
  send({ type: 'ready' });
} catch (err) {
  failed(0, err);
  await Promise.allSettled([models?.scorer.close(), models?.challenger?.close()]);
  port.close();
}
