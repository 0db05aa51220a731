// The affine map y = x·W + b over the last axis of a tensor of any rank, shared by the attention
// projections and the feed-forward network.

import * as tf from "@tensorflow/tfjs";

/** x [..., D_in] · kernel [D_in, D_out] + bias [D_out] → [..., D_out], as one 2-D matMul. */
export function linear(x: tf.Tensor, kernel: tf.Tensor, bias?: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const [inputDim, outputDim] = kernel.shape;
    const rows = tf.reshape(x, [-1, inputDim]); // [N, D_in]
    let y = tf.matMul(rows, kernel); // [N, D_out]
    if (bias !== undefined) y = tf.add(y, bias);
    return tf.reshape(y, [...x.shape.slice(0, -1), outputDim]);
  });
}
