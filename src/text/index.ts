// Text: tokenizers (plain, BERT's normaliser, WordPiece and its training) and term weighting.

export * from "./tokenize";
export * from "./termWeighting";
export {
  basicTokenize,
  normalizeBertText,
  isBertPunctuation,
  isBertChineseChar,
  type BertNormalizerOptions,
} from "./bertNormalizer";
export {
  WordPieceTokenizer,
  BERT_SPECIAL_TOKENS,
  CONTINUATION_PREFIX,
  type WordPieceOptions,
  type EncodeOptions,
  type Encoding,
  type DecodeOptions,
} from "./wordpiece";
export {
  trainWordPiece,
  type WordPieceTrainingConfig,
  type WordPieceTraining,
  type WordPieceMerge,
} from "./wordpieceTraining";
