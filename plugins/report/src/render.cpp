#include "render.hpp"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <unistd.h>

namespace mien::report {

namespace {
const std::map<std::string, int>& cmap_codes() {
  static const std::map<std::string, int> m = {{"viridis", cv::COLORMAP_VIRIDIS}, {"magma", cv::COLORMAP_MAGMA},
                                               {"inferno", cv::COLORMAP_INFERNO}, {"plasma", cv::COLORMAP_PLASMA},
                                               {"jet", cv::COLORMAP_JET},         {"hot", cv::COLORMAP_HOT}};
  return m;
}
}  // namespace

std::vector<std::string> colormap_names() { return {"viridis", "magma", "inferno", "plasma", "jet", "hot"}; }

int colormap_code(const std::string& name) {
  auto it = cmap_codes().find(name);
  if (it == cmap_codes().end())
    throw Error("unknown colour map '" + name + "' (one of viridis, magma, inferno, plasma, jet, hot)");
  return it->second;
}

cv::Vec3b colormap_bgr(const std::string& name, double t) {
  static std::map<std::string, cv::Mat> cache;
  auto it = cache.find(name);
  if (it == cache.end()) {
    cv::Mat ramp(1, 256, CV_8UC1);
    for (int i = 0; i < 256; ++i) ramp.at<uint8_t>(0, i) = static_cast<uint8_t>(i);
    cv::Mat out;
    cv::applyColorMap(ramp, out, colormap_code(name));
    it = cache.emplace(name, out).first;
  }
  if (!std::isfinite(t)) t = 0;
  const int i = static_cast<int>(std::lround(std::clamp(t, 0.0, 1.0) * 255.0));
  return it->second.at<cv::Vec3b>(0, i);
}

cv::Vec3b rank_colour(size_t rank0) {
  // RGB: vermillion, blue, bluish green, orange, reddish purple, sky blue, yellow (Okabe &
  // Ito 2008), then brown, olive, dark teal and pink from Tableau 10.
  static const cv::Vec3b rgb[] = {{213, 94, 0},  {0, 114, 178},  {0, 158, 115},  {230, 159, 0},
                                  {204, 121, 167}, {86, 180, 233}, {240, 228, 66}, {140, 86, 75},
                                  {188, 189, 34}, {23, 120, 120}, {247, 129, 191}};
  const cv::Vec3b& c = rgb[rank0 % (sizeof rgb / sizeof rgb[0])];
  return {c[2], c[1], c[0]};
}

std::string hex_colour(const cv::Vec3b& bgr) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "#%02x%02x%02x", bgr[2], bgr[1], bgr[0]);
  return buf;
}

double Scale::t(double v) const {
  if (!(hi > lo)) return 1.0;
  return std::clamp((v - lo) / (hi - lo), 0.0, 1.0);
}

std::string format_value(double v) {
  char buf[64];
  const double a = std::fabs(v);
  if (a != 0 && (a < 1e-3 || a >= 1e5)) std::snprintf(buf, sizeof buf, "%.2e", v);
  else if (a >= 100) std::snprintf(buf, sizeof buf, "%.0f", v);
  else if (a >= 10) std::snprintf(buf, sizeof buf, "%.1f", v);
  else if (a >= 1) std::snprintf(buf, sizeof buf, "%.2f", v);
  else std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

const face::GeometricFeature* find_geometric(const std::string& name) {
  static const std::map<std::string, face::GeometricFeature> m = [] {
    std::map<std::string, face::GeometricFeature> r;
    for (const auto& f : face::geometric_features()) r.emplace(f.name, f);
    return r;
  }();
  auto it = m.find(name);
  return it == m.end() ? nullptr : &it->second;
}

// ---------------------------------------------------------------- drawing
namespace {
cv::Point ip(const cv::Point2d& p) { return cv::Point(static_cast<int>(std::lround(p.x)), static_cast<int>(std::lround(p.y))); }
cv::Point2d midp(const cv::Point2d& a, const cv::Point2d& b) { return (a + b) * 0.5; }

void seg(cv::Mat& img, cv::Point2d a, cv::Point2d b, const cv::Scalar& c, int th) { cv::line(img, ip(a), ip(b), c, th, cv::LINE_8); }

void dashed(cv::Mat& img, cv::Point2d a, cv::Point2d b, const cv::Scalar& c, int th) {
  const double len = cv::norm(b - a);
  if (len < 1) return;
  const double on = 3.0 * th + 3, off = 2.0 * th + 2;
  for (double s = 0; s < len; s += on + off) {
    const double e = std::min(len, s + on);
    seg(img, a + (b - a) * (s / len), a + (b - a) * (e / len), c, th);
  }
}

// Each primitive is drawn twice: a dark outline (th + 2) for contrast, then the colour.
template <typename F>
void twice(F&& draw, const cv::Vec3b& colour, int th) {
  draw(cv::Scalar(20, 20, 20), th + 2);
  draw(cv::Scalar(colour[0], colour[1], colour[2]), th);
}
}  // namespace

void draw_feature(cv::Mat& img, const DrawnFeature& f, const std::vector<cv::Point2d>& pts, const cv::Vec3b& colour,
                  int th) {
  const auto& L = f.landmarks;
  auto P = [&](size_t k) {
    const int i = L.at(k);
    if (i < 0 || static_cast<size_t>(i) >= pts.size()) throw Error("feature '" + f.name + "' uses landmark " + std::to_string(i) + ", which the table does not have");
    return pts[static_cast<size_t>(i)];
  };
  if (f.kind == "distance") {
    cv::Point2d a, b;
    if (L.size() == 2) a = P(0), b = P(1);
    else if (L.size() == 3) a = P(0), b = midp(P(1), P(2));
    else if (L.size() == 4) a = midp(P(0), P(1)), b = midp(P(2), P(3));
    else return;
    twice([&](const cv::Scalar& c, int t) { seg(img, a, b, c, t); }, colour, th);
  } else if (f.kind == "angle_horizontal" || f.kind == "angle_vertical") {
    if (L.size() < 2) return;
    const cv::Point2d a = P(0), b = P(1);
    const double len = std::max(cv::norm(b - a), 8.0);
    cv::Point2d ref;
    if (f.kind == "angle_vertical") ref = a + cv::Point2d(0, len);
    else ref = a + cv::Point2d(b.x >= a.x ? len : -len, 0);
    // The reference line first, so the measured segment stays on top.
    twice([&](const cv::Scalar& c, int t) { dashed(img, a, ref, c, std::max(1, t - 1)); }, colour, th);
    twice([&](const cv::Scalar& c, int t) { seg(img, a, b, c, t); }, colour, th);
  } else if (f.kind == "ratio") {
    for (size_t k = 0; k + 1 < L.size(); k += 2) {
      const cv::Point2d a = P(k), b = P(k + 1);
      twice([&](const cv::Scalar& c, int t) { seg(img, a, b, c, t); }, colour, th);
    }
  } else if (f.kind == "curvature") {
    if (L.size() < 3) return;
    // The quadratic through the three points (the middle one at t = 0.5).
    const cv::Point2d p0 = P(0), p1 = P(1), p2 = P(2);
    const cv::Point2d ctrl = p1 * 2.0 - (p0 + p2) * 0.5;
    std::vector<cv::Point> curve;
    for (int i = 0; i <= 32; ++i) {
      const double t = i / 32.0;
      curve.push_back(ip(p0 * ((1 - t) * (1 - t)) + ctrl * (2 * t * (1 - t)) + p2 * (t * t)));
    }
    twice([&](const cv::Scalar& c, int t) { cv::polylines(img, curve, false, c, t, cv::LINE_8); }, colour, th);
  } else if (f.kind == "opening") {
    // Axis-aligned ellipse over the inner-lip pairs: centre their mean, half-width half the
    // mouth-corner distance (last pair) scaled to the inner lip, half-height the mean gap.
    if (L.size() < 8) return;
    cv::Point2d c(0, 0);
    double gap = 0;
    for (size_t k = 0; k < 6; k += 2) {
      c += P(k) + P(k + 1);
      gap += cv::norm(P(k) - P(k + 1));
    }
    c *= 1.0 / 6.0;
    gap /= 3.0;
    const double hw = 0.5 * 0.75 * cv::norm(P(6) - P(7));
    const cv::Size axes(std::max(3, static_cast<int>(std::lround(hw))), std::max(2, static_cast<int>(std::lround(0.6 * gap))));
    twice([&](const cv::Scalar& col, int t) { cv::ellipse(img, ip(c), axes, 0, 0, 360, col, t, cv::LINE_8); }, colour, th);
  }
}

void put_text(cv::Mat& img, const std::string& s, cv::Point org, double scale, const cv::Scalar& colour, int thickness) {
  cv::putText(img, s, org, cv::FONT_HERSHEY_SIMPLEX, scale, colour, thickness, cv::LINE_AA);
}

cv::Mat colour_bar(const std::string& cmap, const Scale& s, int w, int h, int bar_w, cv::Rect* bar) {
  cv::Mat img(h, w, CV_8UC3, cv::Scalar(255, 255, 255));
  const int top = 14, bottom = h - 14;
  const cv::Rect r(4, top, bar_w, bottom - top);
  for (int y = r.y; y < r.y + r.height; ++y) {
    const double t = r.height > 1 ? 1.0 - static_cast<double>(y - r.y) / (r.height - 1) : 1.0;
    const cv::Vec3b c = colormap_bgr(cmap, t);
    for (int x = r.x; x < r.x + r.width; ++x) img.at<cv::Vec3b>(y, x) = c;
  }
  cv::rectangle(img, cv::Rect(r.x - 1, r.y - 1, r.width + 2, r.height + 2), cv::Scalar(60, 60, 60), 1);
  put_text(img, format_value(s.hi), cv::Point(r.x + r.width + 4, r.y + 10), 0.4, cv::Scalar(0, 0, 0));
  put_text(img, format_value(s.lo), cv::Point(r.x + r.width + 4, r.y + r.height), 0.4, cv::Scalar(0, 0, 0));
  if (bar) *bar = r;
  return img;
}

cv::Mat rank_key(const std::vector<DrawnFeature>& feats, int w, int h, int bar_h, std::vector<cv::Rect>* bars) {
  cv::Mat img(h, w, CV_8UC3, cv::Scalar(255, 255, 255));
  const int x0 = 20, full = std::max(1, w - x0 - 6), top = 26;
  put_text(img, "|attribution|", cv::Point(4, 14), 0.36, cv::Scalar(0, 0, 0));
  double most = 0;
  for (const auto& f : feats) most = std::max(most, std::fabs(f.attribution));
  if (bars) bars->clear();
  const int pitch = bar_h + 8;
  for (size_t k = 0; k < feats.size(); ++k) {
    const int y = top + pitch * static_cast<int>(k);
    if (y + bar_h > h) break;  // more features than fit: the legend below lists them all
    const double share = most > 0 ? std::fabs(feats[k].attribution) / most : 0.0;
    const int len = std::max(1, static_cast<int>(std::lround(share * full)));
    const cv::Vec3b c = rank_colour(k);
    cv::rectangle(img, cv::Rect(x0, y, len, bar_h), cv::Scalar(c[0], c[1], c[2]), cv::FILLED);
    cv::rectangle(img, cv::Rect(x0, y, len, bar_h), cv::Scalar(60, 60, 60), 1);
    put_text(img, std::to_string(feats[k].rank), cv::Point(4, y + bar_h - 2), 0.36, cv::Scalar(0, 0, 0));
    if (bars) bars->emplace_back(x0, y, full, bar_h);
  }
  return img;
}

cv::Mat probability_chart(const std::vector<std::string>& classes, const std::vector<double>& probs, int true_index,
                          int predicted_index, int w, int h, std::vector<cv::Rect>* bars) {
  cv::Mat img(h, w, CV_8UC3, cv::Scalar(255, 255, 255));
  const int left = 34, right = 8, top = 40, bottom = 26;
  const int pw = w - left - right, ph = h - top - bottom;
  const cv::Scalar black(0, 0, 0), grid(225, 225, 225);
  put_text(img, "Probability distribution", cv::Point(left, 16), 0.45, black);
  // legend
  const cv::Vec3b teal = teal_bgr(), pale = paleturquoise_bgr();
  cv::rectangle(img, cv::Rect(left, 24, 10, 10), cv::Scalar(teal[0], teal[1], teal[2]), cv::FILLED);
  put_text(img, "True label", cv::Point(left + 14, 33), 0.35, black);
  cv::rectangle(img, cv::Rect(left + 90, 24, 10, 10), cv::Scalar(pale[0], pale[1], pale[2]), cv::FILLED);
  put_text(img, "Other label", cv::Point(left + 104, 33), 0.35, black);
  for (int k = 0; k <= 10; ++k) {
    const int y = top + ph - static_cast<int>(std::lround(ph * k / 10.0));
    cv::line(img, cv::Point(left, y), cv::Point(left + pw, y), grid, 1);
    if (k % 2 == 0) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "%.1f", k / 10.0);
      put_text(img, buf, cv::Point(2, y + 4), 0.33, black);
    }
  }
  const int n = static_cast<int>(classes.size());
  if (bars) bars->clear();
  for (int k = 0; k < n; ++k) {
    const int x0 = left + static_cast<int>(std::lround(pw * (k + 0.15) / n));
    const int x1 = left + static_cast<int>(std::lround(pw * (k + 0.85) / n));
    const double p = std::clamp(k < static_cast<int>(probs.size()) ? probs[static_cast<size_t>(k)] : 0.0, 0.0, 1.0);
    const int bh = static_cast<int>(std::lround(ph * p));
    const cv::Vec3b c = k == true_index ? teal : pale;
    if (bh > 0) cv::rectangle(img, cv::Rect(x0, top + ph - bh, x1 - x0, bh), cv::Scalar(c[0], c[1], c[2]), cv::FILLED);
    if (k == predicted_index && bh > 0)
      cv::rectangle(img, cv::Rect(x0, top + ph - bh, x1 - x0, bh), black, 1);
    if (bars) bars->push_back(cv::Rect(x0, top, x1 - x0, ph));
    const std::string lab = short_label(classes[static_cast<size_t>(k)]);
    int base = 0;
    const cv::Size ts = cv::getTextSize(lab, cv::FONT_HERSHEY_SIMPLEX, 0.38, 1, &base);
    put_text(img, lab, cv::Point((x0 + x1) / 2 - ts.width / 2, top + ph + 16), 0.38, black);
  }
  cv::line(img, cv::Point(left, top + ph), cv::Point(left + pw, top + ph), black, 1);
  cv::line(img, cv::Point(left, top), cv::Point(left, top + ph), black, 1);
  return img;
}

// ---------------------------------------------------------------- text
std::string paper_label(const std::string& cls) {
  static const std::map<std::string, std::string> m = {{"fear", "AFRAID"},   {"anger", "ANGER"}, {"disgust", "DISGUST"},
                                                       {"happy", "HAPPY"},   {"neutral", "NEUTRAL"}, {"sad", "SAD"},
                                                       {"surprise", "SURPRISE"}, {"contempt", "CONTEMPT"}};
  auto it = m.find(cls);
  if (it != m.end()) return it->second;
  std::string u = cls;
  for (char& c : u) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return u;
}

std::string short_label(const std::string& cls) {
  static const std::map<std::string, std::string> m = {{"fear", "AF"}, {"anger", "AN"},   {"disgust", "DI"},
                                                       {"happy", "HA"}, {"neutral", "NE"}, {"sad", "SA"},
                                                       {"surprise", "SU"}, {"contempt", "CO"}};
  auto it = m.find(cls);
  if (it != m.end()) return it->second;
  std::string u = cls.substr(0, 2);
  for (char& c : u) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return u;
}

std::string text_explanation(const std::string& predicted, const std::string& truth,
                             const std::vector<std::string>& feature_texts, double weight_percent) {
  std::ostringstream o;
  o << "This person's emotion is classified as " << paper_label(predicted) << ".";
  if (!truth.empty()) {
    if (truth == predicted) o << " This classification is CORRECT.";
    else o << " This classification is INCORRECT; the correct label is " << paper_label(truth) << ".";
  }
  o << "\n";
  if (!feature_texts.empty()) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", weight_percent);
    o << "\nThe following " << feature_texts.size()
      << " features, listed from most important to less important, contributed for " << buf
      << "% to the decision:\n\n";
    bool sided = false;
    for (size_t i = 0; i < feature_texts.size(); ++i) {
      o << (i + 1) << ". " << feature_texts[i] << "\n";
      sided = sided || feature_texts[i].find("mage-left") != std::string::npos ||
              feature_texts[i].find("mage-right") != std::string::npos;
    }
    // Readers take "left" as the person's left; the features are named by the picture's side.
    if (sided) o << "\nLeft and right are as seen in the picture: image-left is the person's right side.\n";
  }
  return o.str();
}

// ---------------------------------------------------------------- files
std::string esc(const std::string& s) {
  std::string o;
  o.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': o += "&amp;"; break;
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '"': o += "&quot;"; break;
      case '\'': o += "&#39;"; break;
      default: o += c;
    }
  }
  return o;
}

std::string base64(const std::string& in) {
  static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const uint32_t v = (static_cast<uint8_t>(in[i]) << 16) | (static_cast<uint8_t>(in[i + 1]) << 8) | static_cast<uint8_t>(in[i + 2]);
    out += t[v >> 18];
    out += t[(v >> 12) & 63];
    out += t[(v >> 6) & 63];
    out += t[v & 63];
  }
  if (i + 1 == in.size()) {
    const uint32_t v = static_cast<uint8_t>(in[i]) << 16;
    out += t[v >> 18];
    out += t[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    const uint32_t v = (static_cast<uint8_t>(in[i]) << 16) | (static_cast<uint8_t>(in[i + 1]) << 8);
    out += t[v >> 18];
    out += t[(v >> 12) & 63];
    out += t[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw Error("cannot read '" + path + "'", MIEN_ERR_IO);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

void write_file(const std::string& path, const std::string& content) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (!f) throw Error("cannot write '" + path + "'", MIEN_ERR_IO);
  f << content;
  f.close();
  if (!f) throw Error("writing '" + path + "' failed (disk full?)", MIEN_ERR_IO);
}

void write_file_atomic(const std::string& path, const std::string& content) {
  const std::string tmp = path + ".tmp-" + std::to_string(::getpid());
  write_file(tmp, content);
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    throw Error("cannot move '" + tmp + "' to '" + path + "'", MIEN_ERR_IO);
  }
}

void write_png(const std::string& path, const cv::Mat& img) {
  std::vector<uint8_t> buf;
  if (!cv::imencode(".png", img, buf)) throw Error("cannot encode '" + path + "' as PNG", MIEN_ERR_IO);
  write_file(path, std::string(buf.begin(), buf.end()));
}

std::string folder_name(const std::string& node) {
  std::string out;
  for (char c : node) {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.') out += c;
    else if (c == '[' || c == ',') out += '-';
    else if (c != ']') out += '_';
  }
  return out;
}

std::string safe_name(const std::string& s) {
  std::string out;
  for (char c : s) out += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.') ? c : '_';
  if (out.empty() || out[0] == '.') out = "_" + out;
  return out;
}

cv::Mat face_canvas(const uint8_t* data, int h, int w, int c, int size) {
  cv::Mat src(h, w, c == 1 ? CV_8UC1 : (c == 3 ? CV_8UC3 : CV_8UC4), const_cast<uint8_t*>(data));
  cv::Mat gray;
  if (c == 1) gray = src.clone();
  else if (c == 3) cv::cvtColor(src, gray, cv::COLOR_RGB2GRAY);
  else cv::cvtColor(src, gray, cv::COLOR_RGBA2GRAY);
  cv::Mat resized;
  cv::resize(gray, resized, cv::Size(size, size), 0, 0, size < w ? cv::INTER_AREA : cv::INTER_LINEAR);
  cv::Mat out;
  cv::cvtColor(resized, out, cv::COLOR_GRAY2BGR);
  return out;
}

}  // namespace mien::report
