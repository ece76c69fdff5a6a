// TensorFlow.js's side of selu's tests (tests/testthat/test-tfjs.R).
//
//   node tfjs-check.js predict <dir>
//     loads the TensorFlow.js model in <dir> (model.json and the weight
//     files its manifest names), predicts the inputs in <dir>/inputs.json and
//     writes the outputs to <dir>/outputs.json.
//   node tfjs-check.js train <dir>
//     builds models of every layer kind TensorFlow.js and selu share, trains
//     each a few epochs and writes it to <dir>/<model>/ as TensorFlow.js saves
//     it (model.json, weights.bin), with inputs.json and outputs.json.
//
// inputs.json and outputs.json hold one entry per model input or output:
// {"shape": [...], "values": [...]}, the values in row-major order.
'use strict';
const fs = require('fs');
const path = require('path');
const tf = require('@tensorflow/tfjs');

function toEntries(tensors) {
  if (!Array.isArray(tensors)) tensors = [tensors];
  return tensors.map((t) => ({shape: t.shape, values: Array.from(t.dataSync())}));
}

function fromEntries(entries) {
  return entries.map((e) => tf.tensor(e.values, e.shape, 'float32'));
}

async function loadModel(dir) {
  const json = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
  const specs = [];
  const buffers = [];
  for (const group of json.weightsManifest) {
    for (const p of group.paths) buffers.push(fs.readFileSync(path.join(dir, p)));
    specs.push(...group.weights);
  }
  const bytes = Buffer.concat(buffers);
  const weightData = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length);
  return tf.loadLayersModel(tf.io.fromMemory({modelTopology: json.modelTopology,
                                              weightSpecs: specs, weightData}));
}

async function predict(dir) {
  const model = await loadModel(dir);
  const inputs = fromEntries(JSON.parse(fs.readFileSync(path.join(dir, 'inputs.json'), 'utf8')));
  const outputs = model.predict(inputs.length === 1 ? inputs[0] : inputs);
  fs.writeFileSync(path.join(dir, 'outputs.json'), JSON.stringify(toEntries(outputs)));
}

async function saveModel(model, dir) {
  fs.mkdirSync(dir, {recursive: true});
  await model.save(tf.io.withSaveHandler(async (artifacts) => {
    fs.writeFileSync(path.join(dir, 'weights.bin'), Buffer.from(artifacts.weightData));
    fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify({
      format: 'layers-model',
      generatedBy: artifacts.generatedBy,
      convertedBy: null,
      modelTopology: artifacts.modelTopology,
      weightsManifest: [{paths: ['weights.bin'], weights: artifacts.weightSpecs}],
    }));
    return {modelArtifactsInfo: {dateSaved: new Date(), modelTopologyType: 'JSON'}};
  }));
}

function oneHot(n, k, seed) {
  return tf.oneHot(tf.randomUniform([n], 0, k, 'int32', seed), k).toFloat();
}

// The models: each a function of nothing giving {model, x, y}, compiled to
// be trained on x and y (when y is not null).
const builders = {
  sequential() {
    const model = tf.sequential();
    model.add(tf.layers.dense({inputShape: [4], units: 8, activation: 'selu',
                               kernelInitializer: 'leCunNormal'}));
    model.add(tf.layers.alphaDropout({rate: 0.1}));
    model.add(tf.layers.dense({units: 6, activation: 'elu', kernelInitializer: 'glorotNormal',
                               biasInitializer: 'ones'}));
    model.add(tf.layers.leakyReLU({alpha: 0.2}));
    model.add(tf.layers.batchNormalization({momentum: 0.9}));
    model.add(tf.layers.prelu({alphaInitializer: tf.initializers.constant({value: 0.25})}));
    model.add(tf.layers.reLU({maxValue: 2}));
    model.add(tf.layers.dense({units: 6, activation: 'tanh',
                               kernelInitializer: tf.initializers.identity({gain: 0.5})}));
    model.add(tf.layers.dense({units: 6, kernelInitializer: 'heUniform'}));
    model.add(tf.layers.layerNormalization({epsilon: 0.001}));
    model.add(tf.layers.gaussianNoise({stddev: 0.1}));
    model.add(tf.layers.gaussianDropout({rate: 0.1}));
    model.add(tf.layers.dropout({rate: 0.2}));
    model.add(tf.layers.elu());
    model.add(tf.layers.dense({units: 3, kernelInitializer: 'varianceScaling'}));
    model.add(tf.layers.softmax());
    model.compile({optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy'});
    return {model, x: [tf.randomNormal([64, 4], 0, 1, 'float32', 1)], y: oneHot(64, 3, 2)};
  },
  functional() {
    const a = tf.input({shape: [3], name: 'left'});
    const b = tf.input({shape: [3], name: 'right'});
    const da = tf.layers.dense({units: 4, activation: 'sigmoid',
                                kernelInitializer: 'leCunUniform'}).apply(a);
    const db = tf.layers.dense({units: 4, activation: 'relu',
                                kernelInitializer: 'orthogonal'}).apply(b);
    const merged = tf.layers.concatenate({axis: -1}).apply([
      tf.layers.add().apply([da, db]), tf.layers.multiply().apply([da, db]),
      tf.layers.average().apply([da, db]), da]);
    const reg = tf.layers.dense({units: 2, name: 'reg',
                                 kernelInitializer: 'heNormal'}).apply(merged);
    const logits = tf.layers.dense({units: 3, kernelInitializer: 'glorotUniform',
                                    biasInitializer: tf.initializers.randomNormal({})})
      .apply(merged);
    const cls = tf.layers.activation({activation: 'softmax', name: 'cls'}).apply(logits);
    const model = tf.model({inputs: [a, b], outputs: [reg, cls]});
    model.compile({optimizer: tf.train.sgd(0.1),
                   loss: ['meanSquaredError', 'categoricalCrossentropy']});
    return {model, x: [tf.randomNormal([64, 3], 0, 1, 'float32', 3),
                       tf.randomNormal([64, 3], 0, 1, 'float32', 4)],
            y: [tf.randomNormal([64, 2], 0, 1, 'float32', 5), oneHot(64, 3, 6)]};
  },
  embedding() {
    const model = tf.sequential();
    model.add(tf.layers.embedding({inputDim: 12, outputDim: 3, inputLength: 5}));
    model.add(tf.layers.flatten());
    model.add(tf.layers.dense({units: 1, kernelInitializer: 'truncatedNormal'}));
    model.compile({optimizer: tf.train.rmsprop(0.01), loss: 'meanSquaredError'});
    return {model, x: [tf.randomUniform([64, 5], 0, 12, 'int32', 7).toFloat()],
            y: tf.randomNormal([64, 1], 0, 1, 'float32', 8)};
  },
  rank3() {
    const model = tf.sequential();
    model.add(tf.layers.dense({inputShape: [3, 4], units: 5, activation: 'elu',
                               kernelInitializer: tf.initializers.varianceScaling({
                                 scale: 2, mode: 'fanOut', distribution: 'uniform'})}));
    model.add(tf.layers.softmax({axis: -1}));
    model.add(tf.layers.batchNormalization());
    model.add(tf.layers.flatten());
    model.add(tf.layers.dense({units: 2, kernelInitializer: 'randomUniform'}));
    model.compile({optimizer: tf.train.adam(0.01), loss: 'meanSquaredError'});
    return {model, x: [tf.randomNormal([64, 3, 4], 0, 1, 'float32', 9)],
            y: tf.randomNormal([64, 2], 0, 1, 'float32', 10)};
  },
  // TensorFlow.js has no gradient for ThresholdedReLU: this one is not trained
  thresholded() {
    const model = tf.sequential();
    model.add(tf.layers.dense({inputShape: [4], units: 5,
                               biasInitializer: tf.initializers.randomNormal({seed: 11})}));
    model.add(tf.layers.thresholdedReLU({theta: 0.1}));
    model.add(tf.layers.dense({units: 2, kernelInitializer: 'leCunNormal'}));
    return {model, x: [tf.randomNormal([16, 4], 0, 1, 'float32', 12)], y: null};
  },
};

async function train(dir) {
  for (const name of Object.keys(builders)) {
    const {model, x, y} = builders[name]();
    if (y) await model.fit(x.length === 1 ? x[0] : x, y, {epochs: 3, batchSize: 16, verbose: 0});
    const out = path.join(dir, name);
    await saveModel(model, out);
    fs.writeFileSync(path.join(out, 'inputs.json'), JSON.stringify(toEntries(x)));
    fs.writeFileSync(path.join(out, 'outputs.json'),
                     JSON.stringify(toEntries(model.predict(x.length === 1 ? x[0] : x))));
  }
}

async function main() {
  const [task, dir] = process.argv.slice(2);
  await tf.setBackend('cpu');
  if (task === 'predict') {
    await predict(dir);
  } else if (task === 'train') {
    await train(dir);
  } else {
    throw new Error('usage: node tfjs-check.js predict|train <dir>');
  }
}

main().catch((e) => {
  process.stderr.write(String(e && e.stack ? e.stack : e) + '\n');
  process.exit(1);
});
