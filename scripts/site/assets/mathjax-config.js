// MathJax 3 settings for the site, read by assets/mathjax/tex-svg-full.js (loaded after this file).
// TeX is written as Jupyter's markdown writes it, $…$ inline and $$…$$ displayed. SVG output needs no font
// files, and the "full" build holds every TeX extension, so MathJax loads nothing more: the site works offline
// and from file://. The context menu is off: its accessibility explorer fetches speech rules, which a page opened
// from file:// cannot; screen readers still get MathML (the build's assistive-mml).
window.MathJax = {
  tex: {
    inlineMath: [
      ["$", "$"],
      ["\\(", "\\)"],
    ],
    displayMath: [
      ["$$", "$$"],
      ["\\[", "\\]"],
    ],
    processEscapes: true,
  },
  svg: { fontCache: "global" },
  options: { enableMenu: false },
};
