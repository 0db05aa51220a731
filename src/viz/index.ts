// Figures: Plotly figure builders, tables, architecture diagrams and rich display in notebooks.

export * from "./display";
export * from "./plotly";
export * from "./charts";
export * from "./projection";
export * from "./liveCurves";
export * from "./tables";
export * from "./diagrams";
export * from "./architectures";
