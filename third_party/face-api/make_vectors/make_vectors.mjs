// Known-answer vectors for mien's LibTorch port of the face-api.js expression network
// (plugins/faceapi), computed with the original library: @vladmandic/face-api 1.7.15 on
// TensorFlow.js 4.22.0's pure-JavaScript CPU backend (no native code, no GPU).
//
//   cd /tmp/mv && cp /work/main/third_party/face-api/make_vectors/* . && npm install
//   node make_vectors.mjs /work/main/third_party/face-api /work/main/plugins/faceapi/tests/data
//
// Inputs (raw RGB bytes, row-major H x W x 3, in the data folder):
//   astronaut_face_118x106.rgb   the astronaut face crop (committed; see the plugin README)
//   gradient_112x112.rgb         written here from a formula: no padding, no resizing
//   noise_64x80.rgb              written here: LCG noise, 64 high x 80 wide (pad + upscale)
//   rings_150x130.rgb            written here: rings and stripes, 150 x 130 (pad + downscale)
//   checks_61x64.rgb             written here: checks, 61 x 64 (odd padding: 1 row before, 2 after)
// Output: faceapi_vectors.json with, per input, the 7 probabilities (face-api's order
// neutral, happy, sad, angry, fearful, disgusted, surprised), the 7 logits and the 256
// pooled features.
import fs from 'fs';
import path from 'path';
import { createRequire } from 'module';

const require = createRequire(import.meta.url);
const tf = require('@tensorflow/tfjs');
const faceapi = require('@vladmandic/face-api/dist/face-api.node-wasm.js');

const [modelDir, dataDir] = process.argv.slice(2);
if (!modelDir || !dataDir) {
  console.error('usage: node make_vectors.mjs MODEL_DIR DATA_DIR');
  process.exit(2);
}

function writeImage(name, h, w, f) {
  const buf = Buffer.alloc(h * w * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let c = 0; c < 3; c++) buf[(y * w + x) * 3 + c] = f(y, x, c);
  fs.writeFileSync(path.join(dataDir, name), buf);
}

// Deterministic synthetic inputs: integer formulas, identical on every machine.
writeImage('gradient_112x112.rgb', 112, 112, (y, x, c) => (c === 0 ? 2 * x + y : c === 1 ? 255 - 2 * y : (x * y) >> 5) & 255);
let state = 12345;
writeImage('noise_64x80.rgb', 64, 80, () => {
  state = (Math.imul(state, 1103515245) + 12345) >>> 0;
  return (state >>> 16) & 255;
});
writeImage('rings_150x130.rgb', 150, 130, (y, x, c) => {
  const d2 = (y - 75) * (y - 75) + (x - 65) * (x - 65);
  return c === 0 ? (d2 >> 4) & 255 : c === 1 ? ((x >> 3) & 1) * 200 + 30 : ((y * 3 + x) & 127) + 64;
});

writeImage('checks_61x64.rgb', 61, 64, (y, x, c) => ((((x >> 2) + (y >> 2)) & 1) * 180 + c * 30 + y) & 255);

const inputs = [
  { name: 'astronaut_face', file: 'astronaut_face_118x106.rgb', height: 118, width: 106 },
  { name: 'gradient', file: 'gradient_112x112.rgb', height: 112, width: 112 },
  { name: 'noise', file: 'noise_64x80.rgb', height: 64, width: 80 },
  { name: 'rings', file: 'rings_150x130.rgb', height: 150, width: 130 },
  { name: 'checks', file: 'checks_61x64.rgb', height: 61, width: 64 },
];

await tf.setBackend('cpu');
await tf.ready();
const net = faceapi.nets.faceExpressionNet;
await net.loadFromDisk(modelDir);

const results = [];
for (const input of inputs) {
  const bytes = fs.readFileSync(path.join(dataDir, input.file));
  if (bytes.length !== input.height * input.width * 3) throw new Error(`${input.file}: wrong size`);
  const image = tf.tensor3d(new Int32Array(bytes), [input.height, input.width, 3], 'int32');
  const netInput = await faceapi.toNetInput(image);
  const features = net.faceFeatureExtractor.forwardInput(netInput);
  const logits = net.runNet(netInput);
  const probs = tf.softmax(logits);
  const expressions = await net.predictExpressions(image);
  const p = Array.from(probs.dataSync());
  const q = faceapi.FACE_EXPRESSION_LABELS ? faceapi.FACE_EXPRESSION_LABELS.map((k) => expressions[k]) : p;
  for (let k = 0; k < 7; k++) if (Math.abs(p[k] - q[k]) > 1e-7) throw new Error('predictExpressions disagrees with runNet');
  results.push({
    name: input.name,
    file: input.file,
    height: input.height,
    width: input.width,
    probabilities: p,
    logits: Array.from(logits.dataSync()),
    features: Array.from(features.dataSync()),
  });
  tf.dispose([image, features, logits, probs]);
}

const out = {
  generator: 'third_party/face-api/make_vectors/make_vectors.mjs',
  library: `@vladmandic/face-api ${faceapi.version}`,
  tfjs: tf.version.tfjs,
  backend: tf.getBackend(),
  classes: ['neutral', 'happy', 'sad', 'angry', 'fearful', 'disgusted', 'surprised'],
  inputs: results,
};
fs.writeFileSync(path.join(dataDir, 'faceapi_vectors.json'), JSON.stringify(out, null, 1) + '\n');
console.log(results.map((r) => `${r.name}: ${r.probabilities.map((v) => v.toFixed(4)).join(' ')}`).join('\n'));
