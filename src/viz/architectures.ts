// The course's architecture diagrams as plain descriptions for `showDiagram`: biased matrix factorisation
// (notebook 02), NeuMF and the two-tower model (notebook 04) and the post-norm Transformer encoder block
// (notebook 05). Labels use the notebooks' notation (p_u for users, q_i for items).

import type { Diagram } from "./diagrams";

/** Biased MF: r̂_ui = μ + b_u + b_i + q_iᵀp_u, trained on the squared error with an L2 penalty. */
export const MATRIX_FACTORIZATION_DIAGRAM: Diagram = {
  title: 'Matrix factorisation (biased MF, the Netflix Prize\'s "SVD")',
  nodes: [
    { id: "user", label: "user u", row: 0, column: 0, kind: "input" },
    { id: "item", label: "item i", row: 0, column: 3, kind: "input" },
    { id: "pu", label: "p_u = row u of P\n(D numbers)", row: 1, column: 0, kind: "parameter" },
    { id: "bu", label: "user bias b_u", row: 1, column: 1, kind: "parameter" },
    { id: "bi", label: "item bias b_i", row: 1, column: 2, kind: "parameter" },
    { id: "qi", label: "q_i = row i of Q\n(D numbers)", row: 1, column: 3, kind: "parameter" },
    { id: "dot", label: "dot product q_iᵀp_u", row: 2, column: 0 },
    { id: "mu", label: "global mean μ", row: 2, column: 3, kind: "parameter" },
    { id: "sum", label: "r̂_ui = μ + b_u + b_i + q_iᵀp_u", row: 3, column: 1, span: 2, kind: "output" },
    { id: "loss", label: "(r_ui − r̂_ui)² + λ(b_u² + b_i² + ‖p_u‖² + ‖q_i‖²)", row: 4, column: 0.5, span: 3 },
  ],
  edges: [
    { from: "user", to: "pu", label: "look up" },
    { from: "user", to: "bu" },
    { from: "item", to: "bi" },
    { from: "item", to: "qi", label: "look up" },
    { from: "pu", to: "dot" },
    { from: "qi", to: "dot" },
    { from: "bu", to: "sum" },
    { from: "bi", to: "sum" },
    { from: "dot", to: "sum" },
    { from: "mu", to: "sum" },
    { from: "sum", to: "loss", label: "SGD or ALS" },
  ],
};

/** NeuMF (He et al. 2017): GMF and an MLP on separate embeddings, joined before the output layer. */
export const NEUMF_DIAGRAM: Diagram = {
  title: "NeuMF: GMF and MLP on separate embeddings",
  nodes: [
    { id: "user", label: "user u", row: 0, column: 0.5, kind: "input" },
    { id: "item", label: "item i", row: 0, column: 2.5, kind: "input" },
    { id: "puG", label: "GMF embedding p^G_u", row: 1, column: 0, kind: "parameter" },
    { id: "qiG", label: "GMF embedding q^G_i", row: 1, column: 1, kind: "parameter" },
    { id: "puM", label: "MLP embedding p^M_u", row: 1, column: 2, kind: "parameter" },
    { id: "qiM", label: "MLP embedding q^M_i", row: 1, column: 3, kind: "parameter" },
    { id: "gmf", label: "GMF: p^G_u ⊙ q^G_i\n(elementwise product)", row: 2, column: 0, span: 2 },
    { id: "concat", label: "concatenate z₀ = [p^M_u; q^M_i]", row: 2, column: 2, span: 2 },
    { id: "mlp", label: "MLP: z_ℓ = ReLU(W_ℓᵀ z_ℓ₋₁ + b_ℓ)\n(e.g. 64 → 32 → 16 → 8)", row: 3, column: 2, span: 2 },
    { id: "join", label: "concatenate [GMF; z_L]", row: 4, column: 1, span: 2 },
    { id: "out", label: "ŷ_ui = σ(hᵀ[GMF; z_L] + b)", row: 5, column: 1, span: 2, kind: "output" },
  ],
  edges: [
    { from: "user", to: "puG" },
    { from: "user", to: "puM" },
    { from: "item", to: "qiG" },
    { from: "item", to: "qiM" },
    { from: "puG", to: "gmf" },
    { from: "qiG", to: "gmf" },
    { from: "puM", to: "concat" },
    { from: "qiM", to: "concat" },
    { from: "concat", to: "mlp" },
    { from: "gmf", to: "join" },
    { from: "mlp", to: "join" },
    { from: "join", to: "out" },
  ],
};

/** The two-tower retrieval model: user and item meet only in the scaled dot product of unit vectors. */
export const TWO_TOWER_DIAGRAM: Diagram = {
  title: "Two-tower retrieval: the sides meet only in the dot product",
  nodes: [
    { id: "userIn", label: "user id", row: 0, column: 0, kind: "input" },
    { id: "itemIn", label: "item id, its genres", row: 0, column: 2, kind: "input" },
    { id: "userEmb", label: "user embedding x_u", row: 1, column: 0, kind: "parameter" },
    { id: "itemEmb", label: "x_i = [item embedding;\nmean genre embedding]", row: 1, column: 2, kind: "parameter" },
    { id: "userTower", label: "user tower f_U\n(MLP: 64 ReLU → 32)", row: 2, column: 0 },
    { id: "itemTower", label: "item tower f_I\n(MLP: 64 ReLU → 32)", row: 2, column: 2 },
    { id: "u", label: "u = f_U(x_u) / ‖f_U(x_u)‖", row: 3, column: 0 },
    { id: "v", label: "v_i = f_I(x_i) / ‖f_I(x_i)‖", row: 3, column: 2 },
    { id: "index", label: "all v_i computed once:\nnearest-neighbour index", row: 3, column: 3, kind: "output" },
    { id: "score", label: "s(u, i) = uᵀv_i / τ", row: 4, column: 1, kind: "output" },
    { id: "loss", label: "in-batch softmax over s − ln Q_j\n(log-Q correction)", row: 5, column: 0.5, span: 2 },
  ],
  edges: [
    { from: "userIn", to: "userEmb" },
    { from: "itemIn", to: "itemEmb" },
    { from: "userEmb", to: "userTower" },
    { from: "itemEmb", to: "itemTower" },
    { from: "userTower", to: "u" },
    { from: "itemTower", to: "v" },
    { from: "v", to: "index" },
    { from: "u", to: "score" },
    { from: "v", to: "score" },
    { from: "score", to: "loss", label: "training" },
  ],
};

/** The post-norm (Vaswani, BERT) Transformer encoder block, with its two residual connections. */
export const ENCODER_BLOCK_DIAGRAM: Diagram = {
  title: "Transformer encoder block (post-norm, as in BERT)",
  nodes: [
    { id: "x", label: "x: [T, d] (item or token embeddings + positions)", row: 0, column: 0, span: 2, kind: "input" },
    {
      id: "attention",
      label: "multi-head self-attention\nQ = xW^Q, K = xW^K, V = xW^V, h heads, optional mask",
      row: 1,
      column: 0,
      span: 2,
    },
    { id: "norm1", label: "add & layer norm: LN(x + MultiHead(x))", row: 2, column: 0, span: 2 },
    {
      id: "ffn",
      label: "feed-forward at each position\nGELU(xW₁ + b₁)W₂ + b₂  (d → 4d → d)",
      row: 3,
      column: 0,
      span: 2,
    },
    { id: "norm2", label: "add & layer norm: LN(x + FFN(x))", row: 4, column: 0, span: 2 },
    { id: "out", label: "output: [T, d], to the next block", row: 5, column: 0, span: 2, kind: "output" },
  ],
  edges: [
    { from: "x", to: "attention" },
    { from: "x", to: "norm1", route: "side", label: "residual" },
    { from: "attention", to: "norm1" },
    { from: "norm1", to: "ffn" },
    { from: "norm1", to: "norm2", route: "side", label: "residual" },
    { from: "ffn", to: "norm2" },
    { from: "norm2", to: "out" },
  ],
};
