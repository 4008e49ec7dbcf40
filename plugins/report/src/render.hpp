// Drawing and text helpers of the report plugin: colour maps, the geometric features drawn
// on a face, colour bars, legends, probability charts, the paper's text explanation,
// base64 and small file helpers. No component code here, so tests use it directly.
#pragma once

#include <mien/plugin.hpp>
#include <mien_face_geometry/geometric.hpp>

#include <opencv2/core.hpp>

#include <string>
#include <vector>

namespace mien::report {

// ---- colour ----
// The colour (BGR) of t in [0, 1] on a colour map ("viridis", the default, perceptually
// uniform; also "magma", "inferno", "plasma", "jet", "hot"): OpenCV's 256-entry table.
cv::Vec3b colormap_bgr(const std::string& name, double t);
std::vector<std::string> colormap_names();
int colormap_code(const std::string& name);  // throws mien::Error for an unknown name

// The colour (BGR) of the feature ranked rank0 + 1 in a drawing coloured by rank: the
// Okabe–Ito palette (distinguishable with the common colour-vision deficiencies and on a
// grey face; black is left out because the outline is black), then four more; cycles after 11.
cv::Vec3b rank_colour(size_t rank0);
// "#rrggbb" of a BGR colour, for HTML legends and the JSON of a drawing.
std::string hex_colour(const cv::Vec3b& bgr);

// A linear colour scale lo..hi; t() clamps to [0, 1]; a flat scale (hi <= lo) maps to 1.
struct Scale {
  double lo = 0, hi = 1;
  double t(double v) const;
};

// "0.0523", "1.25", "12.3": 3 significant digits, no exponent for ordinary magnitudes.
std::string format_value(double v);

// ---- drawing ----
// One ranked feature to draw.
struct DrawnFeature {
  std::string name;         // column name
  std::string description;  // the text of the explanation (the name when unknown)
  std::string kind;         // geometric kind, "" when the name is not a geometric feature
  std::vector<int> landmarks;
  double attribution = 0;   // signed
  double share = 0;         // |attribution| / sum of |attribution| over all features
  int rank = 0;             // 1-based
};

// The geometric feature of that name, or nullptr.
const face::GeometricFeature* find_geometric(const std::string& name);

// Draws one feature on img (BGR) with landmark points pts (68, in img pixels).
void draw_feature(cv::Mat& img, const DrawnFeature& f, const std::vector<cv::Point2d>& pts, const cv::Vec3b& colour,
                  int thickness);

// A vertical colour bar image (BGR) of width w and height h: top = the map's max colour,
// bottom = its min colour, labels hi at the top and lo at the bottom written to the right
// of a bar of width bar_w. Returns the bar's rectangle inside the image through *bar.
cv::Mat colour_bar(const std::string& cmap, const Scale& s, int w, int h, int bar_w, cv::Rect* bar);

// The key of a drawing coloured by rank (BGR, w x h): per feature a bar whose length is
// |attribution| / max |attribution| of the shown features, in the feature's rank colour,
// with its rank number. bars (when given) receives each bar's full-length rectangle.
cv::Mat rank_key(const std::vector<DrawnFeature>& feats, int w, int h, int bar_h, std::vector<cv::Rect>* bars);

// Probability chart (BGR): one bar per class, the true class teal, the others pale
// turquoise (the paper's colours), predicted class with a black outline, y grid 0..1 by 0.1.
// bars (when given) receives each bar's full-height column rectangle (x range, plot y range).
cv::Mat probability_chart(const std::vector<std::string>& classes, const std::vector<double>& probs, int true_index,
                          int predicted_index, int w, int h, std::vector<cv::Rect>* bars);

// The paper's colours (BGR).
inline cv::Vec3b teal_bgr() { return {128, 128, 0}; }
inline cv::Vec3b paleturquoise_bgr() { return {238, 238, 175}; }

// ---- text ----
// The label as the paper writes it: fear -> AFRAID, anger -> ANGER, ... others upper-cased.
std::string paper_label(const std::string& cls);
// Two-letter code for axes: fear AF, anger AN, disgust DI, happy HA, neutral NE, sad SA,
// surprise SU, contempt CO; others their first two letters upper-cased.
std::string short_label(const std::string& cls);

// The paper's text explanation (ter Burg & Kaya 2022, doi:10.3390/a15100367):
//   This person's emotion is classified as HAPPY. This classification is CORRECT.
//   (or: This classification is INCORRECT; the correct label is SAD.)
//   <blank line>
//   The following 5 features, listed from most important to less important, contributed for 63.2% to the decision:
//   <blank line>
//   1. Width of the mouth
//   ...
// truth "" = unknown (the correctness sentence is left out); features empty = the first
// paragraph only. weight_percent is printed with one decimal.
std::string text_explanation(const std::string& predicted, const std::string& truth,
                             const std::vector<std::string>& feature_texts, double weight_percent);

// ---- files ----
std::string base64(const std::string& bytes);
// Text for HTML element content and attribute values (& < > " ').
std::string esc(const std::string& s);
std::string read_file(const std::string& path);                        // throws mien::Error
void write_file(const std::string& path, const std::string& content);  // throws mien::Error
void write_file_atomic(const std::string& path, const std::string& content);
void write_png(const std::string& path, const cv::Mat& img);          // throws mien::Error
// The folder name the host gives a node (run folder nodes/<name>).
std::string folder_name(const std::string& node);
// File-name-safe version of an id.
std::string safe_name(const std::string& s);

// Grayscale face as BGR at size x size (input: [H, W, C] uint8 RGB/BGR/gray).
cv::Mat face_canvas(const uint8_t* data, int h, int w, int c, int size);

// Text helpers with OpenCV's Hershey font.
void put_text(cv::Mat& img, const std::string& s, cv::Point org, double scale, const cv::Scalar& colour,
              int thickness = 1);

}  // namespace mien::report
