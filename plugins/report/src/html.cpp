// report.html: one self-contained HTML page of the run (no network, no external files).
#include "components.hpp"

#ifdef MIEN_REPORT_HAVE_RSVG
#include <cairo-pdf.h>
#include <cairo.h>
#include <librsvg/rsvg.h>
#endif

#include <algorithm>
#include <cmath>
#include <cstring>
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

// ---------------------------------------------------------------- paper tables
// A table shown in the page and written to paper/ as CSV, Markdown and LaTeX (booktabs).
struct PaperTable {
  std::string name;     // file stem, says what it shows ("classification_by_arm")
  std::string caption;  // one sentence
  std::vector<std::string> head;
  std::vector<std::vector<std::string>> rows;
  size_t text_columns = 1;  // the first columns are left-aligned labels, the rest numbers
};

std::string csv_cell(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string o = "\"";
  for (char c : s) o += c == '"' ? std::string("\"\"") : std::string(1, c);
  return o + "\"";
}

std::string tex_cell(const std::string& s) {
  std::string o;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (s.compare(i, 3, "\xe2\x80\x93") == 0) o += "--", i += 2;         // en dash
    else if (s.compare(i, 2, "\xc3\x97") == 0) o += "$\\times$", i += 1;  // multiplication sign
    else if (s.compare(i, 2, "\xc2\xb1") == 0) o += "$\\pm$", i += 1;
    else if (c == '\\') o += "\\textbackslash{}";
    else if (c == '~') o += "\\textasciitilde{}";
    else if (c == '^') o += "\\textasciicircum{}";
    else if (c == '|') o += "\\textbar{}";
    else if (c == '<' || c == '>') o += std::string("$") + c + "$";
    else if (std::strchr("&%$#_{}", c)) o += std::string("\\") + c;
    else o += c;
  }
  return o;
}

std::string md_cell(const std::string& s) {
  std::string o;
  for (char c : s) o += c == '|' ? std::string("\\|") : std::string(1, c);
  return o;
}

std::string table_csv(const PaperTable& t) {
  std::ostringstream o;
  for (size_t c = 0; c < t.head.size(); ++c) o << (c ? "," : "") << csv_cell(t.head[c]);
  o << "\n";
  for (const auto& r : t.rows) {
    for (size_t c = 0; c < t.head.size(); ++c) o << (c ? "," : "") << csv_cell(c < r.size() ? r[c] : "");
    o << "\n";
  }
  return o.str();
}

std::string table_markdown(const PaperTable& t) {
  std::ostringstream o;
  o << "<!-- " << t.caption << " -->\n|";
  for (const auto& h : t.head) o << " " << md_cell(h) << " |";
  o << "\n|";
  for (size_t c = 0; c < t.head.size(); ++c) o << (c < t.text_columns ? "---|" : "---:|");
  o << "\n";
  for (const auto& r : t.rows) {
    o << "|";
    for (size_t c = 0; c < t.head.size(); ++c) o << " " << md_cell(c < r.size() ? r[c] : "") << " |";
    o << "\n";
  }
  return o.str();
}

// A table environment with booktabs rules (\usepackage{booktabs}).
std::string table_latex(const PaperTable& t) {
  std::ostringstream o;
  o << "% " << t.caption << "\n% needs \\usepackage{booktabs}\n\\begin{table}[ht]\n\\centering\n\\caption{" << tex_cell(t.caption)
    << "}\n\\label{tab:" << t.name << "}\n\\begin{tabular}{";
  for (size_t c = 0; c < t.head.size(); ++c) o << (c < t.text_columns ? "l" : "r");
  o << "}\n\\toprule\n";
  for (size_t c = 0; c < t.head.size(); ++c) o << (c ? " & " : "") << tex_cell(t.head[c]);
  o << " \\\\\n\\midrule\n";
  for (const auto& r : t.rows) {
    for (size_t c = 0; c < t.head.size(); ++c) o << (c ? " & " : "") << tex_cell(c < r.size() ? r[c] : "");
    o << " \\\\\n";
  }
  o << "\\bottomrule\n\\end{tabular}\n\\end{table}\n";
  return o.str();
}

// Vector and raster copies of an SVG figure (librsvg over cairo): PDF, and PNG at 300 dpi.
// Returns the extensions written besides .svg.
std::vector<std::string> convert_svg(const std::string& svg_path, const std::string& stem, const Host& host) {
#ifdef MIEN_REPORT_HAVE_RSVG
  GError* err = nullptr;
  RsvgHandle* h = rsvg_handle_new_from_file(svg_path.c_str(), &err);
  if (!h) {
    host.warn("report.html: librsvg cannot read " + svg_path + ": " + (err ? err->message : "?"));
    if (err) g_error_free(err);
    return {};
  }
  gdouble w = 0, hgt = 0;
  if (!rsvg_handle_get_intrinsic_size_in_pixels(h, &w, &hgt) || w <= 0 || hgt <= 0) w = 560, hgt = 320;
  std::vector<std::string> made;
  const RsvgRectangle full{0, 0, w, hgt};
  // PDF: SVG pixels are CSS pixels (1/96 in), PDF points are 1/72 in.
  if (cairo_surface_t* pdf = cairo_pdf_surface_create((stem + ".pdf").c_str(), w * 72.0 / 96.0, hgt * 72.0 / 96.0)) {
    cairo_t* cr = cairo_create(pdf);
    cairo_scale(cr, 72.0 / 96.0, 72.0 / 96.0);
    const bool ok = rsvg_handle_render_document(h, cr, &full, nullptr);
    cairo_destroy(cr);
    cairo_surface_finish(pdf);
    if (ok && cairo_surface_status(pdf) == CAIRO_STATUS_SUCCESS) made.push_back("pdf");
    cairo_surface_destroy(pdf);
  }
  const double k = 300.0 / 96.0;  // 300 dpi
  cairo_surface_t* png = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, static_cast<int>(std::ceil(w * k)),
                                                    static_cast<int>(std::ceil(hgt * k)));
  cairo_t* cr = cairo_create(png);
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_paint(cr);
  cairo_scale(cr, k, k);
  const bool ok = rsvg_handle_render_document(h, cr, &full, nullptr);
  cairo_destroy(cr);
  if (ok && cairo_surface_write_to_png(png, (stem + ".png").c_str()) == CAIRO_STATUS_SUCCESS) made.push_back("png");
  cairo_surface_destroy(png);
  g_object_unref(h);
  return made;
#else
  (void)svg_path, (void)stem, (void)host;
  return {};
#endif
}

// ---------------------------------------------------------------- the page
// The page is built in groups (results first, run details last); each group holds titled
// subsections. Only groups are in the table of contents.
enum Group { kResults, kClassification, kQuality, kAgreement, kTruth, kImageQuality, kImportance, kGalleries, kOther, kRunDetails, kGroupCount };
const char* const kGroupTitles[kGroupCount] = {"Results",
                                               "Classification by arm",
                                               "Fidelity and explanation accuracy over n",
                                               "Agreement between explainers",
                                               "Ground truth",
                                               "Image explanations: deletion and insertion",
                                               "Feature importance",
                                               "Explained faces",
                                               "Other outputs",
                                               "Run details"};
const char* const kGroupIds[kGroupCount] = {"results", "classification", "fidelity", "agreement", "truth",
                                            "image", "importance", "faces", "other", "run"};

class Page {
 public:
  Page(std::string paper_dir, const Host& host) : paper_dir_(std::move(paper_dir)), host_(host) {}
  struct Figure {
    std::string file, title;
    std::vector<std::string> formats;
  };
  std::vector<Figure> figures;
  std::vector<PaperTable> tables;
  std::vector<std::pair<std::string, std::string>> subsections;  // title, binding (for tests and tools)

  std::ostringstream& out() { return bodies_[cur_]; }
  // A titled subsection of a group; binding names the matrix copy it belongs to ("pose S").
  void section(Group g, const std::string& title, const std::string& binding = "") {
    close();
    cur_ = g;
    const std::string id = std::string(kGroupIds[g]) + "-" + std::to_string(++count_);
    bodies_[g] << "<div class=\"sub\" id=\"" << id << "\" data-binding=\"" << esc(binding) << "\"><h3>" << esc(title) << "</h3>\n";
    subsections.emplace_back(title, binding);
    open_ = true;
  }
  void close() {
    if (open_) bodies_[cur_] << "</div>\n";
    open_ = false;
  }
  bool empty(Group g) const { return bodies_[g].str().empty(); }
  std::string body(Group g) const { return bodies_[g].str(); }

  // Embeds the chart and writes it to paper/ as SVG (+ PDF and 300-dpi PNG).
  void chart(const std::string& name, const std::string& svg, const std::string& title = "") {
    out() << "<figure>" << svg << "<figcaption>" << figure_links(add_figure(name, svg, title)) << "</figcaption></figure>\n";
  }
  // Writes the figure files; returns its index in figures.
  size_t add_figure(const std::string& name, const std::string& svg, const std::string& title) {
    std::string file = slug(name);
    for (int k = 2; used_.count(file); ++k) file = slug(name) + "_" + std::to_string(k);
    used_.insert(file);
    Figure f{file, title.empty() ? name : title, {}};
    if (!paper_dir_.empty()) {
      std::string standalone = svg;
      standalone.insert(4, " xmlns=\"http://www.w3.org/2000/svg\"");
      fs::create_directories(paper_dir_);
      const std::string stem = paper_dir_ + "/" + file;
      write_file(stem + ".svg", "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + standalone + "\n");
      f.formats.push_back("svg");
      for (const auto& ext : convert_svg(stem + ".svg", stem, host_)) f.formats.push_back(ext);
    }
    figures.push_back(f);
    return figures.size() - 1;
  }
  std::string figure_links(size_t i) const {
    if (paper_dir_.empty()) return "";
    std::string s = "<span class=\"exports\">" + esc(figures[i].title) + ": ";
    for (const auto& ext : figures[i].formats)
      s += "<a href=\"@PAPER@/" + esc(figures[i].file) + "." + ext + "\">" + ext + (ext == "png" ? " 300 dpi" : "") + "</a> ";
    return s + "</span>";
  }
  // Shows the table and writes it to paper/ as CSV, Markdown and LaTeX.
  void table(const PaperTable& t, const std::string& cls = "") {
    PaperTable named = t;
    for (int k = 2; used_.count(named.name); ++k) named.name = t.name + "_" + std::to_string(k);
    used_.insert(named.name);
    out() << "<table" << (cls.empty() ? "" : " class=\"" + cls + "\"") << "><caption>" << esc(named.caption);
    if (!paper_dir_.empty()) {
      fs::create_directories(paper_dir_);
      write_file(paper_dir_ + "/" + named.name + ".csv", table_csv(named));
      write_file(paper_dir_ + "/" + named.name + ".md", table_markdown(named));
      write_file(paper_dir_ + "/" + named.name + ".tex", table_latex(named));
      out() << " <span class=\"exports\">";
      for (const char* ext : {"csv", "md", "tex"})
        out() << "<a href=\"@PAPER@/" << esc(named.name) << "." << ext << "\">" << ext << "</a> ";
      out() << "</span>";
    }
    out() << "</caption><tr>";
    for (size_t c = 0; c < named.head.size(); ++c) out() << "<th" << (c < named.text_columns ? " class=\"l\"" : "") << ">" << esc(named.head[c]) << "</th>";
    out() << "</tr>\n";
    for (const auto& r : named.rows) {
      out() << "<tr>";
      for (size_t c = 0; c < named.head.size(); ++c)
        out() << "<td" << (c < named.text_columns ? " class=\"l\"" : "") << ">" << esc(c < r.size() ? r[c] : "") << "</td>";
      out() << "</tr>\n";
    }
    out() << "</table>\n";
    tables.push_back(named);
  }
  // figures.md: every figure and table of paper/ with what it shows.
  void write_index(const std::string& title) const {
    if (paper_dir_.empty() || (figures.empty() && tables.empty())) return;
    std::ostringstream o;
    o << "# Figures and tables: " << title << "\n\nWritten by report.html. Figures: SVG and PDF (vector), PNG at 300 dpi. "
      << "Tables: CSV, Markdown, LaTeX (booktabs: `\\usepackage{booktabs}`).\n\n## Figures\n\n";
    for (const auto& f : figures) {
      o << "- **" << f.title << "**:";
      for (const auto& ext : f.formats) o << " [" << ext << "](" << f.file << "." << ext << ")";
      o << "\n";
    }
    o << "\n## Tables\n\n";
    for (const auto& t : tables) o << "- **" << t.caption << "**: [csv](" << t.name << ".csv) [md](" << t.name << ".md) [tex](" << t.name << ".tex)\n";
    write_file(paper_dir_ + "/figures.md", o.str());
  }

 private:
  std::string paper_dir_;
  const Host& host_;
  std::set<std::string> used_;
  std::ostringstream bodies_[kGroupCount];
  Group cur_ = kOther;
  int count_ = 0;
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
h3{font-size:15px;margin:10px 0 6px}.sub{margin:0 0 14px}caption{text-align:left;font-size:13px;padding:2px 0 4px;color:#333}
.exports{font-size:11px;color:#666;margin-left:6px}.exports a{margin-right:4px}figcaption{font-size:11px;color:#555}
header p.status{margin:6px 0 0;font-size:14px}header a{color:#cfe3ff}header .failed{margin:6px 0 0;font-size:13px}
.status.partial b{color:#ffb3b3}table.compare td,table.compare th{font-size:13px;padding:3px 7px}
.grid,.results .subs>.sub .grid{display:flex;flex-wrap:wrap;gap:6px}.grid figure{margin:0}.grid svg.chart{width:400px;height:229px}
.faces{display:flex;flex-wrap:wrap;gap:10px}.face{margin:0;max-width:660px}.face img{max-width:100%;height:auto}
.agreement .subs,.truth .subs{display:flex;flex-wrap:wrap;gap:0 28px}details.data summary{font-size:12px;color:#555}
section.run details{margin:4px 0}
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

void classification(Page& pg, const Json& j, const std::string& title, const std::string& binding) {
  pg.section(kClassification, title, binding);
  auto ci = [&](const char* key) {
    std::string s = num(jnum(j.value(key, Json())), 3);
    if (j.contains("bootstrap") && j["bootstrap"].is_object() && j["bootstrap"].contains(key)) {
      const auto& b = j["bootstrap"][key];
      s += " [" + num(jnum(b.value("low", Json())), 3) + ", " + num(jnum(b.value("high", Json())), 3) + "]";
    }
    return s;
  };
  pg.out() << "<table><tr><th class=\"l\">metric</th><th>value";
  if (j.contains("bootstrap") && j["bootstrap"].is_object())
    pg.out() << " [" << esc(num(jnum(j["bootstrap"].value("confidence", Json())) * 100, 0)) << "% CI]";
  pg.out() << "</th></tr>";
  pg.out() << "<tr><td class=\"l\">samples</td><td>" << esc(j.value("n", Json()).dump()) << "</td></tr>";
  pg.out() << "<tr><td class=\"l\">accuracy</td><td>" << esc(ci("accuracy")) << "</td></tr>";
  pg.out() << "<tr><td class=\"l\">balanced accuracy</td><td>" << esc(ci("balanced_accuracy")) << "</td></tr>";
  pg.out() << "<tr><td class=\"l\">macro F1</td><td>" << esc(num(jnum(j.value("macro_f1", Json())))) << "</td></tr></table>\n";
  if (j.contains("confusion") && j["confusion"].is_object()) {
    const auto& c = j["confusion"];
    const auto classes = c.value("classes", std::vector<std::string>());
    pg.out() << "<h3>Confusion matrix (rows: true, columns: predicted; colour: row share)</h3><table class=\"confusion\"><tr><th></th>";
    for (const auto& k : classes) pg.out() << "<th>" << esc(short_label(k)) << "</th>";
    pg.out() << "</tr>";
    for (size_t r = 0; r < classes.size(); ++r) {
      pg.out() << "<tr><th class=\"l\">" << esc(classes[r]) << "</th>";
      for (size_t k = 0; k < classes.size(); ++k) {
        const double share = c.contains("normalized") ? jnum(c["normalized"][r][k]) : 0;
        const Json cnt = c.contains("counts") ? c["counts"][r][k] : Json();
        pg.out() << "<td style=\"" << cell_colour(share) << "\" title=\"" << esc(num(share * 100, 1)) << "%\">" << esc(cnt.dump()) << "</td>";
      }
      pg.out() << "</tr>";
    }
    pg.out() << "</table>\n";
  }
  if (j.contains("per_class") && j["per_class"].is_object()) {
    pg.out() << "<h3>Per class</h3><table><tr><th class=\"l\">class</th><th>precision</th><th>recall</th><th>F1</th><th>support</th></tr>";
    for (auto it = j["per_class"].begin(); it != j["per_class"].end(); ++it)
      pg.out() << "<tr><td class=\"l\">" << esc(it.key()) << "</td><td>" << num(jnum(it->value("precision", Json()))) << "</td><td>"
              << num(jnum(it->value("recall", Json()))) << "</td><td>" << num(jnum(it->value("f1", Json()))) << "</td><td>"
              << esc(it->value("support", Json()).dump()) << "</td></tr>";
    pg.out() << "</table>\n";
  }
  if (j.contains("groups") && j["groups"].is_object()) {
    pg.out() << "<h3>By " << esc(j.value("group_by", std::string("group"))) << "</h3><table><tr><th class=\"l\">group</th><th>n</th><th>accuracy</th></tr>";
    for (auto it = j["groups"].begin(); it != j["groups"].end(); ++it)
      pg.out() << "<tr><td class=\"l\">" << esc(it.key()) << "</td><td>" << esc(it->value("n", Json()).dump()) << "</td><td>"
              << num(jnum(it->value("accuracy", Json()))) << "</td></tr>";
    pg.out() << "</table>\n";
  }
}

std::vector<double> jvec(const Json& j, const char* key) {
  std::vector<double> v;
  if (j.contains(key) && j[key].is_array())
    for (const auto& e : j[key]) v.push_back(jnum(e));
  return v;
}

// The numbers over n (the chart is in Results, or drawn here for top-n weight).
void curve_metric(Page& pg, const Json& j, const std::string& label, const std::string& binding) {
  const std::string m = j.value("metric", std::string());
  pg.section(kQuality, (m == "top_n_weight" ? std::string("Top-n weight") : "Fidelity and explanation accuracy over n") + label, binding);
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
  if (m == "top_n_weight") pg.chart("top_n_weight" + label, line_chart("Top-n weight" + label, "n (top features kept)", "share", s));
  pg.out() << "<table><tr><th>n</th>";
  for (const auto& x : s) pg.out() << "<th>" << esc(x.name) << "</th>";
  pg.out() << "</tr>";
  for (size_t i = 0; i < n.size(); ++i) {
    pg.out() << "<tr><td>" << esc(format_value(n[i])) << "</td>";
    for (const auto& x : s) pg.out() << "<td>" << (i < x.y.size() ? num(x.y[i]) : "") << "</td>";
    pg.out() << "</tr>";
  }
  pg.out() << "</table>\n";
}

// A value as table text: numbers formatted, short lists of scalars joined; "" for anything
// nested (that stays in the "data" detail).
std::string cell_text(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_float()) return num(v.get<double>(), 4);
  if (v.is_number() || v.is_boolean()) return v.dump();
  if (v.is_array() && v.size() <= 12) {
    std::string s;
    for (const auto& e : v) {
      if (e.is_structured()) return "";
      s += (s.empty() ? "" : ", ") + cell_text(e);
    }
    return s;
  }
  return "";
}

void data_detail(Page& pg, const Json& j) {
  pg.out() << "<details class=\"data\"><summary>data</summary><pre>" << esc(j.dump(2).substr(0, 20000)) << "</pre></details>\n";
}

void scalar_json(Page& pg, Group g, const Json& j, const std::string& title, const std::string& binding) {
  pg.section(g, title, binding);
  pg.out() << "<table>";
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string t = cell_text(*it);
    if (t.empty()) continue;
    pg.out() << "<tr><td class=\"l\">" << esc(it.key()) << "</td><td class=\"l\">" << esc(t) << "</td></tr>";
  }
  pg.out() << "</table>\n";
  data_detail(pg, j);
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

void attribution_section(Page& pg, const Importance& imp, int64_t rows, const std::string& binding) {
  pg.section(kImportance, "Global feature importance — " + imp.name + (binding.empty() ? "" : ", " + binding), binding);
  std::vector<size_t> order(imp.features.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return imp.mean_abs[a] > imp.mean_abs[b]; });
  std::vector<std::string> labels;
  std::vector<double> values;
  for (size_t i : order) labels.push_back(imp.features[i]), values.push_back(imp.mean_abs[i]);
  pg.out() << "<p>Mean |attribution| of the explained (predicted) class over " << rows << " row(s).</p>\n";
  const std::string what = imp.name + (binding.empty() ? "" : ", " + binding);
  pg.chart("importance " + what, bar_chart("Mean |attribution|: " + what, labels, values, ""), "Global feature importance, " + what);
}

void comparison_section(Page& pg, const std::vector<Importance>& imps, const std::string& binding) {
  pg.section(kImportance, "Explainer comparison: share of importance" + (binding.empty() ? "" : " — " + binding), binding);
  std::vector<std::string> feats;
  std::set<std::string> seen;
  for (const auto& i : imps)
    for (const auto& f : i.features)
      if (seen.insert(f).second) feats.push_back(f);
  pg.out() << "<p>Share of the total mean |attribution| (rank in brackets).</p><table><tr><th class=\"l\">feature</th>";
  for (const auto& i : imps) pg.out() << "<th>" << esc(i.name) << "</th>";
  pg.out() << "</tr>";
  for (const auto& f : feats) {
    pg.out() << "<tr><td class=\"l\">" << esc(f) << "</td>";
    for (const auto& i : imps) {
      double total = 0, v = -1;
      for (size_t k = 0; k < i.features.size(); ++k) {
        total += i.mean_abs[k];
        if (i.features[k] == f) v = i.mean_abs[k];
      }
      if (v < 0) {
        pg.out() << "<td></td>";
        continue;
      }
      int rank = 1;
      for (double o : i.mean_abs) rank += o > v ? 1 : 0;
      pg.out() << "<td>" << num(total > 0 ? 100 * v / total : 0, 1) << "% (" << rank << ")</td>";
    }
    pg.out() << "</tr>";
  }
  pg.out() << "</table>\n";
}

void curve_table(Page& pg, const TableView& t, const std::string& name, const std::string& binding) {
  const std::string m = t.meta().value("metric", std::string("deletion"));
  pg.section(kImageQuality, (m == "insertion" ? "Insertion curve" : "Deletion curve") + name, binding);
  const auto xcol = t.find("fraction") ? t.find("fraction") : t.find("k");
  std::vector<double> x = xcol ? xcol->numbers() : std::vector<double>();
  if (x.empty())
    for (int64_t r = 0; r < t.num_rows(); ++r) x.push_back(static_cast<double>(r));
  std::vector<Series> s{{"probability", x, t.get("probability").numbers()},
                        {"random order", x, t.get("random_probability").numbers(), true}};
  pg.chart(m + name, line_chart(m + " curve" + name, xcol ? xcol->name() : "step", "probability of the class", s));
  const Json meta = t.meta();
  if (meta.contains("auc"))
    pg.out() << "<p>AUC " << num(jnum(meta["auc"])) << " (random " << num(jnum(meta.value("random_auc", Json()))) << "; "
            << esc(meta.value("better", std::string())) << " is better)</p>\n";
}

void generic_table(Page& pg, const TableView& t, const std::string& title, const std::string& binding) {
  pg.section(kOther, title, binding);
  pg.out() << "<p>" << t.num_rows() << " rows, " << t.num_columns() << " columns";
  if (t.num_rows() > 20) pg.out() << " (first 20 shown)";
  pg.out() << ".</p><table><tr>";
  for (uint32_t c = 0; c < t.num_columns(); ++c) pg.out() << "<th>" << esc(t.column(c).name()) << "</th>";
  pg.out() << "</tr>";
  for (int64_t r = 0; r < std::min<int64_t>(20, t.num_rows()); ++r) {
    pg.out() << "<tr>";
    for (uint32_t c = 0; c < t.num_columns(); ++c) {
      const auto col = t.column(c);
      pg.out() << "<td>" << esc(col.is_string() || col.categories().size() ? col.text(r) : format_value(col.number(r))) << "</td>";
    }
    pg.out() << "</tr>";
  }
  pg.out() << "</table>\n";
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
    // A share (fidelity, explanation accuracy) and how many samples it is a share of, so
    // the copies of one matrix node (folds, poses) can be pooled: sum(share * n) / sum(n).
    double share = NAN, random_share = NAN, weight = NAN;
  };
  std::vector<Row> rows;
  for (const auto& [where, j] : items) {
    auto add = [&, w = where](const std::string& label, const std::string& value) { rows.push_back({label, value, w}); };
    auto add_share = [&](const std::string& label, const std::string& value, double share, double random_share,
                         const char* weight_key) {
      add(label, value);
      rows.back().share = share;
      rows.back().random_share = random_share;
      if (j.contains(weight_key) && j[weight_key].is_number()) rows.back().weight = j[weight_key].get<double>();
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
      // Named by the arm scored (metric.classification's `arm`) when the experiment names it,
      // so "accuracy of face-api fine-tuned" reads as a result, not as a node path.
      const std::string arm = j.contains("arm") && j["arm"].is_string() ? j["arm"].get<std::string>() : "";
      const std::string what = arm.empty() ? "accuracy" : "accuracy of " + arm;
      // "accuracy (pose S)", or with an arm (which may hold parentheses) "accuracy of X, pose S".
      const auto scope = [&](const std::string& s) { return arm.empty() ? " (" + s + ")" : ", " + s; };
      add(what + (grouped ? scope("all " + j.value("group_by", std::string("group")) + "s together") : ""), v);
      if (grouped) {
        std::vector<std::string> order = j.value("group_order", std::vector<std::string>());
        for (auto it = j["groups"].begin(); it != j["groups"].end(); ++it)
          if (std::find(order.begin(), order.end(), it.key()) == order.end()) order.push_back(it.key());
        for (const auto& g : order)
          if (j["groups"].contains(g))
            add(what + scope(j.value("group_by", std::string("group")) + " " + g), fmt2(jnum(j["groups"][g].value("accuracy", Json()))));
      }
    } else if (m == "fidelity" || m == "explanation_accuracy") {
      double v = 0, r = 0;
      int n = 0, nr = 0;
      const std::string who = by.empty() ? "" : " (" + by + ")";
      if (at_n5(j, "fidelity", &v, &n)) {
        std::string val = fmt2(v);
        const bool has_random = at_n5(j, "random_fidelity", &r, &nr);
        if (has_random) val += " (random " + fmt2(r) + ")";
        add_share("fidelity at n=" + std::to_string(n) + who, val, v, has_random ? r : NAN, "samples");
      }
      if (at_n5(j, "accuracy", &v, &n)) {
        std::string val = fmt2(v);
        const bool has_random = at_n5(j, "random_accuracy", &r, &nr);
        if (has_random) val += " (random " + fmt2(r) + ")";
        add_share("explanation accuracy at n=" + std::to_string(n) + who, val, v, has_random ? r : NAN, "labelled");
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
  // One label from several nodes (fidelity of two arms, say): each node keeps its own rows,
  // named by the node, so copies are pooled only within one node, never across arms.
  const auto node_part = [](const std::string& where) { return where.substr(0, where.find_first_of("[.")); };
  std::map<std::string, int> seen;  // rows per (final) label
  {
    std::map<std::string, std::set<std::string>> nodes_of;
    for (const auto& r : rows)
      if (!r.where.empty() && r.where.rfind("item ", 0) != 0) nodes_of[r.label].insert(node_part(r.where));
    for (auto& r : rows) {
      const auto it = nodes_of.find(r.label);
      if (it != nodes_of.end() && it->second.size() > 1) r.label += " — " + node_part(r.where);
      ++seen[r.label];
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
  // Shares of the copies merged into one row: pooled over the copies (weighted by their
  // samples) and mean ± sd over the copies, beside the per-copy figures.
  struct Pool {
    double weighted = 0, weighted_random = 0, weight = 0, sum = 0, sum_sq = 0;
    int count = 0;
    bool weighted_ok = true, random_ok = true;
  };
  std::map<std::string, Pool> pools;
  for (const auto& r : rows) {
    if (!(seen[r.label] > 1 && all_copies[r.label]) || !std::isfinite(r.share)) continue;
    Pool& p = pools[r.label];
    ++p.count;
    p.sum += r.share;
    p.sum_sq += r.share * r.share;
    if (std::isfinite(r.weight) && r.weight > 0) {
      p.weighted += r.share * r.weight;
      p.weight += r.weight;
      if (std::isfinite(r.random_share)) p.weighted_random += r.random_share * r.weight;
      else p.random_ok = false;
    } else {
      p.weighted_ok = false;
    }
  }
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
  for (const auto& [label, p] : pools) {
    if (p.count < 2 || !merged_at.count(label) || p.count != seen[label]) continue;
    const double mean = p.sum / p.count;
    const double sd = std::sqrt(std::max(0.0, (p.sum_sq - p.count * mean * mean) / (p.count - 1)));
    std::string v;
    if (p.weighted_ok && p.weight > 0) {
      v += "; pooled " + fmt2(p.weighted / p.weight);
      if (p.random_ok) v += " (random " + fmt2(p.weighted_random / p.weight) + ")";
    }
    v += "; mean ± sd over " + std::to_string(p.count) + " " + fmt2(mean) + " ± " + fmt2(sd);
    Json& row = out[merged_at[label]];
    row["value"] = row["value"].get<std::string>() + v;
  }
  return out;
}

namespace {

std::string gallery_kind(const std::string& kind) {
  return kind == "report.geometric" ? "Geometric explanations" : kind == "report.heatmap" ? "Heat maps" : "Comparison sheets";
}

void gallery(Page& pg, const Json& ex, const std::string& run_dir, int max_images, int index, const Host& host,
             const std::string& binding) {
  const std::string kind = ex.value("report", std::string("report"));
  const std::string node = ex.value("node", std::string());
  pg.section(kGalleries, gallery_kind(kind) + " — " + (binding.empty() ? node : binding + " (" + node + ")"), binding);
  const std::string gid = "gallery" + std::to_string(index);
  std::set<std::string> classes, poses;
  for (const auto& s : ex["samples"]) {
    if (s.contains("true") && s["true"].is_string()) classes.insert(s["true"].get<std::string>());
    if (s.contains("groups") && s["groups"].contains("pose")) poses.insert(s["groups"]["pose"].get<std::string>());
  }
  pg.out() << "<div id=\"" << gid << "\"><div class=\"filters\">class <select name=\"class\" onchange=\"mienFilter('" << gid
          << "')\"><option value=\"\">all</option>";
  for (const auto& c : classes) pg.out() << "<option value=\"" << esc(c) << "\">" << esc(c) << "</option>";
  pg.out() << "</select>correct <select name=\"correct\" onchange=\"mienFilter('" << gid
          << "')\"><option value=\"\">all</option><option value=\"yes\">yes</option><option value=\"no\">no</option></select>";
  if (!poses.empty()) {
    pg.out() << "pose <select name=\"pose\" onchange=\"mienFilter('" << gid << "')\"><option value=\"\">all</option>";
    for (const auto& p : poses) pg.out() << "<option value=\"" << esc(p) << "\">" << esc(p) << "</option>";
    pg.out() << "</select>";
  }
  pg.out() << "<span class=\"count\"></span></div><div class=\"cards\">\n";
  int shown = 0, missing = 0;
  for (const auto& s : ex["samples"]) {
    if (shown >= max_images) break;
    ++shown;
    const std::string truth = s.contains("true") && s["true"].is_string() ? s["true"].get<std::string>() : "";
    const std::string pred = s.contains("predicted") && s["predicted"].is_string() ? s["predicted"].get<std::string>() : "";
    const std::string correct = s.contains("correct") && s["correct"].is_boolean() ? (s["correct"].get<bool>() ? "yes" : "no") : "";
    const std::string pose = s.contains("groups") && s["groups"].contains("pose") ? s["groups"]["pose"].get<std::string>() : "";
    pg.out() << "<div class=\"card\" data-class=\"" << esc(truth) << "\" data-correct=\"" << correct << "\" data-pose=\"" << esc(pose)
            << "\"><b>" << esc(s.value("id", std::string())) << "</b>";
    // The prediction when the run knows it; a heat map without a prediction shows the truth only.
    if (!pred.empty()) pg.out() << " predicted " << esc(paper_label(pred));
    if (!truth.empty()) pg.out() << (pred.empty() ? " true " : ", true ") << esc(paper_label(truth));
    if (!correct.empty()) pg.out() << " <span class=\"" << (correct == "yes" ? "ok\">correct" : "bad\">incorrect") << "</span>";
    if (!pose.empty()) pg.out() << ", pose " << esc(pose);
    if (s.contains("files") && s["files"].is_object()) {
      for (const char* key : {"explanation", "probabilities"}) {
        if (!s["files"].contains(key)) continue;
        const std::string file = s["files"][key].get<std::string>();
        const std::string path = find_report_file(run_dir, ex, file);
        if (path.empty()) {
          ++missing;
          pg.out() << "<p>(" << esc(file) << " not found)</p>";
          continue;
        }
        pg.out() << "<img alt=\"" << esc(file) << "\" src=\"data:image/png;base64," << base64(read_file(path)) << "\">";
      }
    }
    if (s.contains("text") && s["text"].is_string()) pg.out() << "<pre>" << esc(s["text"].get<std::string>()) << "</pre>";
    pg.out() << "</div>\n";
  }
  pg.out() << "</div></div>\n";
  if (missing) host.warn("report.html: " + std::to_string(missing) + " gallery image(s) of " + kind + " were not found");
}

// ---------------------------------------------------------------- the run's graph
// Who feeds whom, read back from resolved.yaml (the host writes one node per "  name:" line,
// "    use: type@version" and "      port: ref" or "[refs]"), and each copy's matrix binding
// from the manifest, so a result can be labelled by its model and pose instead of an item number.
struct RunGraph {
  std::map<std::string, std::string> use;                                        // node -> component type
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> inputs;  // node -> (port, source node)
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> matrix;  // node -> (key, value)
};

std::string unquote(std::string s) {
  while (!s.empty() && s.back() == ' ') s.pop_back();
  while (!s.empty() && s.front() == ' ') s.erase(s.begin());
  if (s.size() >= 2 && s.front() == '"') try {
      return Json::parse(s).get<std::string>();
    } catch (...) {
    }
  return s;
}

std::vector<std::string> flow_list(const std::string& v) {
  std::vector<std::string> out;
  if (v.empty() || v.front() != '[') return {unquote(v)};
  std::string cur;
  bool quoted = false;
  for (size_t i = 1; i + 1 < v.size(); ++i) {
    const char c = v[i];
    if (c == '"') quoted = !quoted;
    if (c == ',' && !quoted) out.push_back(unquote(cur)), cur.clear();
    else cur += c;
  }
  if (!unquote(cur).empty()) out.push_back(unquote(cur));
  return out;
}

// "fidelity[S].summary" -> "fidelity[S]"; "accuracy.metrics" -> "accuracy".
std::string node_of(const std::string& ref) {
  const auto b = ref.find(']');
  if (b != std::string::npos) return ref.substr(0, b + 1);
  return ref.substr(0, ref.find('.'));
}
std::string base_of(const std::string& node) { return node.substr(0, node.find('[')); }

RunGraph read_graph(const std::string& resolved, const Json& manifest) {
  RunGraph g;
  std::istringstream in(resolved);
  std::string line, node;
  bool nodes = false, ins = false;
  while (std::getline(in, line)) {
    if (line == "nodes:") {
      nodes = true;
      continue;
    }
    if (!nodes) continue;
    const size_t ind = line.find_first_not_of(' ');
    if (ind == std::string::npos) continue;
    if (ind == 2 && line.back() == ':') {
      node = unquote(line.substr(2, line.size() - 3)), ins = false;
    } else if (ind == 4) {
      ins = line.compare(4, 3, "in:") == 0;
      if (line.compare(4, 5, "use: ") == 0) g.use[node] = unquote(line.substr(9)).substr(0, unquote(line.substr(9)).find('@'));
    } else if (ind == 6 && ins) {
      const auto colon = line.find(": ");
      if (colon == std::string::npos) continue;
      const std::string port = unquote(line.substr(6, colon - 6));
      for (const auto& ref : flow_list(line.substr(colon + 2))) g.inputs[node].emplace_back(port, node_of(ref));
    }
  }
  if (manifest.is_object() && manifest.contains("nodes") && manifest["nodes"].is_array())
    for (const auto& n : manifest["nodes"])
      if (n.contains("matrix") && n["matrix"].is_object() && n.contains("name"))
        for (auto it = n["matrix"].begin(); it != n["matrix"].end(); ++it)
          g.matrix[n["name"].get<std::string>()].emplace_back(it.key(), it->is_string() ? it->get<std::string>() : it->dump());
  return g;
}

// "pose S" (from the manifest), else the bracket's values ("S"), else "".
std::string binding_of(const RunGraph& g, const std::string& node) {
  auto it = g.matrix.find(node);
  if (it != g.matrix.end()) {
    std::string s;
    for (const auto& [k, v] : it->second) s += (s.empty() ? "" : ", ") + k + " " + v;
    return s;
  }
  const auto a = node.find('['), b = node.find(']');
  return a != std::string::npos && b != std::string::npos && b > a ? node.substr(a + 1, b - a - 1) : "";
}

// The nodes upstream of `node` whose component starts with `prefix` ("model.", "explain."),
// nearest first, not looking past a match.
std::vector<std::string> upstream(const RunGraph& g, const std::string& node, const std::string& prefix) {
  std::vector<std::string> found, queue{node};
  std::set<std::string> seen{node};
  for (size_t q = 0; q < queue.size(); ++q) {
    auto it = g.inputs.find(queue[q]);
    if (it == g.inputs.end()) continue;
    for (const auto& [port, src] : it->second) {
      if (!seen.insert(src).second) continue;
      auto u = g.use.find(src);
      if (u != g.use.end() && u->second.rfind(prefix, 0) == 0) found.push_back(src);
      else queue.push_back(src);
    }
  }
  return found;
}

std::string short_type(const std::string& type) {
  const auto dot = type.find('.');
  return dot == std::string::npos ? type : type.substr(dot + 1);
}

// ---------------------------------------------------------------- the study's results
struct Arm {  // a metric.classification output
  std::string label, model, binding, node;
  Json j;
};
struct Quality {  // a metric.fidelity / explanation_accuracy summary
  std::string explainer, model, binding, node;
  Json j;
};

std::string with_ci(const Json& j, const char* key, int digits = 3) {
  std::string s = num(jnum(j.value(key, Json())), digits);
  if (j.contains("bootstrap") && j["bootstrap"].is_object() && j["bootstrap"].contains(key))
    s += " [" + num(jnum(j["bootstrap"][key].value("low", Json())), digits) + ", " +
         num(jnum(j["bootstrap"][key].value("high", Json())), digits) + "]";
  return s;
}

std::string agreement_name(const std::string& table_name) {  // "0:explain.deep_shap" -> "deep_shap"
  const auto colon = table_name.find(':');
  return short_type(colon == std::string::npos ? table_name : table_name.substr(colon + 1));
}

// ---------------------------------------------------------------- Results (top of the page)
struct RunStatus {
  std::string word;  // finished / partial / cached
  std::string line;  // the sentence under the title
  std::vector<std::pair<std::string, std::string>> failed;  // node, why
};

// The run as this report sees it: every node before it has finished; the manifest's own
// "status" says "running" while the report is being written, so it is not used.
RunStatus run_status_of(const Json& manifest) {
  RunStatus st;
  int ran = 0, cached = 0, total = 0;
  if (manifest.is_object() && manifest.contains("nodes") && manifest["nodes"].is_array())
    for (const auto& n : manifest["nodes"]) {
      const std::string s = n.value("status", std::string());
      ++total;
      if (s == "ran") ++ran;
      else if (s == "cached") ++cached;
      else if (s == "failed" || s == "skipped" || s == "cancelled")
        st.failed.emplace_back(n.value("name", std::string("?")), s + (n.contains("error") && n["error"].is_string() ? ": " + n["error"].get<std::string>() : ""));
    }
  if (total == 0) {
    st.word = "finished";
    st.line = "no run manifest was found";
    return st;
  }
  st.word = !st.failed.empty() ? "partial" : ran == 0 ? "cached" : "finished";
  st.line = std::to_string(total) + " node(s): " + std::to_string(ran) + " ran, " + std::to_string(cached) + " from the cache" +
            (st.failed.empty() ? "" : ", " + std::to_string(st.failed.size()) + " failed or skipped");
  return st;
}

std::string model_label(const RunGraph& g, const std::vector<std::string>& models) {
  std::vector<std::string> bases, types;
  for (const auto& m : models) {
    if (std::find(bases.begin(), bases.end(), base_of(m)) == bases.end()) bases.push_back(base_of(m));
    const auto u = g.use.find(m);
    const std::string t = u == g.use.end() ? "" : u->second;
    if (!t.empty() && std::find(types.begin(), types.end(), t) == types.end()) types.push_back(t);
  }
  std::string s;
  for (const auto& b : bases) s += (s.empty() ? "" : ", ") + b;
  if (!types.empty()) {
    s += " (";
    for (size_t i = 0; i < types.size(); ++i) s += (i ? ", " : "") + types[i];
    s += ")";
  }
  return s;
}

// "pose S, HL, HR" from the models' bindings ("pose S", "pose HL", ...).
std::string bindings_label(const RunGraph& g, const std::vector<std::string>& models) {
  std::string key, vals;
  for (const auto& m : models) {
    const std::string b = binding_of(g, m);
    if (b.empty()) continue;
    const auto sp = b.rfind(' ');
    const std::string k = sp == std::string::npos ? "" : b.substr(0, sp), v = sp == std::string::npos ? b : b.substr(sp + 1);
    if (key.empty()) key = k;
    vals += (vals.empty() ? "" : ", ") + v;
  }
  return vals.empty() ? "" : (key.empty() ? vals : key + " " + vals);
}

PaperTable arm_table(const std::vector<Arm>& arms) {
  PaperTable t{"classification_by_arm", "Test accuracy of each arm (people the models never saw), with 95% bootstrap intervals",
               {"arm", "model", "scored on", "n", "accuracy [95% CI]", "balanced accuracy [95% CI]", "macro F1"}, {}, 3};
  for (const auto& a : arms) {
    const Json& j = a.j;
    t.rows.push_back({a.label, a.model, a.binding.empty() ? "all test rows" : a.binding, cell_text(j.value("n", Json())),
                      with_ci(j, "accuracy"), with_ci(j, "balanced_accuracy"), num(jnum(j.value("macro_f1", Json())))});
    if (j.contains("groups") && j["groups"].is_object()) {
      std::vector<std::string> order = j.value("group_order", std::vector<std::string>());
      for (auto it = j["groups"].begin(); it != j["groups"].end(); ++it)
        if (std::find(order.begin(), order.end(), it.key()) == order.end()) order.push_back(it.key());
      const std::string by = j.value("group_by", std::string("group"));
      for (const auto& gname : order) {
        if (!j["groups"].contains(gname)) continue;
        const Json& gj = j["groups"][gname];
        t.rows.push_back({a.label, a.model, by + " " + gname, cell_text(gj.value("n", Json())), with_ci(gj, "accuracy"),
                          with_ci(gj, "balanced_accuracy"), gj.contains("macro_f1") ? num(jnum(gj["macro_f1"])) : ""});
      }
    }
  }
  return t;
}

struct AgreementItem {
  std::string binding, node;
  Json j;
};
struct TruthItem {
  std::string explainer, model, binding, node;
  Json j;
};

PaperTable quality_table(const std::vector<Quality>& qs, const std::vector<AgreementItem>& agree, const std::vector<TruthItem>& truth) {
  PaperTable t{"explanations_at_n5",
               "Explanations of the geometric models at n = 5 top features, against a random ranking of the features "
               "(fidelity: prediction unchanged; explanation accuracy: still correct)",
               {"explainer", "model", "binding", "fidelity@n", "random", "explanation accuracy@n", "random",
                "Spearman with the other explainers", "ground-truth precision@1"},
               {},
               3};
  for (const auto& q : qs) {
    double v = 0, r = 0;
    int n = 0, nr = 0;
    std::string fid, rf, acc, ra;
    if (at_n5(q.j, "fidelity", &v, &n)) fid = num(v) + (n != 5 ? " (n=" + std::to_string(n) + ")" : "");
    if (at_n5(q.j, "random_fidelity", &r, &nr)) rf = num(r);
    if (at_n5(q.j, "accuracy", &v, &n)) acc = num(v) + (n != 5 ? " (n=" + std::to_string(n) + ")" : "");
    if (at_n5(q.j, "random_accuracy", &r, &nr)) ra = num(r);
    std::string sp;
    for (const auto& a : agree) {
      if (a.binding != q.binding || !a.j.contains("pairs") || !a.j["pairs"].is_array()) continue;
      for (const auto& p : a.j["pairs"]) {
        const std::string an = agreement_name(p.value("a", std::string())), bn = agreement_name(p.value("b", std::string()));
        const std::string me = short_type(q.explainer);
        if (an != me && bn != me) continue;
        sp += (sp.empty() ? "" : "; ") + (an == me ? bn : an) + " " + num(jnum(p.value("spearman", Json())), 2);
      }
    }
    std::string gt;
    for (const auto& tr : truth)
      if (tr.binding == q.binding && short_type(tr.explainer) == short_type(q.explainer) && tr.j.contains("features")) {
        const auto k = jvec(tr.j["features"], "k"), p = jvec(tr.j["features"], "precision");
        for (size_t i = 0; i < k.size() && i < p.size(); ++i)
          if (k[i] == 1) gt = num(p[i]);
      }
    t.rows.push_back({short_type(q.explainer), q.model, q.binding, fid, rf, acc, ra, sp, gt});
  }
  return t;
}

// Saliency-map explanations: deletion / insertion AUC and the ground-truth regions.
struct ImageItem {
  std::string explainer, model, binding, node, metric;
  Json j;
};
PaperTable image_table(const std::vector<ImageItem>& items) {
  PaperTable t{"image_explanations", "Saliency-map explanations of the image models",
               {"explainer", "model", "measure", "value", "control"}, {}, 3};
  for (const auto& it : items) {
    const Json& j = it.j;
    const std::string who = short_type(it.explainer);
    if (it.metric == "ground_truth" && j.contains("image") && j["image"].is_object()) {
      const Json& im = j["image"];
      if (im.contains("mass_mean"))
        t.rows.push_back({who, it.model, "saliency mass inside the AU regions", num(jnum(im["mass_mean"])),
                          im.contains("mask_area_mean") ? "regions' share of the image " + num(jnum(im["mask_area_mean"])) : ""});
      if (im.contains("pointing_rate"))
        t.rows.push_back({who, it.model, "pointing game (top pixel inside a region)", num(jnum(im["pointing_rate"])),
                          im.contains("mask_area_mean") ? "chance about " + num(jnum(im["mask_area_mean"])) : ""});
    } else if (j.contains("auc_mean")) {
      const std::string kind = it.metric.find("insertion") != std::string::npos ? "insertion" : "deletion";
      std::string control;
      for (const char* k : {"random_auc_mean", "random_auc"})
        if (j.contains(k)) control = "random order " + num(jnum(j[k]));
      t.rows.push_back({who, it.model, kind + " AUC (" + j.value("better", std::string(kind == "deletion" ? "lower" : "higher")) + " is better)",
                        num(jnum(j["auc_mean"])), control});
    }
  }
  return t;
}

std::string img_tag(const std::string& path, const std::string& alt) {
  return "<img alt=\"" + esc(alt) + "\" src=\"data:image/png;base64," + base64(read_file(path)) + "\">";
}

}  // namespace

void HtmlReport::process(Context& ctx) {
  const Host& host = ctx.host();
  const std::string run_dir = host.run_dir();
  const std::string out_dir = host.output_dir();
  Page pg(out_dir + "/paper", host);

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
  const RunGraph graph = read_graph(resolved, manifest);
  std::vector<std::string> sources = item_sources(resolved, node_);
  // The host leaves out the items whose nodes failed (the port is MIEN_PORT_PARTIAL): so
  // do the names, or the sections would be named after the wrong nodes.
  std::set<std::string> broken;
  if (manifest.is_object() && manifest.contains("nodes") && manifest["nodes"].is_array())
    for (const auto& n : manifest["nodes"]) {
      const std::string s = n.value("status", std::string());
      if (s == "failed" || s == "skipped" || s == "cancelled") broken.insert(n.value("name", std::string()));
    }
  sources.erase(std::remove_if(sources.begin(), sources.end(), [&](const std::string& r) { return broken.count(node_of(r)) > 0; }),
                sources.end());
  const uint32_t count = ctx.count(kItems);
  const bool sourced = sources.size() == count;

  // ---- first pass: what each item is, for whom (model, explainer, matrix binding)
  std::vector<Arm> arms;
  std::vector<Quality> qualities;
  std::vector<AgreementItem> agreements;
  std::vector<TruthItem> truths;
  std::vector<ImageItem> images;
  std::vector<Json> sheets, geometric, heatmaps;
  std::vector<std::pair<std::string, Json>> head_items;
  auto item_node = [&](uint32_t i) { return sourced ? node_of(sources[i]) : std::string(); };
  auto item_binding = [&](uint32_t i) {
    const std::string node = item_node(i);
    std::string b = binding_of(graph, node);
    if (b.empty()) {  // a node without a matrix that reads one model copy: that copy's binding
      const auto models = upstream(graph, node, "model.");
      if (models.size() == 1) b = binding_of(graph, models[0]);
    }
    return b;
  };
  auto item_explainer = [&](uint32_t i, const Json& j) {
    if (j.is_object() && j.contains("explainer") && j["explainer"].is_string()) return j["explainer"].get<std::string>();
    const auto ex = upstream(graph, item_node(i), "explain.");
    return ex.empty() ? std::string() : graph.use.at(ex[0]);
  };
  std::vector<Json> jsons(count);
  for (uint32_t i = 0; i < count; ++i) {
    if (ctx.value(kItems, i).kind != MIEN_VALUE_JSON) continue;
    try {
      jsons[i] = ctx.json(kItems, i);
    } catch (const std::exception& e) {
      throw Error("report.html: item " + std::to_string(i + 1) + " is not valid JSON: " + e.what());
    }
    const Json& j = jsons[i];
    head_items.emplace_back(sourced ? sources[i] : "item " + std::to_string(i + 1), j);
    if (!j.is_object()) continue;
    const std::string m = j.value("metric", std::string()), node = item_node(i);
    const auto models = upstream(graph, node, "model.");
    const std::string model = model_label(graph, models);
    if (m == "classification") {
      Arm a{node.empty() ? "item " + std::to_string(i + 1) : base_of(node), model, item_binding(i), node, j};
      if (a.binding.empty() && models.size() > 1 && !bindings_label(graph, models).empty())
        a.binding = "pooled over " + bindings_label(graph, models);
      if (j.contains("arm") && j["arm"].is_string() && !j["arm"].get<std::string>().empty()) {
        a.label = j["arm"].get<std::string>();  // the experiment's name for it: "face-api fine-tuned"
      } else if (!models.empty()) {  // else named by its model node(s): "mlp", "cnn"
        a.label.clear();
        for (const auto& md : models)
          if (a.label.find(base_of(md)) == std::string::npos) a.label += (a.label.empty() ? "" : ", ") + base_of(md);
      }
      arms.push_back(a);
    } else if ((m == "fidelity" || m == "explanation_accuracy") && j.contains("n")) {
      qualities.push_back({item_explainer(i, j), model, item_binding(i), node, j});
    } else if (m == "agreement") {
      agreements.push_back({item_binding(i), node, j});
    } else if (m == "ground_truth") {
      const std::string ex = item_explainer(i, j);
      if (j.contains("features")) truths.push_back({ex, model, item_binding(i), node, j});
      if (j.contains("image")) images.push_back({ex, model, item_binding(i), node, m, j});
    } else if (m == "image_deletion" || m == "image_insertion" || (j.contains("auc_mean") && !m.empty())) {
      images.push_back({item_explainer(i, j), model, item_binding(i), node, m, j});
    } else if (j.contains("report") && j.contains("samples") && j["samples"].is_array()) {
      const std::string kind = j.value("report", std::string());
      (kind == "report.sheet" ? sheets : kind == "report.geometric" ? geometric : heatmaps).push_back(j);
    }
  }

  // ---- Results: status, the comparison tables, the curves, a few explained faces
  const RunStatus status = run_status_of(manifest);
  pg.section(kResults, "Comparison");
  if (!arms.empty()) pg.table(arm_table(arms), "compare");
  if (!qualities.empty()) pg.table(quality_table(qualities, agreements, truths), "compare");
  if (!images.empty()) pg.table(image_table(images), "compare");
  if (arms.empty() && qualities.empty() && images.empty())
    pg.out() << "<p>No classification or explanation metric was attached to this report.</p>\n";
  if (!qualities.empty()) {
    pg.section(kResults, "Fidelity and explanation accuracy over n, per explainer and binding, with the random control");
    pg.out() << "<div class=\"grid\">\n";
    for (const auto& q : qualities) {
      const auto n = jvec(q.j, "n");
      const std::string what = short_type(q.explainer) + (q.binding.empty() ? "" : ", " + q.binding);
      std::vector<Series> s{{"fidelity", n, jvec(q.j, "fidelity")},
                            {"random fidelity", n, jvec(q.j, "random_fidelity"), true},
                            {"expl. accuracy", n, jvec(q.j, "accuracy")},
                            {"random accuracy", n, jvec(q.j, "random_accuracy"), true}};
      pg.chart("fidelity " + what, line_chart(what, "n (top features kept)", "share of samples", s),
               "Fidelity and explanation accuracy over n, " + what);
    }
    pg.out() << "</div>\n";
  }
  // A few faces: the sheets (both explanations of one face side by side), else geometric
  // and heat map paired by id.
  {
    std::vector<std::pair<std::string, std::string>> cells;  // html, caption
    auto caption = [](const Json& s) {
      std::string c = s.value("id", std::string());
      if (s.contains("true") && s["true"].is_string()) c += ", true " + paper_label(s["true"].get<std::string>());
      if (s.contains("groups") && s["groups"].contains("pose")) c += ", pose " + s["groups"]["pose"].get<std::string>();
      return c;
    };
    auto image_of = [&](const Json& ex, const Json& s) {
      if (!s.contains("files") || !s["files"].contains("explanation")) return std::string();
      const std::string path = find_report_file(run_dir, ex, s["files"]["explanation"].get<std::string>());
      return path.empty() ? std::string() : img_tag(path, s["files"]["explanation"].get<std::string>());
    };
    for (const auto& ex : sheets)
      for (const auto& s : ex["samples"]) {
        if (cells.size() >= 4) break;
        const std::string im = image_of(ex, s);
        if (!im.empty()) cells.emplace_back(im, caption(s));
      }
    if (cells.empty() && !geometric.empty() && !heatmaps.empty())
      for (const auto& s : geometric[0]["samples"]) {
        if (cells.size() >= 4) break;
        for (const auto& h : heatmaps[0]["samples"])
          if (h.value("id", std::string()) == s.value("id", std::string()) && !s.value("id", std::string()).empty()) {
            const std::string a = image_of(geometric[0], s), b = image_of(heatmaps[0], h);
            if (!a.empty() && !b.empty()) cells.emplace_back(a + b, caption(s));
            break;
          }
      }
    if (!cells.empty()) {
      pg.section(kResults, "Explained faces: geometric features (left) and the CNN's heat map (right)");
      pg.out() << "<div class=\"faces\">";
      for (const auto& [html, cap] : cells) pg.out() << "<figure class=\"face\">" << html << "<figcaption>" << esc(cap) << "</figcaption></figure>";
      pg.out() << "</div>\n";
    }
  }

  // ---- the details, grouped by what they show
  std::vector<std::pair<std::string, Importance>> imps;  // binding, importance
  int galleries = 0;
  for (uint32_t i = 0; i < count; ++i) {
    host.check_cancelled();
    const mien_value& v = ctx.value(kItems, i);
    const std::string node = item_node(i), binding = item_binding(i);
    const std::string where = node.empty() ? "item " + std::to_string(i + 1) : node;
    if (v.kind == MIEN_VALUE_JSON) {
      const Json& j = jsons[i];
      const std::string m = j.is_object() ? j.value("metric", std::string()) : "";
      const std::string ex = short_type(item_explainer(i, j));
      const std::string for_whom = (ex.empty() ? where : ex) + (binding.empty() ? "" : ", " + binding);
      if (j.is_object() && j.contains("report") && j.contains("samples") && j["samples"].is_array()) {
        gallery(pg, j, run_dir, max_images_, galleries++, host, binding);
      } else if (m == "classification") {
        const Arm* arm = nullptr;
        for (const auto& a : arms)
          if (a.node == node) arm = &a;
        // "Classification — face-api fine-tuned: cnn (model.faceapi_expression)" when the arm is named.
        const bool named = arm && j.contains("arm") && j["arm"].is_string() && arm->label == j["arm"].get<std::string>();
        const std::string who = arm ? (named ? arm->label + ": " + arm->model : arm->model) : where;
        classification(pg, j, "Classification — " + who + (arm && !arm->binding.empty() ? ", " + arm->binding : ""),
                       binding);
      } else if ((m == "fidelity" || m == "explanation_accuracy" || m == "top_n_weight") && j.contains("n")) {
        curve_metric(pg, j, " — " + for_whom, binding);
      } else if (m == "agreement" && j.contains("pairs") && j["pairs"].is_array()) {
        pg.section(kAgreement, "Agreement between explainers — " + (binding.empty() ? where : binding), binding);
        std::vector<std::string> names;
        for (const auto& p : j["pairs"])
          for (const char* k : {"a", "b"}) {
            const std::string nm = agreement_name(p.value(k, std::string()));
            if (std::find(names.begin(), names.end(), nm) == names.end()) names.push_back(nm);
          }
        PaperTable t{"agreement" + std::string(binding.empty() ? "" : "_" + slug(binding)),
                     "Agreement between explainers" + std::string(binding.empty() ? "" : ", " + binding) +
                         ": mean Spearman rank correlation above the diagonal, top-" + cell_text(j.value("k", Json())) +
                         " overlap below",
                     {"explainer"}, {}, 1};
        for (const auto& nm : names) t.head.push_back(nm);
        for (size_t r = 0; r < names.size(); ++r) {
          std::vector<std::string> row{names[r]};
          for (size_t c = 0; c < names.size(); ++c) {
            if (r == c) {
              row.push_back("1");
              continue;
            }
            std::string cell;
            for (const auto& p : j["pairs"]) {
              const std::string a = agreement_name(p.value("a", std::string())), b = agreement_name(p.value("b", std::string()));
              if ((a == names[r] && b == names[c]) || (a == names[c] && b == names[r]))
                cell = num(jnum(p.value(r < c ? "spearman" : "top_k_overlap", Json())));
            }
            row.push_back(cell);
          }
          t.rows.push_back(row);
        }
        pg.table(t);
        data_detail(pg, j);
      } else if (m == "ground_truth") {
        pg.section(kTruth, "Ground truth — " + for_whom, binding);
        if (j.contains("features") && j["features"].is_object()) {
          const Json& f = j["features"];
          PaperTable t{"ground_truth_features" + std::string(for_whom.empty() ? "" : "_" + slug(for_whom)),
                       "Top-k features that belong to the expression's true action units, " + for_whom + " (" +
                           cell_text(f.value("n", Json())) + " samples)",
                       {"k", "precision", "recall"}, {}, 1};
          const auto k = jvec(f, "k"), p = jvec(f, "precision"), r = jvec(f, "recall");
          for (size_t x = 0; x < k.size(); ++x)
            t.rows.push_back({format_value(k[x]), x < p.size() ? num(p[x]) : "", x < r.size() ? num(r[x]) : ""});
          pg.table(t);
        }
        if (j.contains("image") && j["image"].is_object()) {
          pg.out() << "<table><caption>Saliency and the true action-unit regions</caption>";
          for (auto it = j["image"].begin(); it != j["image"].end(); ++it) {
            const std::string t = cell_text(*it);
            if (!t.empty()) pg.out() << "<tr><td class=\"l\">" << esc(it.key()) << "</td><td>" << esc(t) << "</td></tr>";
          }
          pg.out() << "</table>\n";
        }
        data_detail(pg, j);
      } else if (j.is_object()) {
        const bool image = m == "image_deletion" || m == "image_insertion";
        scalar_json(pg, image ? kImageQuality : kOther, j, (image ? m : m.empty() ? std::string("Output") : m) + " — " + for_whom, binding);
      } else {
        pg.section(kOther, "Output — " + where, binding);
        data_detail(pg, j);
      }
    } else if (v.kind == MIEN_VALUE_TABLE) {
      const TableView t = ctx.table(kItems, i);
      const Json meta = t.meta();
      const std::string name = meta.is_object() && meta.contains("explainer") && meta["explainer"].is_string()
                                   ? short_type(meta["explainer"].get<std::string>())
                                   : where;
      if (t.find("val_accuracy") || (t.find("random_probability") && meta.is_object() && meta.contains("auc"))) {
        Json cols = Json::object();
        for (const char* c : {"epoch", "val_accuracy", "random_probability"})
          if (t.find(c)) cols[c] = t.get(c).numbers();
        head_items.emplace_back(sourced ? sources[i] : "item " + std::to_string(i + 1), Json{{"__columns", cols}, {"__meta", meta}});
      }
      if (!t.with_role(MIEN_ROLE_FEATURE).empty() && t.find("explained_class")) {
        imps.emplace_back(binding, importance(t, name));
        attribution_section(pg, imps.back().second, t.num_rows(), binding);
      } else if (t.find("probability") && t.find("random_probability")) {
        curve_table(pg, t, " — " + name + (binding.empty() ? "" : ", " + binding), binding);
      } else if (t.find("val_accuracy") && t.find("epoch")) {
        generic_table(pg, t, "Training curve — " + where, binding);
      } else {
        generic_table(pg, t, "Table — " + where, binding);
      }
    } else if (v.kind == MIEN_VALUE_STRING) {
      pg.section(kOther, "Text — " + where, binding);
      pg.out() << "<pre>" << esc(ctx.text(kItems, i).substr(0, 20000)) << "</pre>\n";
    } else {
      pg.section(kOther, "Value — " + where, binding);
      pg.out() << "<p>A " << (v.kind == MIEN_VALUE_MODEL ? "model" : "tensor") << " value; nothing to show.</p>\n";
    }
  }
  {  // explainers compared per binding
    std::vector<std::string> order;
    for (const auto& [b, imp] : imps)
      if (std::find(order.begin(), order.end(), b) == order.end()) order.push_back(b);
    for (const auto& b : order) {
      std::vector<Importance> same;
      for (const auto& [bb, imp] : imps)
        if (bb == b) same.push_back(imp);
      if (same.size() >= 2) comparison_section(pg, same, b);
    }
  }

  // ---- run details (collapsed): experiment, plugins, node timings, resolved.yaml
  if (manifest.is_object() || !resolved.empty()) {
    pg.section(kRunDetails, "Experiment, plugins, node timings and the resolved configuration");
    pg.out() << "<details><summary>experiment and plugins</summary>";
    if (manifest.is_object()) {
      pg.out() << "<table>";
      for (const char* k : {"experiment", "experiment_file", "started", "seed", "threads", "mien_version", "abi"})
        if (manifest.contains(k))
          pg.out() << "<tr><td class=\"l\">" << k << "</td><td class=\"l\">" << esc(cell_text(manifest[k])) << "</td></tr>";
      pg.out() << "<tr><td class=\"l\">status</td><td class=\"l\">" << esc(status.word + " (" + status.line + ")") << "</td></tr>";
      if (manifest.contains("machine") && manifest["machine"].is_object())
        for (auto it = manifest["machine"].begin(); it != manifest["machine"].end(); ++it)
          if (!cell_text(*it).empty())
            pg.out() << "<tr><td class=\"l\">machine: " << esc(it.key()) << "</td><td class=\"l\">" << esc(cell_text(*it)) << "</td></tr>";
      pg.out() << "</table>\n";
      if (manifest.contains("plugins") && manifest["plugins"].is_object() && !manifest["plugins"].empty()) {
        pg.out() << "<table><caption>Plugins</caption><tr><th class=\"l\">plugin</th><th class=\"l\">version</th><th class=\"l\">SHA-256</th><th class=\"l\">library</th></tr>";
        for (auto it = manifest["plugins"].begin(); it != manifest["plugins"].end(); ++it)
          pg.out() << "<tr><td class=\"l\">" << esc(it->value("plugin", std::string())) << "</td><td class=\"l\">"
                   << esc(it->value("version", std::string())) << "</td><td class=\"l\"><code>"
                   << esc(it->value("sha256", std::string()).substr(0, 16)) << "…</code></td><td class=\"l\">"
                   << esc(fs::path(it.key()).filename().string()) << "</td></tr>";
        pg.out() << "</table>\n";
      }
    }
    pg.out() << "</details>\n";
    if (manifest.is_object() && manifest.contains("nodes") && manifest["nodes"].is_array() && !manifest["nodes"].empty()) {
      int cached = 0;
      std::vector<std::string> names;
      std::vector<double> secs;
      pg.out() << "<details><summary>node timings (" << manifest["nodes"].size() << " nodes)</summary>";
      pg.out() << "<table><tr><th class=\"l\">node</th><th class=\"l\">component</th><th>version</th><th class=\"l\">status</th><th>wall s</th><th>peak MB</th></tr>";
      for (const auto& n : manifest["nodes"]) {
        const std::string st = n.value("status", std::string());
        cached += st == "cached" ? 1 : 0;
        const double w = jnum(n.value("wall_seconds", Json()));
        names.push_back(n.value("name", std::string("?")));
        secs.push_back(std::isfinite(w) ? w : 0);
        pg.out() << "<tr><td class=\"l\">" << esc(names.back()) << "</td><td class=\"l\">" << esc(n.value("type_id", std::string()))
                 << "</td><td>" << esc(cell_text(n.value("version", Json()))) << "</td><td class=\"l\">" << esc(st) << "</td><td>"
                 << num(w, 3) << "</td><td>" << num(jnum(n.value("peak_rss_mb", Json())), 1) << "</td></tr>";
      }
      pg.out() << "</table>\n<p>" << manifest["nodes"].size() << " node(s) finished before this report, " << cached
               << " from the cache.</p>\n";
      pg.out() << "<figure>" << bar_chart("Wall time per node", names, secs, " s") << "</figure></details>\n";
    }
    if (!resolved.empty()) pg.out() << "<details><summary>resolved.yaml</summary><pre>" << esc(resolved) << "</pre></details>\n";
  }
  pg.close();
  pg.write_index(title);

  // ---- assemble: title, status, a short table of contents, the groups in order
  std::ostringstream html;
  html << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>" << esc(title) << "</title>\n<style>" << kStyle
       << "</style>\n<script>" << kScript << "</script>\n</head>\n<body>\n<header><h1>" << esc(title) << "</h1><p class=\"status "
       << status.word << "\">Status: <b>" << status.word << "</b> — " << esc(status.line);
  if (!pg.figures.empty() || !pg.tables.empty())
    html << " · <a href=\"@PAPER@/figures.md\">figures and tables for a paper</a> (SVG, PDF, PNG; CSV, Markdown, LaTeX)";
  html << "</p>";
  if (!status.failed.empty()) {
    html << "<ul class=\"failed\">";
    for (const auto& [n, why] : status.failed) html << "<li><b>" << esc(n) << "</b>: " << esc(why.substr(0, 400)) << "</li>";
    html << "</ul>";
  }
  html << "</header>\n<nav>";
  for (int g = 0; g < kGroupCount; ++g)
    if (!pg.empty(static_cast<Group>(g))) html << "<a href=\"#" << kGroupIds[g] << "\">" << kGroupTitles[g] << "</a>";
  html << "</nav>\n<main>\n";
  bool any = false;
  for (int g = 0; g < kGroupCount; ++g) {
    if (pg.empty(static_cast<Group>(g))) continue;
    any = true;
    html << "<section id=\"" << kGroupIds[g] << "\" class=\"group " << kGroupIds[g] << "\"><h2>" << kGroupTitles[g] << "</h2>\n<div class=\"subs\">"
         << pg.body(static_cast<Group>(g)) << "</div></section>\n";
  }
  if (!any) html << "<p>Nothing to report: no run summary was found and no items were attached.</p>\n";
  html << "</main>\n<footer><p style=\"padding:0 28px;color:#777;font-size:12px\">Written by report.html (mien). "
       << "Every figure and table is also in <a href=\"@PAPER@/figures.md\">the report node's paper/ folder</a> (figures.md lists them).</p></footer>\n</body>\n</html>\n";
  const std::string text = html.str();
  auto with_prefix = [&](const std::string& prefix) {
    std::string s = text;
    for (size_t k = s.find("@PAPER@"); k != std::string::npos; k = s.find("@PAPER@", k + prefix.size())) s.replace(k, 7, prefix);
    return s;
  };
  write_file(out_dir + "/report.html", with_prefix("paper"));
  if (copy_ && !run_dir.empty()) write_file_atomic(run_dir + "/report.html", with_prefix("nodes/" + folder_name(node_) + "/files/paper"));
  Json charts = Json::array();
  for (const auto& f : pg.figures) charts.push_back("paper/" + f.file + ".svg");
  write_file(out_dir + "/charts.json", charts.dump(2));
  ctx.set(kHeadline, Json{{"title", title}, {"rows", headline_rows(head_items)}});
  ctx.set_text(kHtml, copy_ && !run_dir.empty() ? std::string("report.html") : "nodes/" + folder_name(node_) + "/files/report.html");
}

}  // namespace mien::report
