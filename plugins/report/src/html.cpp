// report.html: one self-contained HTML page of the run (no network, no external files).
#include "components.hpp"

#include <cmath>
#include <filesystem>
#include <limits>
#include <map>
#include <set>
#include <sstream>

namespace mien::report {

namespace fs = std::filesystem;

namespace {

std::string num(double v, int digits = 3) {
  if (!std::isfinite(v)) return "–";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

std::string slug(const std::string& s) {
  std::string o;
  for (char c : s) {
    const bool keep = std::isalnum(static_cast<unsigned char>(c)) != 0;
    if (keep) o += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    else if (!o.empty() && o.back() != '_') o += '_';
  }
  while (!o.empty() && o.back() == '_') o.pop_back();
  return o.empty() ? "chart" : o;
}

double jnum(const Json& j) { return j.is_number() ? j.get<double>() : std::numeric_limits<double>::quiet_NaN(); }

const char* kPalette[] = {"#3b528b", "#21918c", "#e07a1f", "#5ec962", "#b5367a", "#7f7f7f", "#440154", "#fde725"};

// ---------------------------------------------------------------- SVG charts
struct Series {
  std::string name;
  std::vector<double> x, y;
  bool dashed = false;
};

// A line chart; the <svg> has no xmlns (inline HTML); files get it added.
std::string line_chart(const std::string& title, const std::string& xlabel, const std::string& ylabel,
                       const std::vector<Series>& series) {
  const double W = 560, H = 320, L = 56, R = 150, T = 30, B = 44;
  double x0 = std::numeric_limits<double>::infinity(), x1 = -x0, y0 = x0, y1 = -x0;
  for (const auto& s : series)
    for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i)
      if (std::isfinite(s.x[i]) && std::isfinite(s.y[i])) {
        x0 = std::min(x0, s.x[i]), x1 = std::max(x1, s.x[i]);
        y0 = std::min(y0, s.y[i]), y1 = std::max(y1, s.y[i]);
      }
  if (!(x0 <= x1)) x0 = 0, x1 = 1, y0 = 0, y1 = 1;
  if (x1 == x0) x1 = x0 + 1;
  y0 = std::min(y0, 0.0);
  if (y1 <= 1.0 && y1 > 0.5) y1 = 1.0;
  if (y1 == y0) y1 = y0 + 1;
  auto X = [&](double v) { return L + (W - L - R) * (v - x0) / (x1 - x0); };
  auto Y = [&](double v) { return H - B - (H - T - B) * (v - y0) / (y1 - y0); };
  std::ostringstream o;
  o << "<svg class=\"chart\" width=\"" << W << "\" height=\"" << H << "\" viewBox=\"0 0 " << W << " " << H
    << "\" role=\"img\" aria-label=\"" << esc(title) << "\">";
  o << "<rect x=\"0\" y=\"0\" width=\"" << W << "\" height=\"" << H << "\" fill=\"#fff\"/>";
  o << "<text x=\"" << L << "\" y=\"18\" font-size=\"14\" font-family=\"sans-serif\">" << esc(title) << "</text>";
  for (int k = 0; k <= 5; ++k) {
    const double v = y0 + (y1 - y0) * k / 5.0, y = Y(v);
    o << "<line x1=\"" << L << "\" y1=\"" << y << "\" x2=\"" << W - R << "\" y2=\"" << y << "\" stroke=\"#e5e5e5\"/>";
    o << "<text x=\"" << L - 6 << "\" y=\"" << y + 4 << "\" font-size=\"11\" text-anchor=\"end\" font-family=\"sans-serif\">"
      << num(v, 2) << "</text>";
  }
  std::set<double> xt;
  for (const auto& s : series) xt.insert(s.x.begin(), s.x.end());
  const size_t every = std::max<size_t>(1, xt.size() / 10);
  size_t idx = 0;
  for (double v : xt) {
    if (idx++ % every != 0 || !std::isfinite(v)) continue;
    o << "<text x=\"" << X(v) << "\" y=\"" << H - B + 16 << "\" font-size=\"11\" text-anchor=\"middle\" font-family=\"sans-serif\">"
      << esc(format_value(v)) << "</text>";
  }
  o << "<line x1=\"" << L << "\" y1=\"" << H - B << "\" x2=\"" << W - R << "\" y2=\"" << H - B << "\" stroke=\"#000\"/>";
  o << "<line x1=\"" << L << "\" y1=\"" << T << "\" x2=\"" << L << "\" y2=\"" << H - B << "\" stroke=\"#000\"/>";
  o << "<text x=\"" << (L + W - R) / 2 << "\" y=\"" << H - 8 << "\" font-size=\"12\" text-anchor=\"middle\" font-family=\"sans-serif\">"
    << esc(xlabel) << "</text>";
  o << "<text x=\"14\" y=\"" << (T + H - B) / 2 << "\" font-size=\"12\" text-anchor=\"middle\" font-family=\"sans-serif\" transform=\"rotate(-90 14 "
    << (T + H - B) / 2 << ")\">" << esc(ylabel) << "</text>";
  for (size_t s = 0; s < series.size(); ++s) {
    const std::string col = kPalette[s % 8];
    std::ostringstream pts;
    for (size_t i = 0; i < series[s].x.size() && i < series[s].y.size(); ++i)
      if (std::isfinite(series[s].x[i]) && std::isfinite(series[s].y[i])) pts << X(series[s].x[i]) << "," << Y(series[s].y[i]) << " ";
    o << "<polyline fill=\"none\" stroke=\"" << col << "\" stroke-width=\"2\"" << (series[s].dashed ? " stroke-dasharray=\"6 4\"" : "")
      << " points=\"" << pts.str() << "\"><title>" << esc(series[s].name) << "</title></polyline>";
    const double ly = T + 10 + 18.0 * s;
    o << "<line x1=\"" << W - R + 10 << "\" y1=\"" << ly << "\" x2=\"" << W - R + 34 << "\" y2=\"" << ly << "\" stroke=\"" << col
      << "\" stroke-width=\"2\"" << (series[s].dashed ? " stroke-dasharray=\"6 4\"" : "") << "/>";
    o << "<text x=\"" << W - R + 38 << "\" y=\"" << ly + 4 << "\" font-size=\"11\" font-family=\"sans-serif\">" << esc(series[s].name) << "</text>";
  }
  o << "</svg>";
  return o.str();
}

// A horizontal bar chart.
std::string bar_chart(const std::string& title, const std::vector<std::string>& labels, const std::vector<double>& values,
                      const std::string& unit) {
  const double W = 640, rowh = 18, L = 250, R = 70, T = 30;
  const double H = T + rowh * labels.size() + 10;
  double mx = 0;
  for (double v : values) mx = std::max(mx, std::isfinite(v) ? v : 0.0);
  if (mx <= 0) mx = 1;
  std::ostringstream o;
  o << "<svg class=\"chart\" width=\"" << W << "\" height=\"" << H << "\" viewBox=\"0 0 " << W << " " << H
    << "\" role=\"img\" aria-label=\"" << esc(title) << "\">";
  o << "<rect x=\"0\" y=\"0\" width=\"" << W << "\" height=\"" << H << "\" fill=\"#fff\"/>";
  o << "<text x=\"8\" y=\"18\" font-size=\"14\" font-family=\"sans-serif\">" << esc(title) << "</text>";
  for (size_t i = 0; i < labels.size(); ++i) {
    const double y = T + rowh * i, v = std::isfinite(values[i]) ? values[i] : 0.0;
    const double w = (W - L - R) * v / mx;
    const cv::Vec3b c = colormap_bgr("viridis", 0.25 + 0.6 * v / mx);
    char col[16];
    std::snprintf(col, sizeof col, "#%02x%02x%02x", c[2], c[1], c[0]);
    o << "<text x=\"" << L - 6 << "\" y=\"" << y + 13 << "\" font-size=\"11\" text-anchor=\"end\" font-family=\"sans-serif\">"
      << esc(labels[i]) << "</text>";
    o << "<rect x=\"" << L << "\" y=\"" << y + 2 << "\" width=\"" << w << "\" height=\"" << rowh - 4 << "\" fill=\"" << col
      << "\"><title>" << esc(labels[i] + ": " + format_value(v) + unit) << "</title></rect>";
    o << "<text x=\"" << L + w + 4 << "\" y=\"" << y + 13 << "\" font-size=\"10\" font-family=\"sans-serif\">"
      << esc(format_value(v) + unit) << "</text>";
  }
  o << "</svg>";
  return o.str();
}

// ---------------------------------------------------------------- the page
class Page {
 public:
  Page(std::string chart_dir) : chart_dir_(std::move(chart_dir)) {}
  std::ostringstream body;
  std::vector<std::pair<std::string, std::string>> toc;  // id, title
  std::vector<std::string> chart_files;

  void section(const std::string& title) {
    close();
    const std::string id = "s" + std::to_string(toc.size() + 1);
    toc.emplace_back(id, title);
    body << "<section id=\"" << id << "\"><h2>" << esc(title) << "</h2>\n";
    open_ = true;
  }
  void close() {
    if (open_) body << "</section>\n";
    open_ = false;
  }
  // Embeds the chart and writes it as a standalone .svg.
  void chart(const std::string& name, const std::string& svg) {
    body << "<figure>" << svg << "</figure>\n";
    if (chart_dir_.empty()) return;
    std::string file = slug(name);
    for (int k = 2; used_.count(file); ++k) file = slug(name) + "_" + std::to_string(k);
    used_.insert(file);
    std::string standalone = svg;
    standalone.insert(4, " xmlns=\"http://www.w3.org/2000/svg\"");
    fs::create_directories(chart_dir_);
    write_file(chart_dir_ + "/" + file + ".svg", "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + standalone + "\n");
    chart_files.push_back("charts/" + file + ".svg");
  }

 private:
  std::string chart_dir_;
  std::set<std::string> used_;
  bool open_ = false;
};

const char* kStyle = R"CSS(
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#222;background:#fafafa}
header{background:#2d3e50;color:#fff;padding:16px 28px}header h1{margin:0;font-size:22px}
nav{padding:8px 28px;background:#eef1f4;font-size:14px}nav a{margin-right:14px;color:#2d3e50}
main{padding:8px 28px 40px}section{background:#fff;border:1px solid #ddd;border-radius:6px;padding:12px 18px;margin:16px 0}
h2{font-size:18px;margin:4px 0 10px}table{border-collapse:collapse;font-size:13px;margin:6px 0}
td,th{border:1px solid #ddd;padding:3px 8px;text-align:right}th{background:#f2f2f2}td.l,th.l{text-align:left}
figure{margin:8px 0}pre{background:#f6f6f6;padding:8px;overflow:auto;max-height:360px;font-size:12px}
.cards{display:flex;flex-wrap:wrap;gap:12px}.card{border:1px solid #ccc;border-radius:6px;padding:8px;width:420px;background:#fff}
.card img{max-width:100%;display:block;margin:4px 0}.card pre{max-height:none;white-space:pre-wrap}
.ok{color:#1a7f37}.bad{color:#c62828}.filters{margin:6px 0 10px;font-size:14px}.filters select{margin-right:12px}
)CSS";

const char* kScript = R"JS(
function mienFilter(id){var root=document.getElementById(id);var sels=root.querySelectorAll('select');
var cards=root.querySelectorAll('.card');var shown=0;for(var i=0;i<cards.length;i++){var ok=true;
for(var k=0;k<sels.length;k++){var v=sels[k].value;if(v!==''&&cards[i].getAttribute('data-'+sels[k].name)!==v)ok=false;}
cards[i].style.display=ok?'':'none';if(ok)shown++;}var c=root.querySelector('.count');if(c)c.textContent=shown+' shown';}
document.addEventListener('DOMContentLoaded',function(){var g=document.querySelectorAll('div[id^="gallery"]');
for(var i=0;i<g.length;i++)mienFilter(g[i].id);});
)JS";

std::string cell_colour(double t) {  // light-to-dark blue for confusion cells
  t = std::clamp(t, 0.0, 1.0);
  const int r = static_cast<int>(247 - t * (247 - 8)), g = static_cast<int>(251 - t * (251 - 81)),
            b = static_cast<int>(255 - t * (255 - 156));
  char buf[64];
  std::snprintf(buf, sizeof buf, "background:#%02x%02x%02x;color:%s", r, g, b, t > 0.55 ? "#fff" : "#000");
  return buf;
}

void classification(Page& pg, const Json& j, const std::string& label) {
  pg.section("Classification" + label);
  auto ci = [&](const char* key) {
    std::string s = num(jnum(j.value(key, Json())), 3);
    if (j.contains("bootstrap") && j["bootstrap"].is_object() && j["bootstrap"].contains(key)) {
      const auto& b = j["bootstrap"][key];
      s += " [" + num(jnum(b.value("low", Json())), 3) + ", " + num(jnum(b.value("high", Json())), 3) + "]";
    }
    return s;
  };
  pg.body << "<table><tr><th class=\"l\">metric</th><th>value";
  if (j.contains("bootstrap") && j["bootstrap"].is_object())
    pg.body << " [" << esc(num(jnum(j["bootstrap"].value("confidence", Json())) * 100, 0)) << "% CI]";
  pg.body << "</th></tr>";
  pg.body << "<tr><td class=\"l\">samples</td><td>" << esc(j.value("n", Json()).dump()) << "</td></tr>";
  pg.body << "<tr><td class=\"l\">accuracy</td><td>" << esc(ci("accuracy")) << "</td></tr>";
  pg.body << "<tr><td class=\"l\">balanced accuracy</td><td>" << esc(ci("balanced_accuracy")) << "</td></tr>";
  pg.body << "<tr><td class=\"l\">macro F1</td><td>" << esc(num(jnum(j.value("macro_f1", Json())))) << "</td></tr></table>\n";
  if (j.contains("confusion") && j["confusion"].is_object()) {
    const auto& c = j["confusion"];
    const auto classes = c.value("classes", std::vector<std::string>());
    pg.body << "<h3>Confusion matrix (rows: true, columns: predicted; colour: row share)</h3><table class=\"confusion\"><tr><th></th>";
    for (const auto& k : classes) pg.body << "<th>" << esc(short_label(k)) << "</th>";
    pg.body << "</tr>";
    for (size_t r = 0; r < classes.size(); ++r) {
      pg.body << "<tr><th class=\"l\">" << esc(classes[r]) << "</th>";
      for (size_t k = 0; k < classes.size(); ++k) {
        const double share = c.contains("normalized") ? jnum(c["normalized"][r][k]) : 0;
        const Json cnt = c.contains("counts") ? c["counts"][r][k] : Json();
        pg.body << "<td style=\"" << cell_colour(share) << "\" title=\"" << esc(num(share * 100, 1)) << "%\">" << esc(cnt.dump()) << "</td>";
      }
      pg.body << "</tr>";
    }
    pg.body << "</table>\n";
  }
  if (j.contains("per_class") && j["per_class"].is_object()) {
    pg.body << "<h3>Per class</h3><table><tr><th class=\"l\">class</th><th>precision</th><th>recall</th><th>F1</th><th>support</th></tr>";
    for (auto it = j["per_class"].begin(); it != j["per_class"].end(); ++it)
      pg.body << "<tr><td class=\"l\">" << esc(it.key()) << "</td><td>" << num(jnum(it->value("precision", Json()))) << "</td><td>"
              << num(jnum(it->value("recall", Json()))) << "</td><td>" << num(jnum(it->value("f1", Json()))) << "</td><td>"
              << esc(it->value("support", Json()).dump()) << "</td></tr>";
    pg.body << "</table>\n";
  }
  if (j.contains("groups") && j["groups"].is_object()) {
    pg.body << "<h3>By " << esc(j.value("group_by", std::string("group"))) << "</h3><table><tr><th class=\"l\">group</th><th>n</th><th>accuracy</th></tr>";
    for (auto it = j["groups"].begin(); it != j["groups"].end(); ++it)
      pg.body << "<tr><td class=\"l\">" << esc(it.key()) << "</td><td>" << esc(it->value("n", Json()).dump()) << "</td><td>"
              << num(jnum(it->value("accuracy", Json()))) << "</td></tr>";
    pg.body << "</table>\n";
  }
}

std::vector<double> jvec(const Json& j, const char* key) {
  std::vector<double> v;
  if (j.contains(key) && j[key].is_array())
    for (const auto& e : j[key]) v.push_back(jnum(e));
  return v;
}

void curve_metric(Page& pg, const Json& j, const std::string& label) {
  const std::string m = j.value("metric", std::string());
  pg.section((m == "top_n_weight" ? std::string("Top-n weight") : m == "fidelity" ? "Fidelity" : "Explanation accuracy") + label);
  const auto n = jvec(j, "n");
  std::vector<Series> s;
  if (m == "top_n_weight") {
    s.push_back({"weight", n, jvec(j, "values")});
  } else {
    s.push_back({"fidelity", n, jvec(j, "fidelity")});
    s.push_back({"random fidelity", n, jvec(j, "random_fidelity"), true});
    s.push_back({"accuracy", n, jvec(j, "accuracy")});
    s.push_back({"random accuracy", n, jvec(j, "random_accuracy"), true});
  }
  pg.chart(m + label, line_chart(m + label + " over n", "n (top features kept)", m == "top_n_weight" ? "share" : "share of samples", s));
  pg.body << "<table><tr><th>n</th>";
  for (const auto& x : s) pg.body << "<th>" << esc(x.name) << "</th>";
  pg.body << "</tr>";
  for (size_t i = 0; i < n.size(); ++i) {
    pg.body << "<tr><td>" << esc(format_value(n[i])) << "</td>";
    for (const auto& x : s) pg.body << "<td>" << (i < x.y.size() ? num(x.y[i]) : "") << "</td>";
    pg.body << "</tr>";
  }
  pg.body << "</table>\n";
}

void scalar_json(Page& pg, const Json& j, const std::string& title) {
  pg.section(title);
  pg.body << "<table>";
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it->is_object() || (it->is_array() && it->size() > 12)) continue;
    pg.body << "<tr><td class=\"l\">" << esc(it.key()) << "</td><td class=\"l\">"
            << esc(it->is_string() ? it->get<std::string>() : it->is_number_float() ? num(it->get<double>(), 4) : it->dump())
            << "</td></tr>";
  }
  pg.body << "</table>\n<details><summary>JSON</summary><pre>" << esc(j.dump(2).substr(0, 20000)) << "</pre></details>\n";
}

struct Importance {
  std::string name;
  std::vector<std::string> features;
  std::vector<double> mean_abs;
};

Importance importance(const TableView& t, const std::string& name) {
  Importance imp;
  imp.name = name;
  const auto feats = t.with_role(MIEN_ROLE_FEATURE);
  const auto ex = t.find("explained_class"), pr = t.find("predicted_class");
  std::vector<bool> use(static_cast<size_t>(t.num_rows()), true);
  bool any_pred = false;
  if (ex && pr) {
    for (int64_t r = 0; r < t.num_rows(); ++r) any_pred |= ex->text(r) == pr->text(r);
    if (any_pred)
      for (int64_t r = 0; r < t.num_rows(); ++r) use[static_cast<size_t>(r)] = ex->text(r) == pr->text(r);
  }
  for (const auto& f : feats) {
    double s = 0;
    int64_t n = 0;
    for (int64_t r = 0; r < t.num_rows(); ++r)
      if (use[static_cast<size_t>(r)] && std::isfinite(f.number(r))) s += std::fabs(f.number(r)), ++n;
    imp.features.push_back(f.name());
    imp.mean_abs.push_back(n ? s / static_cast<double>(n) : 0.0);
  }
  return imp;
}

void attribution_section(Page& pg, const Importance& imp, int64_t rows) {
  pg.section("Global feature importance: " + imp.name);
  std::vector<size_t> order(imp.features.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return imp.mean_abs[a] > imp.mean_abs[b]; });
  std::vector<std::string> labels;
  std::vector<double> values;
  for (size_t i : order) labels.push_back(imp.features[i]), values.push_back(imp.mean_abs[i]);
  pg.body << "<p>Mean |attribution| of the explained (predicted) class over " << rows << " row(s).</p>\n";
  pg.chart("importance " + imp.name, bar_chart("Importance score (mean |attribution|): " + imp.name, labels, values, ""));
}

void comparison_section(Page& pg, const std::vector<Importance>& imps) {
  pg.section("Explainer comparison");
  std::vector<std::string> feats;
  std::set<std::string> seen;
  for (const auto& i : imps)
    for (const auto& f : i.features)
      if (seen.insert(f).second) feats.push_back(f);
  pg.body << "<p>Share of the total mean |attribution| (rank in brackets).</p><table><tr><th class=\"l\">feature</th>";
  for (const auto& i : imps) pg.body << "<th>" << esc(i.name) << "</th>";
  pg.body << "</tr>";
  for (const auto& f : feats) {
    pg.body << "<tr><td class=\"l\">" << esc(f) << "</td>";
    for (const auto& i : imps) {
      double total = 0, v = -1;
      for (size_t k = 0; k < i.features.size(); ++k) {
        total += i.mean_abs[k];
        if (i.features[k] == f) v = i.mean_abs[k];
      }
      if (v < 0) {
        pg.body << "<td></td>";
        continue;
      }
      int rank = 1;
      for (double o : i.mean_abs) rank += o > v ? 1 : 0;
      pg.body << "<td>" << num(total > 0 ? 100 * v / total : 0, 1) << "% (" << rank << ")</td>";
    }
    pg.body << "</tr>";
  }
  pg.body << "</table>\n";
}

void curve_table(Page& pg, const TableView& t, const std::string& name) {
  const std::string m = t.meta().value("metric", std::string("deletion"));
  pg.section((m == "insertion" ? "Insertion curve" : "Deletion curve") + name);
  const auto xcol = t.find("fraction") ? t.find("fraction") : t.find("k");
  std::vector<double> x = xcol ? xcol->numbers() : std::vector<double>();
  if (x.empty())
    for (int64_t r = 0; r < t.num_rows(); ++r) x.push_back(static_cast<double>(r));
  std::vector<Series> s{{"probability", x, t.get("probability").numbers()},
                        {"random order", x, t.get("random_probability").numbers(), true}};
  pg.chart(m + name, line_chart(m + " curve" + name, xcol ? xcol->name() : "step", "probability of the class", s));
  const Json meta = t.meta();
  if (meta.contains("auc"))
    pg.body << "<p>AUC " << num(jnum(meta["auc"])) << " (random " << num(jnum(meta.value("random_auc", Json()))) << "; "
            << esc(meta.value("better", std::string())) << " is better)</p>\n";
}

void generic_table(Page& pg, const TableView& t, const std::string& title) {
  pg.section(title);
  pg.body << "<p>" << t.num_rows() << " rows, " << t.num_columns() << " columns";
  if (t.num_rows() > 20) pg.body << " (first 20 shown)";
  pg.body << ".</p><table><tr>";
  for (uint32_t c = 0; c < t.num_columns(); ++c) pg.body << "<th>" << esc(t.column(c).name()) << "</th>";
  pg.body << "</tr>";
  for (int64_t r = 0; r < std::min<int64_t>(20, t.num_rows()); ++r) {
    pg.body << "<tr>";
    for (uint32_t c = 0; c < t.num_columns(); ++c) {
      const auto col = t.column(c);
      pg.body << "<td>" << esc(col.is_string() || col.categories().size() ? col.text(r) : format_value(col.number(r))) << "</td>";
    }
    pg.body << "</tr>";
  }
  pg.body << "</table>\n";
}

}  // namespace

// =============================================================== report.html
HtmlReport::HtmlReport(const Setup& s)
    : title_(kTitle.read(s.params())), node_(s.node_name()), copy_(kCopy.read(s.params())), max_images_(kMaxImages.read(s.params())) {}

std::string find_report_file(const std::string& run_dir, const Json& ex, const std::string& file) {
  std::vector<std::string> cands;
  if (!run_dir.empty() && ex.contains("files") && ex["files"].is_string())
    cands.push_back(run_dir + "/" + ex["files"].get<std::string>() + "/" + file);
  if (ex.contains("dir") && ex["dir"].is_string()) cands.push_back(ex["dir"].get<std::string>() + "/" + file);
  for (const auto& c : cands) {
    std::error_code ec;
    if (fs::is_regular_file(c, ec)) return c;
  }
  // Last resort (a node renamed since its output was cached): any node folder of the run
  // holding a file of that name.
  std::error_code ec;
  if (!run_dir.empty() && fs::is_directory(run_dir + "/nodes", ec))
    for (const auto& e : fs::directory_iterator(run_dir + "/nodes", ec)) {
      const fs::path p = e.path() / "files" / file;
      if (fs::is_regular_file(p, ec)) return p.string();
    }
  return "";
}

namespace {

std::string fmt2(double v) { return num(v, 2); }

// The value of a curve at n = 5 (the paper's headline n), else at the largest n below it.
bool at_n5(const Json& j, const char* key, double* v, int* n_used) {
  const auto n = jvec(j, "n"), y = jvec(j, key);
  int best = -1;
  for (size_t i = 0; i < n.size() && i < y.size(); ++i)
    if (n[i] <= 5 && (best < 0 || n[i] > n[static_cast<size_t>(best)])) best = static_cast<int>(i);
  if (best < 0) return false;
  *v = y[static_cast<size_t>(best)];
  *n_used = static_cast<int>(n[static_cast<size_t>(best)]);
  return std::isfinite(*v);
}

// The sources of this node's items ("fidelity[S].summary", ...) from resolved.yaml, where
// the host writes the expanded list on one line; empty when it cannot be read.
std::vector<std::string> item_sources(const std::string& resolved, const std::string& node) {
  std::istringstream in(resolved);
  std::string line;
  bool inside = false;
  while (std::getline(in, line)) {
    if (line == "  " + node + ":") {
      inside = true;
      continue;
    }
    if (!inside) continue;
    if (line.size() > 2 && line[0] == ' ' && line[1] == ' ' && line[2] != ' ') break;  // the next node
    const auto k = line.find("items: [");
    if (k == std::string::npos || line.back() != ']') continue;
    std::vector<std::string> out;
    std::string cur;
    bool quoted = false;
    for (size_t i = k + 8; i + 1 < line.size(); ++i) {
      const char c = line[i];
      if (c == '"') quoted = !quoted;
      else if (c == ',' && !quoted) out.push_back(cur), cur.clear();
      else if (!(c == ' ' && cur.empty())) cur += c;
    }
    if (!cur.empty()) out.push_back(cur);
    return out;
  }
  return {};
}

}  // namespace

Json headline_rows(const std::vector<std::pair<std::string, Json>>& items) {
  struct Row {
    std::string label, value, where;
  };
  std::vector<Row> rows;
  std::map<std::string, int> seen;
  for (const auto& [where, j] : items) {
    auto add = [&, w = where](const std::string& label, const std::string& value) {
      rows.push_back({label, value, w});
      ++seen[label];
    };
    if (!j.is_object()) continue;
    const std::string m = j.value("metric", std::string());
    const std::string by = j.contains("explainer") && j["explainer"].is_string() ? j["explainer"].get<std::string>() : "";
    if (m == "classification" && j.contains("accuracy")) {
      std::string v = fmt2(jnum(j["accuracy"]));
      if (j.contains("bootstrap") && j["bootstrap"].is_object() && j["bootstrap"].contains("accuracy"))
        v += " [" + fmt2(jnum(j["bootstrap"]["accuracy"].value("low", Json()))) + ", " +
             fmt2(jnum(j["bootstrap"]["accuracy"].value("high", Json()))) + "]";
      const bool grouped = j.contains("groups") && j["groups"].is_object() && !j["groups"].empty();
      add(std::string("accuracy") + (grouped ? " (all " + j.value("group_by", std::string("group")) + "s together)" : ""), v);
      if (grouped) {
        std::vector<std::string> order = j.value("group_order", std::vector<std::string>());
        for (auto it = j["groups"].begin(); it != j["groups"].end(); ++it)
          if (std::find(order.begin(), order.end(), it.key()) == order.end()) order.push_back(it.key());
        for (const auto& g : order)
          if (j["groups"].contains(g))
            add("accuracy (" + j.value("group_by", std::string("group")) + " " + g + ")", fmt2(jnum(j["groups"][g].value("accuracy", Json()))));
      }
    } else if (m == "fidelity" || m == "explanation_accuracy") {
      double v = 0, r = 0;
      int n = 0, nr = 0;
      const std::string who = by.empty() ? "" : " (" + by + ")";
      if (at_n5(j, "fidelity", &v, &n)) {
        std::string val = fmt2(v);
        if (at_n5(j, "random_fidelity", &r, &nr)) val += " (random " + fmt2(r) + ")";
        add("fidelity at n=" + std::to_string(n) + who, val);
      }
      if (at_n5(j, "accuracy", &v, &n)) {
        std::string val = fmt2(v);
        if (at_n5(j, "random_accuracy", &r, &nr)) val += " (random " + fmt2(r) + ")";
        add("explanation accuracy at n=" + std::to_string(n) + who, val);
      }
    } else if (m == "ground_truth") {
      if (j.contains("features") && j["features"].is_object()) {
        const auto k = jvec(j["features"], "k"), p = jvec(j["features"], "precision");
        for (size_t i = 0; i < k.size() && i < p.size(); ++i)
          if (k[i] == 1 || i + 1 == k.size()) {
            add("ground-truth precision@" + std::to_string(static_cast<int>(k[i])), fmt2(p[i]));
            break;
          }
      }
      if (j.contains("image") && j["image"].is_object()) {
        const Json& im = j["image"];
        std::string v = fmt2(jnum(im.value("mass_mean", Json())));
        if (im.contains("mask_area_mean")) v += " (regions cover " + num(100 * jnum(im["mask_area_mean"]), 0) + "% of the image)";
        add("saliency mass inside the AU regions", v);
        if (im.contains("pointing_rate")) add("pointing game (top pixel inside an AU region)", fmt2(jnum(im["pointing_rate"])));
      }
    } else if ((m == "image_deletion" || m == "image_insertion" || m == "deletion" || m == "insertion") && j.contains("auc_mean")) {
      const std::string kind = m.find("insertion") != std::string::npos ? "insertion" : "deletion";
      add(kind + " AUC (mean)", fmt2(jnum(j["auc_mean"])) + (j.contains("better") ? " (" + j.value("better", std::string()) + " is better)" : ""));
    } else if (j.contains("__columns") && j["__columns"].contains("val_accuracy") && j["__columns"].contains("epoch")) {
      // A training curve (model.cnn, model.faceapi_expression, model.mlp), named by its node;
      // tables with val_accuracy but no epoch (tune.hyperband's trials) are not curves.
      const auto v = jvec(j["__columns"], "val_accuracy");
      if (!v.empty()) {
        double best = v.front();
        for (double x : v) best = std::max(best, x);
        const auto dot = where.find('.');
        const std::string model = dot != std::string::npos ? where.substr(0, dot) : "the model";
        add("validation accuracy of " + model + " (last epoch; best)",
            fmt2(v.back()) + " (" + fmt2(best) + ", " + std::to_string(v.size()) + " epochs)");
      }
    } else if (j.contains("__columns") && j.contains("__meta") && j["__meta"].is_object() && j["__meta"].contains("auc") &&
               j["__columns"].contains("random_probability")) {
      const std::string kind = j["__meta"].value("metric", std::string("deletion"));
      add(kind + " AUC", fmt2(jnum(j["__meta"]["auc"])) + " (random " + fmt2(jnum(j["__meta"].value("random_auc", Json()))) + ")");
    }
  }
  // Labels that repeat (one metric per pose, say): copies of one matrix node share a row,
  // "S 0.93 (random 0.36); HL 0.86 (random 0.37)", so the terminal summary stays short;
  // other repeats name the item they came from.
  const auto bracket = [](const std::string& where) {
    const auto a = where.find('['), b = where.find(']');
    return a != std::string::npos && b != std::string::npos && b > a ? where.substr(a + 1, b - a - 1) : std::string();
  };
  std::map<std::string, bool> all_copies;
  for (const auto& r : rows) {
    auto it = all_copies.find(r.label);
    const bool copy = !bracket(r.where).empty();
    all_copies[r.label] = it == all_copies.end() ? copy : it->second && copy;
  }
  Json out = Json::array();
  std::map<std::string, size_t> merged_at;
  for (const auto& r : rows) {
    if (seen[r.label] > 1 && all_copies[r.label]) {
      const std::string part = bracket(r.where) + " " + r.value;
      auto it = merged_at.find(r.label);
      if (it == merged_at.end()) {
        merged_at[r.label] = out.size();
        out.push_back({{"label", r.label}, {"value", part}});
      } else {
        out[it->second]["value"] = out[it->second]["value"].get<std::string>() + "; " + part;
      }
      continue;
    }
    const std::string tag = seen[r.label] > 1 && !r.where.empty() ? ", " + r.where : "";
    out.push_back({{"label", r.label + tag}, {"value", r.value}});
  }
  return out;
}

namespace {

void gallery(Page& pg, const Json& ex, const std::string& run_dir, int max_images, int index, const Host& host) {
  const std::string kind = ex.value("report", std::string("report"));
  pg.section((kind == "report.geometric" ? "Geometric explanations" : kind == "report.heatmap" ? "Heat maps" : "Comparison sheets") +
             std::string(ex.contains("node") ? " (" + ex["node"].get<std::string>() + ")" : ""));
  const std::string gid = "gallery" + std::to_string(index);
  std::set<std::string> classes, poses;
  for (const auto& s : ex["samples"]) {
    if (s.contains("true") && s["true"].is_string()) classes.insert(s["true"].get<std::string>());
    if (s.contains("groups") && s["groups"].contains("pose")) poses.insert(s["groups"]["pose"].get<std::string>());
  }
  pg.body << "<div id=\"" << gid << "\"><div class=\"filters\">class <select name=\"class\" onchange=\"mienFilter('" << gid
          << "')\"><option value=\"\">all</option>";
  for (const auto& c : classes) pg.body << "<option value=\"" << esc(c) << "\">" << esc(c) << "</option>";
  pg.body << "</select>correct <select name=\"correct\" onchange=\"mienFilter('" << gid
          << "')\"><option value=\"\">all</option><option value=\"yes\">yes</option><option value=\"no\">no</option></select>";
  if (!poses.empty()) {
    pg.body << "pose <select name=\"pose\" onchange=\"mienFilter('" << gid << "')\"><option value=\"\">all</option>";
    for (const auto& p : poses) pg.body << "<option value=\"" << esc(p) << "\">" << esc(p) << "</option>";
    pg.body << "</select>";
  }
  pg.body << "<span class=\"count\"></span></div><div class=\"cards\">\n";
  int shown = 0, missing = 0;
  for (const auto& s : ex["samples"]) {
    if (shown >= max_images) break;
    ++shown;
    const std::string truth = s.contains("true") && s["true"].is_string() ? s["true"].get<std::string>() : "";
    const std::string pred = s.contains("predicted") && s["predicted"].is_string() ? s["predicted"].get<std::string>() : "";
    const std::string correct = s.contains("correct") && s["correct"].is_boolean() ? (s["correct"].get<bool>() ? "yes" : "no") : "";
    const std::string pose = s.contains("groups") && s["groups"].contains("pose") ? s["groups"]["pose"].get<std::string>() : "";
    pg.body << "<div class=\"card\" data-class=\"" << esc(truth) << "\" data-correct=\"" << correct << "\" data-pose=\"" << esc(pose)
            << "\"><b>" << esc(s.value("id", std::string())) << "</b> predicted " << esc(pred.empty() ? "?" : paper_label(pred));
    if (!truth.empty()) pg.body << ", true " << esc(paper_label(truth));
    if (!correct.empty()) pg.body << " <span class=\"" << (correct == "yes" ? "ok\">correct" : "bad\">incorrect") << "</span>";
    if (!pose.empty()) pg.body << ", pose " << esc(pose);
    if (s.contains("files") && s["files"].is_object()) {
      for (const char* key : {"explanation", "probabilities"}) {
        if (!s["files"].contains(key)) continue;
        const std::string file = s["files"][key].get<std::string>();
        const std::string path = find_report_file(run_dir, ex, file);
        if (path.empty()) {
          ++missing;
          pg.body << "<p>(" << esc(file) << " not found)</p>";
          continue;
        }
        pg.body << "<img alt=\"" << esc(file) << "\" src=\"data:image/png;base64," << base64(read_file(path)) << "\">";
      }
    }
    if (s.contains("text") && s["text"].is_string()) pg.body << "<pre>" << esc(s["text"].get<std::string>()) << "</pre>";
    pg.body << "</div>\n";
  }
  pg.body << "</div></div>\n";
  if (missing) host.warn("report.html: " + std::to_string(missing) + " gallery image(s) of " + kind + " were not found");
}

}  // namespace

void HtmlReport::process(Context& ctx) {
  const Host& host = ctx.host();
  const std::string run_dir = host.run_dir();
  const std::string out_dir = host.output_dir();
  Page pg(out_dir + "/charts");

  Json manifest;
  std::string resolved;
  if (!run_dir.empty()) {
    std::error_code ec;
    if (fs::is_regular_file(run_dir + "/manifest.json", ec)) {
      try {
        manifest = Json::parse(read_file(run_dir + "/manifest.json"));
      } catch (const std::exception& e) {
        host.warn(std::string("report.html: manifest.json is not readable JSON: ") + e.what());
      }
    }
    if (fs::is_regular_file(run_dir + "/resolved.yaml", ec)) resolved = read_file(run_dir + "/resolved.yaml");
  }
  const std::string title = !title_.empty() ? title_
                            : manifest.is_object() && manifest.contains("experiment") ? "mien report: " + manifest["experiment"].get<std::string>()
                                                                                        : "mien report";

  // ---- experiment summary
  if (manifest.is_object() || !resolved.empty()) {
    pg.section("Experiment");
    if (manifest.is_object()) {
      pg.body << "<table>";
      for (const char* k : {"experiment", "experiment_file", "started", "finished", "status", "seed", "threads", "mien_version", "abi"})
        if (manifest.contains(k))
          pg.body << "<tr><td class=\"l\">" << k << "</td><td class=\"l\">"
                  << esc(manifest[k].is_string() ? manifest[k].get<std::string>() : manifest[k].dump()) << "</td></tr>";
      if (manifest.contains("machine"))
        pg.body << "<tr><td class=\"l\">machine</td><td class=\"l\">" << esc(manifest["machine"].dump()) << "</td></tr>";
      pg.body << "</table>\n";
      if (manifest.contains("plugins") && manifest["plugins"].is_object() && !manifest["plugins"].empty()) {
        pg.body << "<h3>Plugins</h3><table><tr><th class=\"l\">plugin</th><th class=\"l\">version</th><th class=\"l\">SHA-256</th><th class=\"l\">library</th></tr>";
        for (auto it = manifest["plugins"].begin(); it != manifest["plugins"].end(); ++it)
          pg.body << "<tr><td class=\"l\">" << esc(it->value("plugin", std::string())) << "</td><td class=\"l\">"
                  << esc(it->value("version", std::string())) << "</td><td class=\"l\"><code>"
                  << esc(it->value("sha256", std::string()).substr(0, 16)) << "…</code></td><td class=\"l\">"
                  << esc(fs::path(it.key()).filename().string()) << "</td></tr>";
        pg.body << "</table>\n";
      }
    }
    if (!resolved.empty()) pg.body << "<details><summary>resolved.yaml</summary><pre>" << esc(resolved) << "</pre></details>\n";
  }
  if (manifest.is_object() && manifest.contains("nodes") && manifest["nodes"].is_array() && !manifest["nodes"].empty()) {
    pg.section("Nodes and timings");
    int cached = 0;
    std::vector<std::string> names;
    std::vector<double> secs;
    pg.body << "<table><tr><th class=\"l\">node</th><th class=\"l\">component</th><th>version</th><th class=\"l\">status</th><th>wall s</th><th>peak MB</th></tr>";
    for (const auto& n : manifest["nodes"]) {
      const std::string st = n.value("status", std::string());
      cached += st == "cached" ? 1 : 0;
      const double w = jnum(n.value("wall_seconds", Json()));
      names.push_back(n.value("name", std::string("?")));
      secs.push_back(std::isfinite(w) ? w : 0);
      pg.body << "<tr><td class=\"l\">" << esc(names.back()) << "</td><td class=\"l\">" << esc(n.value("type_id", std::string()))
              << "</td><td>" << esc(n.value("version", Json()).dump()) << "</td><td class=\"l\">" << esc(st) << "</td><td>"
              << num(w, 3) << "</td><td>" << num(jnum(n.value("peak_rss_mb", Json())), 1) << "</td></tr>";
    }
    pg.body << "</table>\n<p>" << manifest["nodes"].size() << " node(s) finished before this report, " << cached
            << " from the cache.</p>\n";
    pg.chart("timings", bar_chart("Wall time per node", names, secs, " s"));
  }

  // ---- the attached items
  std::vector<std::pair<std::string, Json>> head_items;
  const std::vector<std::string> sources = item_sources(resolved, node_);
  std::vector<Importance> imps;
  const uint32_t count = ctx.count(kItems);
  int galleries = 0;
  for (uint32_t i = 0; i < count; ++i) {
    host.check_cancelled();
    const mien_value& v = ctx.value(kItems, i);
    const std::string label = " (item " + std::to_string(i + 1) + ")";
    if (v.kind == MIEN_VALUE_JSON) {
      Json j;
      try {
        j = ctx.json(kItems, i);
      } catch (const std::exception& e) {
        throw Error("report.html: item " + std::to_string(i + 1) + " is not valid JSON: " + e.what());
      }
      head_items.emplace_back(sources.size() == count ? sources[i] : "item " + std::to_string(i + 1), j);
      const std::string m = j.is_object() ? j.value("metric", std::string()) : "";
      const std::string who = j.is_object() && j.contains("explainer") && j["explainer"].is_string() ? " — " + j["explainer"].get<std::string>() : label;
      if (j.is_object() && j.contains("report") && j.contains("samples") && j["samples"].is_array())
        gallery(pg, j, run_dir, max_images_, galleries++, host);
      else if (m == "classification")
        classification(pg, j, label);
      else if ((m == "fidelity" || m == "explanation_accuracy" || m == "top_n_weight") && j.contains("n"))
        curve_metric(pg, j, who);
      else if (j.is_object())
        scalar_json(pg, j, (m.empty() ? std::string("JSON") : m) + who);
      else {
        pg.section("JSON" + label);
        pg.body << "<pre>" << esc(j.dump(2).substr(0, 20000)) << "</pre>\n";
      }
    } else if (v.kind == MIEN_VALUE_TABLE) {
      const TableView t = ctx.table(kItems, i);
      const Json meta = t.meta();
      const std::string name = meta.is_object() && meta.contains("explainer") && meta["explainer"].is_string()
                                   ? meta["explainer"].get<std::string>()
                                   : "item " + std::to_string(i + 1);
      if (t.find("val_accuracy") || (t.find("random_probability") && meta.is_object() && meta.contains("auc"))) {
        Json cols = Json::object();
        for (const char* c : {"epoch", "val_accuracy", "random_probability"})
          if (t.find(c)) cols[c] = t.get(c).numbers();
        head_items.emplace_back(sources.size() == count ? sources[i] : "item " + std::to_string(i + 1),
                                Json{{"__columns", cols}, {"__meta", meta}});
      }
      if (!t.with_role(MIEN_ROLE_FEATURE).empty() && t.find("explained_class")) {
        imps.push_back(importance(t, name));
        attribution_section(pg, imps.back(), t.num_rows());
      } else if (t.find("probability") && t.find("random_probability")) {
        curve_table(pg, t, " — " + name);
      } else {
        generic_table(pg, t, "Table (" + name + ")");
      }
    } else if (v.kind == MIEN_VALUE_STRING) {
      pg.section("Text" + label);
      pg.body << "<pre>" << esc(ctx.text(kItems, i).substr(0, 20000)) << "</pre>\n";
    } else {
      pg.section("Value" + label);
      pg.body << "<p>A " << (v.kind == MIEN_VALUE_MODEL ? "model" : "tensor") << " value; nothing to show.</p>\n";
    }
  }
  if (imps.size() >= 2) comparison_section(pg, imps);
  pg.close();

  // ---- assemble
  std::ostringstream html;
  html << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>" << esc(title) << "</title>\n<style>" << kStyle
       << "</style>\n<script>" << kScript << "</script>\n</head>\n<body>\n<header><h1>" << esc(title) << "</h1></header>\n<nav>";
  for (const auto& [id, t] : pg.toc) html << "<a href=\"#" << id << "\">" << esc(t) << "</a>";
  html << "</nav>\n<main>\n";
  if (pg.toc.empty()) html << "<p>Nothing to report: no run summary was found and no items were attached.</p>\n";
  html << pg.body.str() << "</main>\n<footer><p style=\"padding:0 28px;color:#777;font-size:12px\">Written by report.html (mien). "
       << "Each chart is also a standalone SVG file in nodes/" << esc(folder_name(node_)) << "/files/charts/.</p></footer>\n</body>\n</html>\n";
  const std::string text = html.str();
  write_file(out_dir + "/report.html", text);
  if (copy_ && !run_dir.empty()) write_file_atomic(run_dir + "/report.html", text);
  write_file(out_dir + "/charts.json", Json(pg.chart_files).dump(2));
  ctx.set(kHeadline, Json{{"title", title}, {"rows", headline_rows(head_items)}});
  ctx.set_text(kHtml, copy_ && !run_dir.empty() ? std::string("report.html") : "nodes/" + folder_name(node_) + "/files/report.html");
}

}  // namespace mien::report
