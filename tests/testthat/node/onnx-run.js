// ONNX Runtime's side of selu's tests (tests/testthat/test-onnx.R):
//
//   node onnx-run.js <model.onnx> <inputs.json> <outputs.json>
//
// runs the model on CPU with the inputs, {"<name>": {"dtype": "float32" or
// "float64", "shape": [...], "values": [...]}} (values row-major), and writes
// its outputs as {"<name>": {"shape": [...], "values": [...]}}.
'use strict';
const fs = require('fs');
const ort = require('onnxruntime-node');

async function main() {
  const [modelPath, inputsPath, outputsPath] = process.argv.slice(2);
  const session = await ort.InferenceSession.create(modelPath, {executionProviders: ['cpu']});
  const given = JSON.parse(fs.readFileSync(inputsPath, 'utf8'));
  const feeds = {};
  for (const name of Object.keys(given)) {
    const e = given[name];
    const data = e.dtype === 'float64' ? Float64Array.from(e.values) : Float32Array.from(e.values);
    feeds[name] = new ort.Tensor(e.dtype, data, e.shape);
  }
  const results = await session.run(feeds);
  const out = {};
  for (const name of session.outputNames) {
    out[name] = {shape: results[name].dims, values: Array.from(results[name].data)};
  }
  fs.writeFileSync(outputsPath, JSON.stringify(out));
}

main().catch((e) => {
  process.stderr.write(String(e && e.stack ? e.stack : e) + '\n');
  process.exit(1);
});
