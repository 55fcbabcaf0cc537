#!/usr/bin/env node
// The `fraud-detector` entry point: holds SIGTERM and SIGINT (early-signals.ts) before loading
// the command line, whose modules (native Kafka and ONNX bindings among them) take a second or
// more to load; a static import would load them all before any line here ran.
import './early-signals.js';

await import('./program.js');
