// The public API of recsys-ts: what notebooks, scripts and users import.
// Notebooks import it as "./src/index" (notebooks/src links to this folder). Each folder's index.ts lists
// what that layer exports.

export * from "./backend/index";
export * from "./data/index";
export * from "./eval/index";
export * from "./text/index";
export * from "./nn/index";
export * from "./train/index";
export * from "./models/index";
export * from "./viz/index";
export * from "./explain/index";
export * from "./privacy/index";
export * from "./exercises/index";
