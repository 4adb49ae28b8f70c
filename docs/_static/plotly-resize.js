// Figures are drawn while the page is still being laid out, at whatever width their column had
// then; once the theme has placed the sidebars, fit every figure to its column.
window.addEventListener("load", function () {
  if (!window.Plotly) return;
  document.querySelectorAll(".js-plotly-plot").forEach(function (el) { window.Plotly.Plots.resize(el); });
});
