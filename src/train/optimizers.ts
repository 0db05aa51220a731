// The optimizer step of Transformer training: AdamW (Adam with decoupled weight decay, the optimizer BERT
// was pretrained with) and gradient clipping by global norm. AdamW is a tf.Optimizer, so `fit` (and
// anything else that calls `minimize` or `applyGradients`) uses it like tfjs's own optimizers, and its
// state round-trips through getWeights/setWeights for checkpoints.

import * as tf from "@tensorflow/tfjs";
import { ADAMW, hasFusedKernel, sumOfSquares, type AdamWUpdate } from "../backend/kernels/index";
import { checkNonNegative, checkPositive, checkRate } from "../checks";

/** What `applyGradients` receives: gradients by variable name, or a list of named gradients. */
export type VariableGradients = Parameters<tf.Optimizer["applyGradients"]>[0];
type NamedTensor = Exclude<VariableGradients, tf.NamedTensorMap>[number];

/** A learning rate, or a schedule: the rate for `step`, the number of updates applied before it (0 first). */
export type LearningRate = number | ((step: number) => number);

export interface AdamWConfig {
  learningRate: LearningRate;
  /** Decay of the first-moment average. Default 0.9. */
  beta1?: number;
  /** Decay of the second-moment average. Default 0.999. */
  beta2?: number;
  /** Added to √v̂; BERT's 1e-6 by default (PyTorch's default is 1e-8). */
  epsilon?: number;
  /** λ in θ ← θ·(1 − lr·λ): decoupled from the gradient, unlike L2 in the loss. Default 0.01 (BERT). */
  weightDecay?: number;
  /**
   * Whether to decay a variable, asked once per variable (by its tf.Variable name). By default
   * `decayMatricesOnly`: matrices and embeddings decay, biases and layer-norm gains do not.
   */
  decay?: (name: string, variable: tf.Variable) => boolean;
}

/**
 * nanoGPT's rule: decay every variable of rank ≥ 2 (matmul kernels, embedding tables), never a rank-1 one
 * (biases, layer-norm gamma and beta). Shrinking a bias or a gain towards 0 is not regularisation: it
 * shifts or silences a unit, whatever the data say.
 */
export function decayMatricesOnly(_name: string, variable: tf.Variable): boolean {
  return variable.rank >= 2;
}

interface Slots {
  m: tf.Variable;
  v: tf.Variable;
  /** Decided by the decay rule on the variable's first update (the variable may not exist when slots are loaded). */
  decays?: boolean;
}

/**
 * Adam with decoupled weight decay (Loshchilov & Hutter, "Decoupled Weight Decay Regularization", 2019),
 * as torch.optim.AdamW computes it, bias correction included:
 *
 *   m ← β₁m + (1 − β₁)g,  v ← β₂v + (1 − β₂)g²,  m̂ = m/(1 − β₁ᵗ),  v̂ = v/(1 − β₂ᵗ)
 *   θ ← θ·(1 − lr·λ) − lr·m̂/(√v̂ + ε)
 *
 * With weightDecay 0 it is Adam. The learning rate may be a schedule of the step (see schedules.ts).
 * Moments are kept per variable name, so a variable that gets no gradient in some step keeps its own.
 */
export class AdamW extends tf.Optimizer {
  /** The name tfjs's serialization registry knows this class by. */
  static get className(): string {
    return "AdamW";
  }

  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly weightDecay: number;
  private readonly learningRate: LearningRate;
  private readonly decay: (name: string, variable: tf.Variable) => boolean;
  private slots = new Map<string, Slots>();
  private lastRate: number | undefined = undefined;

  constructor(config: AdamWConfig) {
    super();
    if (config === null || typeof config !== "object")
      throw new Error(`AdamW: expected a config object, got ${JSON.stringify(config)}`);
    const { learningRate } = config;
    // A constant rate of 0 or less trains nothing or climbs the loss; a schedule may give 0 at some steps (warm-up).
    if (typeof learningRate === "number") checkPositive("AdamW", "learningRate", learningRate);
    else if (typeof learningRate !== "function") {
      throw new Error(
        `AdamW: learningRate must be a number > 0 or a function of the step, got ${JSON.stringify(learningRate)}`,
      );
    }
    this.learningRate = learningRate;
    this.beta1 = checkRate("AdamW", "beta1", config.beta1 ?? 0.9);
    this.beta2 = checkRate("AdamW", "beta2", config.beta2 ?? 0.999);
    this.epsilon = config.epsilon ?? 1e-6;
    if (!(Number.isFinite(this.epsilon) && this.epsilon > 0)) {
      throw new Error(`AdamW: epsilon must be a finite number > 0, got ${JSON.stringify(config.epsilon)}`);
    }
    this.weightDecay = checkNonNegative("AdamW", "weightDecay", config.weightDecay ?? 0.01);
    if (config.decay !== undefined && typeof config.decay !== "function") {
      throw new Error("AdamW: decay must be a function (name, variable) => boolean");
    }
    this.decay = config.decay ?? decayMatricesOnly;
  }

  /** The learning rate the last update used; undefined before the first. */
  get lastLearningRate(): number | undefined {
    return this.lastRate;
  }

  /** The learning rate for update number `step` (0 for the first). */
  learningRateAt(step: number): number {
    const rate = typeof this.learningRate === "number" ? this.learningRate : this.learningRate(step);
    if (typeof rate !== "number" || !Number.isFinite(rate) || rate < 0) {
      throw new Error(
        `AdamW: the learning-rate schedule gave ${rate} at step ${step}; it must give a finite number >= 0`,
      );
    }
    return rate;
  }

  override applyGradients(variableGradients: VariableGradients): void {
    const pairs: [string, tf.Tensor | undefined][] = Array.isArray(variableGradients)
      ? variableGradients.map((g: NamedTensor) => [g.name, g.tensor])
      : Object.entries(variableGradients);
    const step = this.iterations;
    const rate = this.learningRateAt(step);
    const t = step + 1;
    // Bias corrections in float64 from t, rather than tfjs Adam's running float32 products of β.
    const stepSize = rate / (1 - this.beta1 ** t);
    const sqrtCorrection2 = Math.sqrt(1 - this.beta2 ** t);
    const registered = tf.engine().registeredVariables;
    for (const [name] of pairs) {
      if (registered[name] === undefined) throw new Error(`AdamW.applyGradients: no variable is named '${name}'`);
    }
    tf.tidy(() => {
      for (const [name, gradient] of pairs) {
        // Like tfjs's optimizers: a variable the loss does not reach has no gradient and is left alone.
        if (gradient == null) continue;
        const variable = registered[name];
        const slots = this.slotsOf(name, variable);
        if (slots.decays === undefined) slots.decays = Boolean(this.decay(name, variable));
        const decay = slots.decays && this.weightDecay > 0 ? 1 - rate * this.weightDecay : 1;
        if (hasFusedKernel(ADAMW, variable)) {
          // The same update in one kernel (backend/kernels/adamw.ts), bit for bit.
          const update: AdamWUpdate = {
            beta1: this.beta1,
            beta2: this.beta2,
            epsilon: this.epsilon,
            sqrtCorrection2,
            stepSize,
            decay,
          };
          const inputs = { theta: variable, m: slots.m, v: slots.v, g: gradient };
          const [theta, m, v] = tf
            .engine()
            .runKernel(ADAMW, inputs, update as unknown as tf.NamedAttrMap) as tf.Tensor[];
          slots.m.assign(m);
          slots.v.assign(v);
          variable.assign(theta);
          continue;
        }
        const m = tf.add(tf.mul(slots.m, this.beta1), tf.mul(gradient, 1 - this.beta1));
        const v = tf.add(tf.mul(slots.v, this.beta2), tf.mul(tf.square(gradient), 1 - this.beta2));
        slots.m.assign(m);
        slots.v.assign(v);
        // PyTorch's arrangement: denominator √v/√(1 − β₂ᵗ) + ε, step size lr/(1 − β₁ᵗ).
        const denominator = tf.add(tf.div(tf.sqrt(v), sqrtCorrection2), this.epsilon);
        const decayed = decay !== 1 ? tf.mul(variable, decay) : variable;
        variable.assign(tf.sub(decayed, tf.mul(tf.div(m, denominator), stepSize)));
      }
    });
    this.lastRate = rate;
    this.incrementIterations();
  }

  private slotsOf(name: string, variable: tf.Variable): Slots {
    let slots = this.slots.get(name);
    if (slots === undefined) {
      slots = tf.tidy(() => ({
        m: tf.variable(tf.zerosLike(variable), false),
        v: tf.variable(tf.zerosLike(variable), false),
      }));
      this.slots.set(name, slots);
    }
    return slots;
  }

  override dispose(): void {
    this.disposeSlots();
    super.dispose();
  }

  private disposeSlots(): void {
    for (const { m, v } of this.slots.values()) tf.dispose([m, v]);
    this.slots.clear();
  }

  /**
   * The step count (a new int32 scalar named "iter", which the caller disposes), then the optimizer's own
   * moment variables named `${variable.name}/m` and `${variable.name}/v` (not to be disposed), as tfjs's Adam.
   */
  override async getWeights(): Promise<NamedTensor[]> {
    const entries = [...this.slots.entries()];
    return [
      await this.saveIterations(),
      ...entries.map(([name, slots]) => ({ name: `${name}/m`, tensor: slots.m })),
      ...entries.map(([name, slots]) => ({ name: `${name}/v`, tensor: slots.v })),
    ];
  }

  /**
   * Replaces the whole state with what `getWeights` gave (any order after "iter"). Checks every entry first;
   * copies the values, so the caller keeps and disposes its tensors.
   */
  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    if (!Array.isArray(weightValues) || weightValues.length === 0 || weightValues[0].name !== "iter") {
      throw new Error("AdamW.setWeights: the first weight must be the step count 'iter' (as getWeights gives it)");
    }
    const iter = weightValues[0].tensor;
    if (iter.size !== 1) throw new Error(`AdamW.setWeights: 'iter' must be a scalar, got shape [${iter.shape}]`);
    const steps = (await iter.data())[0];
    if (!Number.isInteger(steps) || steps < 0)
      throw new Error(`AdamW.setWeights: 'iter' must be a count >= 0, got ${steps}`);
    const moments = new Map<string, { m?: tf.Tensor; v?: tf.Tensor }>();
    for (const { name, tensor } of weightValues.slice(1)) {
      const match = /^(.*)\/([mv])$/.exec(name);
      if (match === null) throw new Error(`AdamW.setWeights: '${name}' is not a moment (names end in /m or /v)`);
      const [, variableName, which] = match;
      const entry = moments.get(variableName) ?? {};
      if (entry[which as "m" | "v"] !== undefined) throw new Error(`AdamW.setWeights: '${name}' is given twice`);
      if (tensor.dtype !== "float32")
        throw new Error(`AdamW.setWeights: '${name}' must be float32, got ${tensor.dtype}`);
      const variable = tf.engine().registeredVariables[variableName];
      if (variable !== undefined && !tf.util.arraysEqual(variable.shape, tensor.shape)) {
        throw new Error(`AdamW.setWeights: '${name}' has shape [${tensor.shape}], its variable [${variable.shape}]`);
      }
      entry[which as "m" | "v"] = tensor;
      moments.set(variableName, entry);
    }
    for (const [variableName, { m, v }] of moments) {
      if (m === undefined || v === undefined) {
        throw new Error(`AdamW.setWeights: '${variableName}' needs both '${variableName}/m' and '${variableName}/v'`);
      }
      if (!tf.util.arraysEqual(m.shape, v.shape)) {
        throw new Error(
          `AdamW.setWeights: '${variableName}/m' has shape [${m.shape}] but '${variableName}/v' has [${v.shape}]`,
        );
      }
    }
    // Everything checked: copy the new state, then drop the old (which may be what was passed in).
    const slots = new Map<string, Slots>();
    for (const [variableName, { m, v }] of moments) {
      slots.set(
        variableName,
        tf.tidy(() => ({ m: tf.variable(tf.clone(m!), false), v: tf.variable(tf.clone(v!), false) })),
      );
    }
    this.disposeSlots();
    this.slots = slots;
    this.iterations_ = steps;
    this.lastRate = undefined;
  }

  /** The numeric settings; a learning-rate schedule and a decay rule are functions and are not included. */
  override getConfig(): tf.serialization.ConfigDict {
    return {
      learningRate: typeof this.learningRate === "number" ? this.learningRate : null,
      beta1: this.beta1,
      beta2: this.beta2,
      epsilon: this.epsilon,
      weightDecay: this.weightDecay,
    };
  }
}

// So that tfjs can name and rebuild it like its own optimizers (the default fromConfig calls `new AdamW(config)`).
tf.serialization.registerClass(AdamW);

/** `new AdamW(config)`, in the style of tf.train.adam. */
export function adamw(config: AdamWConfig): AdamW {
  return new AdamW(config);
}

/** Clipped gradients (new tensors, which the caller disposes) and the global norm before clipping. */
export interface ClippedGradients {
  grads: tf.NamedTensorMap;
  norm: number;
}

/**
 * Scales every gradient by maxNorm / max(‖g‖, maxNorm), where ‖g‖ is the norm of all gradients
 * together, as tf.clip_by_global_norm and torch.nn.utils.clip_grad_norm_ do: the update keeps its
 * direction and its length is capped, so one bad batch cannot throw a Transformer far off. The input
 * gradients are left as they are. A non-finite norm is returned as is (the gradients are then unusable).
 */
export function clipByGlobalNorm(grads: tf.NamedTensorMap, maxNorm: number): ClippedGradients {
  if (typeof maxNorm !== "number" || !Number.isFinite(maxNorm) || maxNorm <= 0) {
    throw new Error(`clipByGlobalNorm: maxNorm must be a finite number > 0, got ${JSON.stringify(maxNorm)}`);
  }
  const names = Object.keys(grads);
  const norm = Math.sqrt(sumOfSquares(names.map((name) => grads[name])));
  const scale = maxNorm / Math.max(norm, maxNorm);
  const clipped: tf.NamedTensorMap = {};
  for (const name of names)
    clipped[name] = scale === 1 ? tf.clone(grads[name]) : tf.tidy(() => tf.mul(grads[name], scale));
  return { grads: clipped, norm };
}
