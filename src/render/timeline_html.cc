#include "dualpipe/render/timeline_html.h"

#include <iterator>
#include <map>
#include <sstream>
#include <vector>

#include "dualpipe/trace/json_text.h"

namespace dualpipe::render {
namespace {

using trace::json_number;
using trace::json_quote;

// Every bar kind, in enum order (bars name their kind by its position here).
constexpr BarKind kAllKinds[] = {
    BarKind::kCompute,        BarKind::kCommunication, BarKind::kMemory,     BarKind::kPhase,
    BarKind::kPipelineAction, BarKind::kAnnotation,    BarKind::kHiddenComm, BarKind::kExposedComm,
    BarKind::kTransfer,       BarKind::kWait,          BarKind::kHostGap,    BarKind::kOtherTime,
    BarKind::kCriticalPath};

const char* lane_kind_name(LaneKind kind) {
  switch (kind) {
    case LaneKind::kPhases: return "phases";
    case LaneKind::kPipelineActions: return "pipeline";
    case LaneKind::kAnnotations: return "annotations";
    case LaneKind::kStream: return "stream";
    case LaneKind::kOverlap: return "overlap";
    case LaneKind::kAttribution: return "attribution";
    case LaneKind::kCriticalPath: return "critical path";
  }
  return "other";
}

// "</" must not appear inside the page's <script> element.
std::string script_safe(std::string text) {
  std::size_t pos = 0;
  while ((pos = text.find("</", pos)) != std::string::npos) {
    text.replace(pos, 2, "<\\/");
    pos += 3;
  }
  return text;
}

constexpr const char* kPageHead = R"HTML(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>trace-view timeline</title>
<style>
body{font:13px sans-serif;margin:12px;color:#222}
#help{color:#555;margin:4px 0 8px}
#wrap{position:relative}
canvas{display:block;border:1px solid #ddd;cursor:crosshair}
#tip{position:absolute;pointer-events:none;background:#fffff0;border:1px solid #999;padding:4px 6px;
font-size:12px;display:none;white-space:pre;box-shadow:1px 1px 3px #aaa;max-width:700px;overflow:hidden}
.legend span{display:inline-block;margin-right:14px}
.legend i{display:inline-block;width:11px;height:11px;margin-right:4px;vertical-align:-1px}
</style></head><body>
<div id="captions"></div>
<div id="help">Wheel: zoom around the pointer · drag: pan · double-click: whole trace · hover: details</div>
<div id="wrap"><canvas id="view"></canvas><div id="tip"></div></div>
<div class="legend" id="legend"></div>
<script>
const DATA = )HTML";

constexpr const char* kPageScript = R"JS(;
(function () {
  const LABEL_W = 190, LANE_H = 18, GAP = 4, RANK_GAP = 10, AXIS_H = 24;
  const canvas = document.getElementById('view'), ctx = canvas.getContext('2d');
  const tip = document.getElementById('tip');
  let view = {start: DATA.start_ms, end: DATA.end_ms};
  const tops = []; let y = AXIS_H;
  DATA.lanes.forEach((lane, i) => {
    if (i > 0 && lane.rank !== DATA.lanes[i - 1].rank) y += RANK_GAP;
    tops.push(y); y += LANE_H + GAP;
  });
  const height = y + 4;
  document.getElementById('captions').innerHTML = DATA.captions.map(c =>
    '<b>rank ' + c.rank + '</b> (' + esc(c.source) + '): communication ' + c.comm_ms.toFixed(2) +
    ' ms, ' + c.overlap_pct.toFixed(1) + '% under compute, exposed ' + c.exposed_comm_ms.toFixed(2) +
    ' ms').join('<br>');
  document.getElementById('legend').innerHTML = DATA.legend.map(e =>
    '<span><i style="background:' + e[1] + '"></i>' + esc(e[0]) + '</span>').join('');
  function esc(s) { return String(s).replace(/[&<>"]/g, c => ({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;'}[c])); }
  function width() { return canvas.width / devicePixelRatio - LABEL_W - 10; }
  function xOf(t) { return LABEL_W + (t - view.start) / (view.end - view.start) * width(); }
  function tOf(x) { return view.start + (x - LABEL_W) / width() * (view.end - view.start); }
  function resize() {
    const w = Math.max(600, document.getElementById('wrap').clientWidth - 2);
    canvas.width = w * devicePixelRatio; canvas.height = height * devicePixelRatio;
    canvas.style.width = w + 'px'; canvas.style.height = height + 'px';
    draw();
  }
  function step(span) {
    const raw = span / 10, p = Math.pow(10, Math.floor(Math.log10(raw)));
    for (const f of [1, 2, 5]) if (raw <= f * p) return f * p;
    return 10 * p;
  }
  function draw() {
    ctx.setTransform(devicePixelRatio, 0, 0, devicePixelRatio, 0, 0);
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    ctx.font = '11px sans-serif';
    const s = step(view.end - view.start), decimals = Math.max(0, -Math.floor(Math.log10(s)));
    ctx.fillStyle = '#555'; ctx.textAlign = 'center';
    for (let t = Math.ceil(view.start / s) * s; t <= view.end; t += s) {
      const x = xOf(t);
      ctx.fillStyle = '#e3e3e3'; ctx.fillRect(x, AXIS_H - 4, 1, height);
      ctx.fillStyle = '#555'; ctx.fillText(t.toFixed(decimals), x, AXIS_H - 8);
    }
    ctx.textAlign = 'right'; ctx.fillText('ms', LABEL_W - 8, AXIS_H - 8);
    DATA.lanes.forEach((lane, i) => drawLane(lane, tops[i]));
    shadeRank('overlap', 'stream', 'exposed communication', 'rgba(225,87,89,0.13)');
    shadeRank('critical path', null, 'critical path', 'rgba(214,39,40,0.10)');
  }
  function drawLane(lane, top) {
    ctx.fillStyle = '#222'; ctx.textAlign = 'right';
    ctx.fillText(lane.title, LABEL_W - 8, top + LANE_H * 0.72);
    ctx.save(); ctx.beginPath(); ctx.rect(LABEL_W, 0, width(), height); ctx.clip();
    ctx.fillStyle = '#f7f7f7'; ctx.fillRect(LABEL_W, top, width(), LANE_H);
    const b = lane.bars, labelled = lane.kind !== 'stream' && lane.kind !== 'overlap';
    let lastPixel = -1, lastColour = -1;
    for (let k = 0; k < b.length; k += 5) {
      if (b[k + 1] < view.start || b[k] > view.end) continue;
      const x0 = xOf(b[k]), x1 = Math.max(xOf(b[k + 1]), x0 + 0.6);
      const pixel = Math.floor(x0);
      if (x1 - x0 < 1 && pixel === lastPixel && b[k + 2] === lastColour) continue;  // same pixel
      lastPixel = Math.floor(x1); lastColour = b[k + 2];
      ctx.fillStyle = DATA.palette[b[k + 2]];
      ctx.fillRect(x0, top, x1 - x0, LANE_H);
      if (labelled && x1 - x0 > 3) {
        ctx.strokeStyle = '#fff'; ctx.strokeRect(x0, top, x1 - x0, LANE_H);
        const text = DATA.labels[b[k + 3]];
        if (ctx.measureText(text).width + 4 < x1 - x0) {
          ctx.fillStyle = '#111'; ctx.textAlign = 'center';
          ctx.fillText(text, (x0 + x1) / 2, top + LANE_H * 0.72);
        }
      }
    }
    ctx.restore();
  }
  // Bands over a rank's lanes (those of kind `over`, or all) under the bars of kind `barKind` in
  // its lane of kind `laneKind`: exposed communication, the critical path.
  function shadeRank(laneKind, over, barKind, fill) {
    ctx.save(); ctx.beginPath(); ctx.rect(LABEL_W, 0, width(), height); ctx.clip();
    ctx.fillStyle = fill;
    DATA.lanes.forEach((lane, i) => {
      if (lane.kind !== laneKind) return;
      let first = tops[i];
      DATA.lanes.forEach((other, j) => {
        if (j < i && other.rank === lane.rank && (over === null || other.kind === over)) first = Math.min(first, tops[j]);
      });
      const b = lane.bars;
      for (let k = 0; k < b.length; k += 5) {
        if (DATA.kinds[b[k + 4]] !== barKind) continue;
        const x0 = xOf(b[k]), x1 = Math.max(xOf(b[k + 1]), x0 + 0.6);
        ctx.fillRect(x0, first - 2, x1 - x0, tops[i] - first + 2);
      }
    });
    ctx.restore();
  }
  function laneAt(py) {
    for (let i = 0; i < tops.length; i++) if (py >= tops[i] && py < tops[i] + LANE_H) return i;
    return -1;
  }
  function barAt(lane, t, slack) {
    const b = lane.bars; let best = -1;
    for (let k = 0; k < b.length; k += 5) {
      if (b[k] - slack <= t && t <= b[k + 1] + slack) { best = k; if (b[k] <= t && t <= b[k + 1]) break; }
    }
    return best;
  }
  let drag = null;
  canvas.addEventListener('wheel', e => {
    e.preventDefault();
    const t = tOf(e.offsetX), f = Math.exp(e.deltaY * 0.0015);
    const span = Math.max((view.end - view.start) * f, 1e-4);
    const r = (t - view.start) / (view.end - view.start);
    view = {start: t - r * span, end: t - r * span + span}; draw(); hover(e);
  }, {passive: false});
  canvas.addEventListener('mousedown', e => { drag = {x: e.offsetX, view: Object.assign({}, view)}; });
  window.addEventListener('mouseup', () => { drag = null; });
  canvas.addEventListener('dblclick', () => { view = {start: DATA.start_ms, end: DATA.end_ms}; draw(); });
  canvas.addEventListener('mousemove', e => {
    if (drag) {
      const dt = (e.offsetX - drag.x) / width() * (drag.view.end - drag.view.start);
      view = {start: drag.view.start - dt, end: drag.view.end - dt}; draw();
    }
    hover(e);
  });
  canvas.addEventListener('mouseleave', () => { tip.style.display = 'none'; });
  function hover(e) {
    const i = laneAt(e.offsetY);
    if (i < 0 || e.offsetX < LABEL_W) { tip.style.display = 'none'; return; }
    const lane = DATA.lanes[i], t = tOf(e.offsetX);
    const k = barAt(lane, t, 2 * (view.end - view.start) / width());
    if (k < 0) { tip.style.display = 'none'; return; }
    const b = lane.bars;
    tip.textContent = DATA.labels[b[k + 3]] + '\n' + DATA.kinds[b[k + 4]] + ' · ' + lane.title +
      '\nstart ' + b[k].toFixed(4) + ' ms · end ' + b[k + 1].toFixed(4) + ' ms · ' +
      (b[k + 1] - b[k]).toFixed(4) + ' ms';
    tip.style.display = 'block';
    tip.style.left = Math.min(e.offsetX + 14, canvas.clientWidth - 300) + 'px';
    tip.style.top = (e.offsetY + 16) + 'px';
  }
  window.addEventListener('resize', resize);
  resize();
})();
</script></body></html>
)JS";

}  // namespace

std::string timeline_data_json(const TimelineLayout& layout) {
  std::map<std::string, int> palette_index;
  std::vector<std::string> palette;
  const auto colour_index = [&](BarKind kind, const std::string& label) {
    const std::string colour = bar_colour(kind, label);
    const auto [it, inserted] = palette_index.emplace(colour, static_cast<int>(palette.size()));
    if (inserted) palette.push_back(colour);
    return it->second;
  };
  std::ostringstream lanes;
  for (std::size_t i = 0; i < layout.lanes.size(); ++i) {
    const TimelineLane& lane = layout.lanes[i];
    lanes << (i ? ",\n" : "\n") << "{\"title\": " << json_quote(lane.title)
          << ", \"rank\": " << lane.rank << ", \"kind\": \"" << lane_kind_name(lane.kind)
          << "\", \"bars\": [";
    for (std::size_t k = 0; k < lane.bars.size(); ++k) {
      const TimelineBar& bar = lane.bars[k];
      lanes << (k ? "," : "") << json_number(bar.start_ms, 5) << "," << json_number(bar.end_ms, 5)
            << "," << colour_index(bar.kind, layout.labels[bar.label]) << "," << bar.label << ","
            << static_cast<int>(bar.kind);
    }
    lanes << "]}";
  }
  std::ostringstream out;
  out << "{\"start_ms\": " << json_number(layout.start_ms, 5)
      << ", \"end_ms\": " << json_number(layout.end_ms, 5) << ",\n\"labels\": [";
  for (std::size_t i = 0; i < layout.labels.size(); ++i) {
    out << (i ? "," : "") << json_quote(layout.labels[i]);
  }
  out << "],\n\"palette\": [";
  for (std::size_t i = 0; i < palette.size(); ++i) out << (i ? "," : "") << json_quote(palette[i]);
  out << "],\n\"kinds\": [";
  for (std::size_t i = 0; i < std::size(kAllKinds); ++i) {
    out << (i ? "," : "") << json_quote(bar_kind_name(kAllKinds[i]));
  }
  out << "],\n\"legend\": [";
  const std::vector<LegendEntry> legend = timeline_legend();
  for (std::size_t i = 0; i < legend.size(); ++i) {
    out << (i ? "," : "") << "[" << json_quote(legend[i].text) << ","
        << json_quote(legend[i].colour) << "]";
  }
  out << "],\n\"captions\": [";
  for (std::size_t i = 0; i < layout.captions.size(); ++i) {
    const RankCaption& c = layout.captions[i];
    out << (i ? "," : "") << "{\"rank\": " << c.rank << ", \"source\": " << json_quote(c.source)
        << ", \"comm_ms\": " << json_number(c.comm_ms)
        << ", \"overlap_pct\": " << json_number(c.overlap_pct, 2)
        << ", \"exposed_comm_ms\": " << json_number(c.exposed_comm_ms) << "}";
  }
  out << "],\n\"lanes\": [" << lanes.str() << "]}";
  return out.str();
}

std::string timeline_html(const TimelineLayout& layout) {
  return std::string(kPageHead) + script_safe(timeline_data_json(layout)) + kPageScript;
}

}  // namespace dualpipe::render
