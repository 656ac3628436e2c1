#!/usr/bin/env node
// ort_layers.js - ONNX Runtime's own time for every node of a model, for tools/compare_ort.py
// --layers (which compares them with mnet's layers).
//
//   node tools/ort_layers.js MODEL.onnx INPUT.f32 N,C,H,W THREADS RUNS WARMUP
//
// Runs the model WARMUP + RUNS times on the raw float32 NCHW input with ONNX Runtime's profiler
// on (the CPU execution provider, all graph optimisations, as ort_bench.js sets it up), then
// prints one JSON object: for every node that ran, in execution order, its name, op type, input
// and output shapes and its kernel times in microseconds over the timed runs (the warm-up runs'
// times are dropped), and the runs' own durations.  The profiler's file is removed.
// onnxruntime-node is found through NODE_PATH (see ../shared/peers/README.md).
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const ort = require('onnxruntime-node');

async function main() {
  const [model, input, shapeArg, threadsArg, runsArg, warmupArg] = process.argv.slice(2);
  const shape = (shapeArg || '').split(',').map(Number);
  const threads = Number(threadsArg), runs = Number(runsArg), warmup = Number(warmupArg);
  if (!model || !input || shape.length !== 4 || !shape.every((d) => Number.isInteger(d) && d > 0) ||
      !(threads >= 1) || !(runs >= 1) || !(warmup >= 0))
    throw new Error('usage: ort_layers.js MODEL.onnx INPUT.f32 N,C,H,W THREADS RUNS WARMUP');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ort-layers-'));
  try {
    const sess = await ort.InferenceSession.create(model, {
      executionProviders: ['cpu'], graphOptimizationLevel: 'all', intraOpNumThreads: threads,
      interOpNumThreads: 1, executionMode: 'sequential', enableProfiling: true,
      profileFilePrefix: path.join(dir, 'profile') });
    const buf = fs.readFileSync(input);
    const n = shape.reduce((a, b) => a * b);
    if (buf.length !== 4 * n) throw new Error(`${input}: ${buf.length} bytes, shape ${shape} needs ${4 * n}`);
    const x = new Float32Array(n);
    for (let i = 0; i < n; i++) x[i] = buf.readFloatLE(4 * i);
    const feeds = { [sess.inputNames[0]]: new ort.Tensor('float32', x, shape) };
    for (let i = 0; i < warmup + runs; i++) await sess.run(feeds);
    sess.endProfiling();
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json'));
    if (files.length !== 1) throw new Error(`expected one profile in ${dir}, found ${files.length}`);
    const events = JSON.parse(fs.readFileSync(path.join(dir, files[0]), 'utf8'));
    const nodes = new Map();   // name -> record, in first-seen (execution) order
    const runUs = [];
    for (const e of events) {
      if (e.cat === 'Session' && e.name === 'model_run') runUs.push(e.dur);
      if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
      const name = e.name.slice(0, -'_kernel_time'.length);
      if (!nodes.has(name)) {
        const shapes = (l) => (l || []).map((t) => Object.values(t)[0]);
        nodes.set(name, { name, op: e.args.op_name, inputs: shapes(e.args.input_type_shape),
                          outputs: shapes(e.args.output_type_shape), us: [] });
      }
      nodes.get(name).us.push(e.dur);
    }
    // Every node runs once per run (the graphs here have no control flow): drop the warm-up's.
    const out = [...nodes.values()].map((r) => ({ ...r, us: r.us.slice(r.us.length - runs) }));
    console.log(JSON.stringify({ ort: ort.env.versions.common, threads, runs,
                                 run_us: runUs.slice(runUs.length - runs), nodes: out }));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => { console.error(e.message || e); process.exit(1); });
