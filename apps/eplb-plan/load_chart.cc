#include "load_chart.h"

#include <algorithm>
#include <cstdio>
#include <numeric>

#include "dualpipe/render/svg_document.h"

namespace dualpipe::apps {

std::string gpu_load_chart(const std::vector<double>& before, const std::vector<double>& after,
                           const std::string& before_name) {
  const double margin = 50.0, plot_height = 300.0;
  const double bar =
      std::max(2.0, std::min(12.0, 900.0 / (2.0 * static_cast<double>(after.size()))));
  const double width = margin * 2 + bar * 2.5 * static_cast<double>(after.size());
  const double top = std::max(*std::max_element(before.begin(), before.end()),
                              *std::max_element(after.begin(), after.end()));
  const double scale = top > 0.0 ? plot_height / top : 0.0;
  render::SvgDocument svg(std::max(width, 420.0), plot_height + 2 * margin + 20);
  const double base = margin + plot_height;
  svg.text(margin, 25, "GPU load summed over layers: " + before_name + " (grey) vs plan (blue)",
           13);
  for (std::size_t g = 0; g < after.size(); ++g) {
    const double x = margin + bar * 2.5 * static_cast<double>(g);
    char tip[160];
    std::snprintf(tip, sizeof tip, "GPU %zu: before %.4g, after %.4g", g, before[g], after[g]);
    svg.rect(x, base - before[g] * scale, bar, before[g] * scale, "#bbbbbb", "none", tip);
    svg.rect(x + bar, base - after[g] * scale, bar, after[g] * scale, "#3b6fd4", "none", tip);
  }
  const double mean =
      std::accumulate(after.begin(), after.end(), 0.0) / static_cast<double>(after.size());
  svg.line(margin, base - mean * scale, margin + bar * 2.5 * static_cast<double>(after.size()),
           base - mean * scale, "#d62728", 1.5);
  char label[64];
  std::snprintf(label, sizeof label, "mean %.4g", mean);
  svg.text(margin + 4, base - mean * scale - 4, label, 11, "start", "#d62728");
  svg.line(margin, base, margin + bar * 2.5 * static_cast<double>(after.size()), base, "#000");
  svg.text(margin, base + 18, "GPU 0", 11);
  svg.text(margin + bar * 2.5 * static_cast<double>(after.size()), base + 18,
           "GPU " + std::to_string(after.size() - 1), 11, "end");
  return svg.str();
}

}  // namespace dualpipe::apps
