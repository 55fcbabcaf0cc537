// The one owner of SIGTERM and SIGINT, installed before the modules that take seconds to load
// (native Kafka and ONNX bindings): a signal that arrives while they load is held, not fatal, so
// a worker a rollout stops in its first seconds exits 0 instead of dying by the signal. A
// command that stops gracefully registers its handler here; any other dies by the signal as
// usual. The listeners are never removed: between removing one and adding another, a signal
// could reach no one (seen: one SIGTERM in eight lost that way, the worker then running on).
type Handler = (signal: NodeJS.Signals) => void;

let held: NodeJS.Signals | null = null;
let started = false;
let handler: Handler | null = null;

function dispatch(signal: NodeJS.Signals): void {
  if (handler !== null) handler(signal);
  else if (!started) held ??= signal;
  else process.exit(signal === 'SIGINT' ? 130 : 143); // what dying by the signal would give
}

process.on('SIGTERM', dispatch);
process.on('SIGINT', dispatch);

/** A command begins: the signal that arrived before it, if any. From now on, unhandled signals end the process. */
export function takeEarlySignal(): NodeJS.Signals | null {
  started = true;
  return held;
}

/** The command handles SIGTERM and SIGINT itself from now on (a graceful stop). */
export function handleSignals(onSignal: Handler): void {
  handler = onSignal;
}
