// Run in a child process by multiHeadAttention.test.ts: compares our MultiHeadAttention with the one
// tfjs-layers 4.22 ships in its sources but does not export (dist/layers/nlp/multihead_attention.js).
// Separate process because importing that file loads a second copy of tfjs-layers, which re-registers
// every layer class in tfjs's shared serialization registry; and on the cpu backend, because its einsum
// has no wasm kernel. Prints one JSON line.

import * as tf from "@tensorflow/tfjs";
import { Rng } from "../../src/backend/random";
import { MultiHeadAttention } from "../../src/nn/multiHeadAttention";

interface TfjsMultiHeadAttention {
  callAndReturnAttentionScores(
    query: tf.Tensor,
    kwargs: { value: tf.Tensor; attentionMask?: tf.Tensor },
  ): [tf.Tensor, tf.Tensor];
  queryDense: tf.layers.Layer;
  keyDense: tf.layers.Layer;
  valueDense: tf.layers.Layer;
  outputDense: tf.layers.Layer;
}

async function main(): Promise<void> {
  await tf.setBackend("cpu");
  const nlp = require("@tensorflow/tfjs-layers/dist/layers/nlp/multihead_attention");
  const [batch, queries, keys, width, heads, keyDim] = [2, 3, 4, 8, 2, 4];
  const rng = new Rng(1);
  const normal = (shape: number[]) =>
    tf.tensor(
      Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal()),
      shape,
    );
  const query = normal([batch, queries, width]);
  const value = normal([batch, keys, width]);
  const mask = tf.tile(tf.tensor3d([[[1, 1, 1, 0]], [[1, 1, 0, 0]]]), [1, queries, 1]); // [B, T_q, T_k]

  const theirs: TfjsMultiHeadAttention = new nlp.MultiHeadAttention({ numHeads: heads, keyDim });
  const [theirOutput, theirWeights] = theirs.callAndReturnAttentionScores(query, { value, attentionMask: mask });
  // Their kernels are [D, H, d_k] (and [H, d_v, D] for the output), ours [D, H·d_k] ([H·d_v, D]): the
  // same numbers in the same row-major order.
  const weights = [theirs.queryDense, theirs.keyDense, theirs.valueDense, theirs.outputDense].flatMap((dense) =>
    dense.getWeights(),
  );
  const ours = new MultiHeadAttention({ numHeads: heads, keyDim, returnAttentionWeights: true, seed: 1 });
  tf.dispose(ours.apply([query, value]) as tf.Tensor);
  ours.setWeights(
    weights.map((w, i) =>
      i === 6 ? w.reshape([heads * keyDim, width]) : w.rank === 3 ? w.reshape([width, -1]) : w.reshape([-1]),
    ),
  );
  const [ourOutput, ourWeights] = ours.apply([query, value, mask]) as tf.Tensor[];
  const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0];
  console.log(
    JSON.stringify({ outputDiff: maxDiff(ourOutput, theirOutput), weightsDiff: maxDiff(ourWeights, theirWeights) }),
  );
}

// Only as a script: mocha, loading every .ts file under test/nn, must not run it in its own process.
if (require.main === module) {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
