// Neural Collaborative Filtering (He, Liao, Zhang, Nie, Hu and Chua, "Neural Collaborative Filtering",
// WWW 2017), the seed's stage 4 — 基于深度学习的推荐系统 — on implicit feedback: matrix factorisation
// scores a user–item pair with a fixed function of two embeddings, the inner product; NCF learns that
// function instead.
//
//   MF      x̂_ui = p_uᵀ q_i                                 the interaction is fixed
//   GMF     x̂_ui = hᵀ(p_u ⊙ q_i) + b                        a learned weight per latent factor
//   MLP     z_0 = [p_u ; q_i],  z_l = ReLU(W_lᵀ z_{l−1} + b_l),  x̂_ui = hᵀ z_L + b
//   NeuMF   x̂_ui = hᵀ [p^G_u ⊙ q^G_i ; z_L(p^M_u, q^M_i)] + b   both, with their own embeddings
//
//   ŷ_ui = σ(x̂_ui), the predicted probability that u interacts with i.
//
// GMF with h = 1 and b = 0 is MF. The MLP's first width is that of the concatenation [p ; q] (the
// authors' `layers` argument): [64, 32, 16, 8] means 32-wide user and item embeddings, then ReLU layers
// of 32, 16 and 8 units.
//
// Training on implicit feedback: each training interaction (u, i) is a positive, y = 1; for each, n items
// the user has not interacted with are drawn uniformly as negatives, y = 0, afresh every epoch (the
// paper: n = 4). The loss is the log loss (binary cross-entropy) over the positives Y⁺ and the sampled
// negatives Y⁻,
//
//   L = −Σ_{(u,i) ∈ Y⁺} ln σ(x̂_ui) − Σ_{(u,j) ∈ Y⁻} ln(1 − σ(x̂_uj)),
//
// or, as an option, BPR (Rendle et al., UAI 2009) on the same samples, which only asks a positive to
// score above each of its negatives: L = −Σ ln σ(x̂_ui − x̂_uj).
//
// Pretraining (§3.4.1 of the paper): NeuMF starts from a trained GMF and a trained MLP — their
// embeddings and tower as they are, and the output weights h = [α·h^GMF ; (1 − α)·h^MLP], α = 0.5 — and
// is then trained with plain SGD (Adam's moment estimates do not carry over).

import * as tf from "@tensorflow/tfjs";
import { Rng } from "../backend/random";
import { checkPositiveInteger } from "../checks";
import { Interactions } from "../data/interactions";
import { ItemScorer } from "../eval/scorers";
import { DenseTower, denseTowerWeights, gatherRows } from "../nn/mlp";
import { readAndDispose } from "../nn/tensors";
import { ImplicitFeedbackBatch, ImplicitFeedbackModel, negativeCount } from "../train/implicitFeedback";
import { bprLoss, sampledLogLoss } from "../train/losses";
import type { NamedWeight } from "../nn/layeredModel";
import { tfModelFormat } from "../train/savedModel";

// ---------------------------------------------------------------------------------------------
// The model (its batches, losses and training loop: train/implicitFeedback.ts, train/losses.ts)
// ---------------------------------------------------------------------------------------------

export type NcfVariant = "gmf" | "mlp" | "neumf";

export type ImplicitLoss = "logLoss" | "bpr";

export interface NeuralCFConfig {
  /** Default "neumf". */
  variant?: NcfVariant;
  /** Width of the GMF embeddings p^G, q^G (GMF's predictive factors). Default 8, the authors' default. */
  factors?: number;
  /**
   * The MLP: the width of [p^M ; q^M] (even: each embedding is half of it), then each ReLU layer's.
   * Default [64, 32, 16, 8], the authors' default. A single entry is the concatenation with no layer.
   */
  mlpLayers?: readonly number[];
  /** Default "logLoss", the paper's; "bpr" ranks each positive above its negatives instead. */
  loss?: ImplicitLoss;
  /** Standard deviation of the normal initialisation of the embeddings. Default 0.01, the paper's. */
  initStd?: number;
  /** NeuMF only: start from a trained GMF and MLP of the same sizes (see the file header). */
  pretrained?: NeuMFPretraining;
  /** Seeds the initialisation. */
  seed: number;
}

/** The trained models a NeuMF starts from. */
export interface NeuMFPretraining {
  gmf: NeuralCF;
  mlp: NeuralCF;
  /** α, the weight of GMF's output weights (MLP's get 1 − α). Default 0.5, the paper's. */
  alpha?: number;
}

/** The learned parameters; a branch's entries are absent when the variant has no such branch. */
export interface NeuralCFParams {
  gmfUsers?: tf.Variable<tf.Rank.R2>; // [U, F]: p^G
  gmfItems?: tf.Variable<tf.Rank.R2>; // [I, F]: q^G
  mlpUsers?: tf.Variable<tf.Rank.R2>; // [U, L0/2]: p^M
  mlpItems?: tf.Variable<tf.Rank.R2>; // [I, L0/2]: q^M
  /** The MLP's ReLU layers (none when mlpLayers has one entry). */
  tower?: DenseTower;
  output: tf.Variable<tf.Rank.R2>; // [F + L_last, 1]: h, GMF's rows first
  outputBias: tf.Variable<tf.Rank.R1>; // [1]: b
}

/** At most this many (user, item) rows go through the MLP at once when scoring every item. */
const SCORING_ROWS = 1 << 18;

/**
 * GMF, MLP or NeuMF (see the file header). A `LossModel` over `ImplicitFeedbackBatch`es — train it
 * with `fitImplicitFeedback` — and an `ItemScorer` whose scores are the logits x̂_ui (σ is monotonic,
 * so they rank as ŷ does). Holds tfjs variables: call `dispose()` when done.
 */
export class NeuralCF implements ImplicitFeedbackModel, ItemScorer {
  readonly variant: NcfVariant;
  readonly factors: number;
  readonly mlpLayers: readonly number[];
  readonly objective: ImplicitLoss;
  /** n of `fitImplicitFeedback` by default: 4 for the log loss (the paper's), 1 for BPR (Rendle's). */
  readonly negativesPerPositive: number;
  readonly params: NeuralCFParams;

  constructor(
    readonly train: Interactions,
    config: NeuralCFConfig,
  ) {
    const caller = "NeuralCF";
    this.variant = config.variant ?? "neumf";
    if (!["gmf", "mlp", "neumf"].includes(this.variant)) {
      throw new Error(`${caller}: variant must be "gmf", "mlp" or "neumf", got ${JSON.stringify(config.variant)}`);
    }
    this.factors = checkPositiveInteger(caller, "factors", config.factors ?? 8);
    this.mlpLayers = (config.mlpLayers ?? [64, 32, 16, 8]).map((w, l) =>
      checkPositiveInteger(caller, `mlpLayers[${l}]`, w),
    );
    if (this.mlpLayers.length === 0 || this.mlpLayers[0] % 2 !== 0) {
      throw new Error(
        `${caller}: mlpLayers must start with an even width (two halves of [p ; q]), got [${this.mlpLayers}]`,
      );
    }
    this.objective = config.loss ?? "logLoss";
    if (this.objective !== "logLoss" && this.objective !== "bpr")
      throw new Error(`${caller}: loss must be "logLoss" or "bpr", got ${JSON.stringify(config.loss)}`);
    this.negativesPerPositive = this.objective === "bpr" ? 1 : 4;
    const initStd = config.initStd ?? 0.01;
    if (!(initStd >= 0 && Number.isFinite(initStd)))
      throw new Error(`${caller}: initStd must be a finite number >= 0, got ${initStd}`);
    if (train.length === 0) throw new Error(`${caller}: the training data '${train.name}' is empty`);

    const { numUsers, numItems } = train;
    const rng = new Rng(config.seed);
    const hasGmf = this.variant !== "mlp";
    const hasMlp = this.variant !== "gmf";
    const half = this.mlpLayers[0] / 2;
    const embedding = (rows: number, width: number) =>
      tf.tidy(() => tf.variable(tf.randomNormal([rows, width], 0, initStd, "float32", rng.tfSeed()) as tf.Tensor2D));
    const gmfUsers = hasGmf ? embedding(numUsers, this.factors) : undefined;
    const gmfItems = hasGmf ? embedding(numItems, this.factors) : undefined;
    const mlpUsers = hasMlp ? embedding(numUsers, half) : undefined;
    const mlpItems = hasMlp ? embedding(numItems, half) : undefined;
    const tower =
      hasMlp && this.mlpLayers.length > 1
        ? new DenseTower({
            inputDim: this.mlpLayers[0],
            units: this.mlpLayers.slice(1),
            activation: "relu",
            seed: rng.tfSeed(),
          })
        : undefined;
    const width = (hasGmf ? this.factors : 0) + (hasMlp ? this.mlpLayers[this.mlpLayers.length - 1] : 0);
    // LeCun-uniform output weights and a zero bias, as the authors' Keras prediction layer.
    const outputInit = tf.initializers.leCunUniform({ seed: rng.tfSeed() });
    const output = tf.tidy(() => tf.variable(outputInit.apply([width, 1]) as tf.Tensor2D));
    const outputBias = tf.tidy(() => tf.variable(tf.zeros([1]) as tf.Tensor1D));
    this.params = { gmfUsers, gmfItems, mlpUsers, mlpItems, tower, output, outputBias };
    if (config.pretrained)
      this.loadPretrained(config.pretrained.gmf, config.pretrained.mlp, config.pretrained.alpha ?? 0.5);
  }

  get numItems(): number {
    return this.train.numItems;
  }

  get numUsers(): number {
    return this.train.numUsers;
  }

  /** The interaction vector φ_ui of each pair: [N, F + L_last] (GMF part first). */
  interactionVectors(users: tf.Tensor1D, items: tf.Tensor1D): tf.Tensor2D {
    const { gmfUsers, gmfItems, mlpUsers, mlpItems, tower } = this.params;
    return tf.tidy(() => {
      const parts: tf.Tensor2D[] = [];
      if (gmfUsers && gmfItems) parts.push(tf.mul(gatherRows(gmfUsers, users), gatherRows(gmfItems, items))); // p ⊙ q: [N, F]
      if (mlpUsers && mlpItems) {
        const z0: tf.Tensor2D = tf.concat([gatherRows(mlpUsers, users), gatherRows(mlpItems, items)], 1); // [p ; q]: [N, L0]
        parts.push(tower ? tower.apply(z0) : z0); // z_L: [N, L_last]
      }
      return parts.length === 1 ? parts[0] : tf.concat(parts, 1);
    });
  }

  /** x̂_ui = hᵀφ_ui + b for each pair (users[k], items[k]): [N]. */
  logits(users: tf.Tensor1D, items: tf.Tensor1D): tf.Tensor1D {
    return tf.tidy(() => {
      const phi = this.interactionVectors(users, items); // [N, F + L_last]
      return tf.add(tf.reshape(tf.matMul(phi, this.params.output), [-1]), this.params.outputBias) as tf.Tensor1D; // [N]
    });
  }

  /** The mean log loss (or BPR loss) of the batch's positives and negatives (see the file header). */
  loss(batch: ImplicitFeedbackBatch): tf.Scalar {
    const n = negativeCount(batch, "NeuralCF.loss");
    if (n === 0) throw new Error("NeuralCF.loss: needs at least one negative per positive");
    const b = batch.users.length;
    const users = new Int32Array(b * (1 + n)); // the positives' users, then each negative's
    const items = new Int32Array(b * (1 + n));
    users.set(batch.users);
    items.set(batch.positives);
    for (let r = 0; r < b; r++) users.fill(batch.users[r], b + r * n, b + (r + 1) * n);
    items.set(batch.negatives, b);
    return tf.tidy(() => {
      const x = this.logits(tf.tensor1d(users, "int32"), tf.tensor1d(items, "int32")); // [B(1+n)]
      const positive = tf.slice(x, 0, b); // [B]
      const negative = tf.reshape(tf.slice(x, b), [b, n]) as tf.Tensor2D; // [B, n]
      return this.objective === "bpr" ? bprLoss(positive, negative) : sampledLogLoss(positive, negative);
    });
  }

  trainableVariables(): tf.Variable[] {
    const { gmfUsers, gmfItems, mlpUsers, mlpItems, tower, output, outputBias } = this.params;
    const out: tf.Variable[] = [];
    for (const v of [gmfUsers, gmfItems, mlpUsers, mlpItems]) if (v) out.push(v);
    if (tower) out.push(...tower.variables());
    out.push(output, outputBias);
    return out;
  }

  /** x̂ of the pairs (users[k], items[k]); agrees with `scoreItems`. */
  scorePairs(users: Int32Array, items: Int32Array): Float32Array {
    if (users.length !== items.length)
      throw new Error(`NeuralCF.scorePairs: ${users.length} users but ${items.length} items`);
    return readAndDispose(tf.tidy(() => this.logits(tf.tensor1d(users, "int32"), tf.tensor1d(items, "int32"))));
  }

  /**
   * x̂ of every item for each user: [users.length × numItems], row-major. GMF's part is one matrix
   * product. The MLP's first layer is linear in [p ; q], W₁ᵀ[p ; q] = W_uᵀp + W_iᵀq, so the item half is
   * computed once per item rather than once per pair; only the layers above it run on every pair.
   */
  scoreItems(users: Int32Array): Float32Array {
    const numItems = this.numItems;
    const out = new Float32Array(users.length * numItems);
    const chunk = this.params.tower ? Math.max(1, Math.floor(SCORING_ROWS / numItems)) : Math.max(1, users.length);
    const itemSide = this.itemSide();
    try {
      for (let start = 0; start < users.length; start += chunk) {
        const part = users.subarray(start, Math.min(start + chunk, users.length));
        out.set(readAndDispose(tf.tidy(() => this.scoreChunk(tf.tensor1d(part, "int32"), itemSide))), start * numItems);
      }
    } finally {
      tf.dispose([itemSide.gmf, itemSide.mlp].filter((t): t is tf.Tensor2D => t !== undefined));
    }
    return out;
  }

  /** Item-side terms of `scoreItems`, shared by every user: h^G ⊙ q^G_i and W_iᵀq^M_i + b₁ (or h_iᵀq^M_i). */
  private itemSide(): { gmf?: tf.Tensor2D; mlp?: tf.Tensor2D } {
    const { gmfItems, mlpItems, tower, output } = this.params;
    return tf.tidy(() => {
      const side: { gmf?: tf.Tensor2D; mlp?: tf.Tensor2D } = {};
      const half = this.mlpLayers[0] / 2;
      const [hG, hM] = this.outputHalves(output);
      if (gmfItems && hG) side.gmf = tf.mul(gmfItems, tf.reshape(hG, [1, -1])) as tf.Tensor2D; // [I, F]
      if (mlpItems) {
        if (tower) {
          const first = tower.layers[0];
          const wItem: tf.Tensor2D = tf.slice(first.kernel, [half, 0], [half, -1]); // [L0/2, L1]
          const c: tf.Tensor2D = tf.matMul(mlpItems, wItem); // [I, L1]
          side.mlp = first.bias ? (tf.add(c, first.bias) as tf.Tensor2D) : c;
        } else {
          side.mlp = tf.matMul(mlpItems, tf.slice(hM!, [half, 0], [half, 1]) as tf.Tensor2D) as tf.Tensor2D; // h_iᵀq_i: [I, 1]
        }
      }
      return side;
    });
  }

  /** x̂ of every item for the users `u`: [b, I]. */
  private scoreChunk(u: tf.Tensor1D, itemSide: { gmf?: tf.Tensor2D; mlp?: tf.Tensor2D }): tf.Tensor2D {
    const { gmfUsers, mlpUsers, tower, output, outputBias } = this.params;
    const numItems = this.numItems;
    const b = u.shape[0];
    const [, hM] = this.outputHalves(output);
    let x: tf.Tensor2D = tf.add(tf.zeros([b, numItems]), outputBias); // [b, I]
    if (gmfUsers && itemSide.gmf) x = tf.add(x, tf.matMul(gatherRows(gmfUsers, u), itemSide.gmf, false, true)); // Σ_f h_f p_uf q_if
    if (mlpUsers && itemSide.mlp) {
      const half = this.mlpLayers[0] / 2;
      const p = gatherRows(mlpUsers, u); // [b, L0/2]
      if (tower) {
        const first = tower.layers[0];
        const a = tf.matMul(p, tf.slice(first.kernel, [0, 0], [half, -1])); // W_uᵀp: [b, L1]
        const width = first.kernel.shape[1];
        const pre = tf.add(tf.expandDims(a, 1), tf.expandDims(itemSide.mlp, 0)); // [b, I, L1]
        const z1 = tf.relu(tf.reshape(pre, [b * numItems, width])) as tf.Tensor2D; // [bI, L1]
        const zL = tower.apply(z1, 1); // [bI, L_last]
        x = tf.add(x, tf.reshape(tf.matMul(zL, hM!), [b, numItems]));
      } else {
        const userPart = tf.matMul(p, tf.slice(hM!, [0, 0], [half, 1])); // [b, 1]
        x = tf.add(x, tf.add(userPart, tf.transpose(itemSide.mlp))); // [b, I]
      }
    }
    return x;
  }

  /** h split into its GMF rows and its MLP rows (either absent when the variant lacks that branch). */
  private outputHalves(output: tf.Tensor2D): [tf.Tensor2D | undefined, tf.Tensor2D | undefined] {
    const hasGmf = this.params.gmfUsers !== undefined;
    const hasMlp = this.params.mlpUsers !== undefined;
    if (hasGmf && hasMlp)
      return tf.split(output, [this.factors, output.shape[0] - this.factors], 0) as [tf.Tensor2D, tf.Tensor2D];
    return hasGmf ? [output, undefined] : [undefined, output];
  }

  /** NeuMF from a trained GMF and MLP (see the file header). */
  private loadPretrained(gmf: NeuralCF, mlp: NeuralCF, alpha: number): void {
    const caller = "NeuralCF (pretrained)";
    if (this.variant !== "neumf") throw new Error(`${caller}: only a NeuMF model starts from a pretrained GMF and MLP`);
    if (gmf.variant !== "gmf" || mlp.variant !== "mlp") {
      throw new Error(`${caller}: expected a GMF and an MLP model, got ${gmf.variant} and ${mlp.variant}`);
    }
    if (gmf.factors !== this.factors)
      throw new Error(`${caller}: the GMF has ${gmf.factors} factors, this model ${this.factors}`);
    if (JSON.stringify(mlp.mlpLayers) !== JSON.stringify(this.mlpLayers)) {
      throw new Error(`${caller}: the MLP has layers [${mlp.mlpLayers}], this model [${this.mlpLayers}]`);
    }
    for (const other of [gmf, mlp]) {
      if (other.train.numUsers !== this.train.numUsers || other.train.numItems !== this.train.numItems) {
        throw new Error(
          `${caller}: the pretrained model has ${other.train.numUsers} users and ${other.train.numItems} items, this one ${this.train.numUsers} and ${this.train.numItems}`,
        );
      }
    }
    if (!(alpha >= 0 && alpha <= 1)) throw new Error(`${caller}: alpha must be in [0, 1], got ${alpha}`);
    const p = this.params;
    p.gmfUsers!.assign(gmf.params.gmfUsers!);
    p.gmfItems!.assign(gmf.params.gmfItems!);
    p.mlpUsers!.assign(mlp.params.mlpUsers!);
    p.mlpItems!.assign(mlp.params.mlpItems!);
    if (p.tower && mlp.params.tower) p.tower.copyFrom(mlp.params.tower);
    tf.tidy(() => {
      p.output.assign(
        tf.concat([tf.mul(gmf.params.output, alpha), tf.mul(mlp.params.output, 1 - alpha)], 0) as tf.Tensor2D,
      );
      p.outputBias.assign(tf.add(tf.mul(gmf.params.outputBias, alpha), tf.mul(mlp.params.outputBias, 1 - alpha)));
    });
  }

  /** The weights under stable names ("tower/0/kernel"...), for `save` and checkpoints. */
  namedWeights(): NamedWeight[] {
    const { gmfUsers, gmfItems, mlpUsers, mlpItems, tower, output, outputBias } = this.params;
    const named: NamedWeight[] = [];
    for (const [name, variable] of Object.entries({ gmfUsers, gmfItems, mlpUsers, mlpItems }))
      if (variable) named.push({ name, variable });
    if (tower) named.push(...denseTowerWeights("tower", tower));
    named.push({ name: "output", variable: output }, { name: "outputBias", variable: outputBias });
    return named;
  }

  /** Saves the model and a record of its training data to the folder `path` (see train/savedModel.ts). */
  save(path: string): Promise<void> {
    const config = {
      variant: this.variant,
      factors: this.factors,
      mlpLayers: [...this.mlpLayers],
      loss: this.objective,
    };
    return NCF_FORMAT.save(path, config, this.namedWeights(), this.train);
  }

  /** A model saved by `save`, on the training data it was saved with (checked). */
  static load(path: string, train: Interactions): Promise<NeuralCF> {
    return NCF_FORMAT.load(path, train);
  }

  /** A saved model from its checkpoint JSON and weights bytes (e.g. fetched in a browser). */
  static fromArtifacts(json: unknown, weights: ArrayBuffer | Uint8Array, train: Interactions): Promise<NeuralCF> {
    return NCF_FORMAT.fromArtifacts(json, weights, train);
  }

  dispose(): void {
    tf.dispose(this.trainableVariables());
  }
}

const NCF_FORMAT = tfModelFormat(
  "NeuralCF",
  (config, train: Interactions) => new NeuralCF(train, { ...config, seed: 0 }),
  (train) => train,
);
