// report plugin tests: pixels of the rendered explanations, the text template, the HTML.
#include "components.hpp"

#include <mien/testing.hpp>

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>

using namespace mien;
using namespace mien::report;
using mien::testing::ComponentRunner;
namespace fs = std::filesystem;

namespace {

const std::vector<std::string> kClasses = {"fear", "anger", "disgust", "happy", "neutral", "sad", "surprise"};
constexpr int kImg = 128;

// Landmarks: a loose grid, with the mouth corners 48 and 54 on a clear horizontal line.
std::vector<cv::Point2d> landmarks() {
  std::vector<cv::Point2d> p;
  for (int k = 0; k < 68; ++k) p.emplace_back(8 + (k % 10) * 11.0, 6 + (k / 10) * 11.0);
  p[48] = {30, 110};
  p[54] = {98, 110};
  return p;
}

Table sample_table(const std::vector<std::string>& ids, const std::vector<int64_t>& labels,
                   const std::vector<std::string>& poses) {
  const auto lm = landmarks();
  Table t(static_cast<int64_t>(ids.size()));
  t.add_strings("id", MIEN_ROLE_ID, ids).add_codes("label", MIEN_ROLE_LABEL, labels, kClasses).add_strings("pose", MIEN_ROLE_GROUP, poses);
  for (int k = 0; k < 68; ++k) t.add_numbers("x" + std::to_string(k), MIEN_ROLE_VALUE, std::vector<double>(ids.size(), lm[k].x));
  for (int k = 0; k < 68; ++k) t.add_numbers("y" + std::to_string(k), MIEN_ROLE_VALUE, std::vector<double>(ids.size(), lm[k].y));
  return t;
}

Tensor images(int n) {
  Tensor t = Tensor::zeros<uint8_t>({n, kImg, kImg, 3});
  std::fill(t.data<uint8_t>(), t.data<uint8_t>() + t.numel(), 128);
  return t;
}

// Attributions: every geometric feature, values given by name (others 0).
Table attributions(const std::vector<std::string>& ids, const std::vector<std::map<std::string, double>>& values,
                   const std::vector<std::string>& predicted) {
  Table t(static_cast<int64_t>(ids.size()));
  t.add_strings("id", MIEN_ROLE_ID, ids).add_strings("explained_class", MIEN_ROLE_VALUE, predicted).add_strings("predicted_class", MIEN_ROLE_VALUE, predicted);
  for (const auto& f : face::geometric_features()) {
    std::vector<double> v;
    for (const auto& m : values) v.push_back(m.count(f.name) ? m.at(f.name) : 0.0);
    t.add_numbers(f.name, MIEN_ROLE_FEATURE, v);
  }
  t.meta(Json{{"explainer", "explain.deep_shap"}});
  return t;
}

Table predictions(const std::vector<std::string>& ids, const std::vector<std::vector<double>>& p) {
  Table t(static_cast<int64_t>(ids.size()));
  t.add_strings("id", MIEN_ROLE_ID, ids);
  std::vector<std::string> pred;
  for (const auto& r : p) pred.push_back(kClasses[static_cast<size_t>(std::max_element(r.begin(), r.end()) - r.begin())]);
  t.add_strings("predicted", MIEN_ROLE_VALUE, pred);
  for (size_t k = 0; k < kClasses.size(); ++k) {
    std::vector<double> v;
    for (const auto& r : p) v.push_back(r[k]);
    t.add_numbers("p_" + kClasses[k], MIEN_ROLE_VALUE, v);
  }
  return t;
}

cv::Vec3b px(const cv::Mat& m, int x, int y) { return m.at<cv::Vec3b>(y, x); }
cv::Rect rect(const Json& j) { return cv::Rect(j[0].get<int>(), j[1].get<int>(), j[2].get<int>(), j[3].get<int>()); }

std::string slurp(const std::string& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// Two samples; B's attributions are half of A's.
const std::map<std::string, double> kA = {{"mouth_width", 1.0}, {"mouth_height", -0.6}, {"eyebrow_slope_l", 0.4},
                                          {"mouth_opening", 0.3}, {"bottom_lip_curvature", -0.2}, {"eye_aspect_ratio_l", 0.1}};
std::map<std::string, double> half(const std::map<std::string, double>& m) {
  auto o = m;
  for (auto& [k, v] : o) v /= 2;
  return o;
}

void setup_geometric(mien::testing::Runner& r) {
  const std::vector<std::string> ids = {"A", "B"};
  r.set_input("images", images(2), MIEN_PIXEL_RGB);
  r.set_input("table", sample_table(ids, {3, 5}, {"S", "HL"}));
  r.set_input("attributions", attributions(ids, {kA, half(kA)}, {"happy", "happy"}));
  r.set_input("predictions", predictions(ids, {{.1, .1, .1, .4, .1, .1, .1}, {.05, .05, .05, .6, .1, .1, .05}}));
}

}  // namespace

TEST(Render, TextExplanationFollowsThePaperTemplate) {
  EXPECT_EQ(text_explanation("happy", "happy", {"Width of the mouth", "Height of the mouth"}, 62.98),
            "This person's emotion is classified as HAPPY. This classification is CORRECT.\n"
            "\n"
            "The following 2 features, listed from most important to less important, contributed for 63.0% to the decision:\n"
            "\n"
            "1. Width of the mouth\n"
            "2. Height of the mouth\n");
  EXPECT_EQ(text_explanation("fear", "sad", {"Opening of the mouth"}, 10),
            "This person's emotion is classified as AFRAID. This classification is INCORRECT; the correct label is SAD.\n"
            "\n"
            "The following 1 features, listed from most important to less important, contributed for 10.0% to the decision:\n"
            "\n"
            "1. Opening of the mouth\n");
  EXPECT_EQ(text_explanation("anger", "", {}, 0), "This person's emotion is classified as ANGER.\n");
}

TEST(Render, SidedFeaturesSayWhichSideOfThePictureTheyAreOn) {
  // `_l` features lie on the image-left side, which is the person's right: the text must not
  // say a bare "left" that a reader would take as the person's left.
  double w = 0;
  const auto f = top_features({"eye_aspect_ratio_l", "mouth_width"}, {0.5, 0.1}, 2, &w);
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0].description.rfind("Image-left eye", 0), 0u) << f[0].description;
  const std::string text = text_explanation("happy", "", {f[0].description, f[1].description}, w);
  EXPECT_NE(text.find("Left and right are as seen in the picture: image-left is the person's right side."), std::string::npos)
      << text;
  EXPECT_EQ(text_explanation("happy", "", {"Width of the mouth"}, 10).find("Left and right"), std::string::npos);
  for (const auto& g : mien::face::geometric_features()) {
    EXPECT_EQ(std::regex_search(g.description, std::regex("(^|[^-])\\b[Ll]eft\\b")), false) << g.name << ": " << g.description;
    EXPECT_EQ(std::regex_search(g.description, std::regex("(^|[^-])\\b[Rr]ight\\b")), false) << g.name << ": " << g.description;
  }
}

TEST(Render, TopFeaturesAndShares) {
  double w = 0;
  const auto f = top_features({"a", "mouth_width", "c"}, {0.1, -0.3, 0.1}, 2, &w);
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0].name, "mouth_width");
  EXPECT_EQ(f[0].description, "Width of the mouth");
  EXPECT_EQ(f[0].kind, "distance");
  EXPECT_EQ(f[1].name, "a");  // ties: column order
  EXPECT_NEAR(w, 80.0, 1e-9);
  EXPECT_NEAR(f[0].share, 0.6, 1e-9);
}

TEST(Geometric, TextOfAHandMadeSampleMatchesTheTemplate) {
  ComponentRunner<GeometricReport> r({{"top_n", 2}});
  const std::vector<std::string> ids = {"s1"};
  r.set_input("images", images(1), MIEN_PIXEL_RGB);
  r.set_input("table", sample_table(ids, {3}, {"S"}));
  r.set_input("attributions", attributions(ids, {{{"mouth_width", 0.3}, {"mouth_height", -0.2}, {"eye_aspect_ratio_l", 0.15}, {"eye_aspect_ratio_r", -0.15}}}, {"happy"}));
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const Json ex = r.json("explanations");
  const std::string expected =
      "This person's emotion is classified as HAPPY. This classification is CORRECT.\n\n"
      "The following 2 features, listed from most important to less important, contributed for 62.5% to the decision:\n\n"
      "1. Width of the mouth\n2. Height of the mouth\n";
  const Json& s = ex["samples"][0];
  EXPECT_EQ(s["text"], expected);
  EXPECT_EQ(slurp(ex["dir"].get<std::string>() + "/" + s["files"]["text"].get<std::string>()), expected);
  EXPECT_EQ(s["predicted"], "happy");
  EXPECT_EQ(s["true"], "happy");
  EXPECT_EQ(s["correct"], true);
  EXPECT_EQ(s["top_features"][0]["name"], "mouth_width");
  EXPECT_NEAR(s["top_features"][1]["share"].get<double>(), 0.25, 1e-12);
  EXPECT_NEAR(s["weight_percent"].get<double>(), 62.5, 1e-9);
  EXPECT_EQ(r.text("files"), "nodes/report.geometric/files");
  EXPECT_FALSE(s["files"].contains("probabilities"));  // no predictions connected
}

TEST(Geometric, TopFeatureIsDrawnInTheHighestColourAndTheColourBarSpansTheMap) {
  ComponentRunner<GeometricReport> r({{"top_n", 5}, {"size", 384}, {"colours", "value"}});
  setup_geometric(r);
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const Json ex = r.json("explanations");
  ASSERT_EQ(ex["samples"].size(), 2u);
  const Json& s = ex["samples"][0];
  const cv::Mat img = cv::imread(ex["dir"].get<std::string>() + "/" + s["files"]["explanation"].get<std::string>());
  ASSERT_FALSE(img.empty());
  const cv::Vec3b top = colormap_bgr("viridis", 1.0), bottom = colormap_bgr("viridis", 0.0);
  // mouth_width: landmarks 48 (30,110) -> 54 (98,110) in a 128-pixel image, x3 at 384.
  for (double t = 0.1; t <= 0.9; t += 0.1) {
    const int x = static_cast<int>(std::lround(90 + t * (294 - 90)));
    EXPECT_EQ(px(img, x, 330), top) << "at x " << x;
  }
  // Far from any feature: the grey face.
  EXPECT_EQ(px(img, 370, 370), cv::Vec3b(128, 128, 128));
  const cv::Rect bar = rect(s["layout"]["colorbar"]);
  EXPECT_EQ(px(img, bar.x + bar.width / 2, bar.y), top);
  EXPECT_EQ(px(img, bar.x + bar.width / 2, bar.y + bar.height - 1), bottom);
  // The scale is min..max |attribution| of the five shown features, and labelled so.
  EXPECT_DOUBLE_EQ(s["scale"]["hi"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(s["scale"]["lo"].get<double>(), 0.2);
  EXPECT_EQ(s["scale"]["hi_label"], "1.00");
  EXPECT_EQ(s["scale"]["lo_label"], "0.2");
  // Legend swatches: rank 1 the top colour, rank 5 the bottom colour, rank 2 in between.
  const auto& sw = s["layout"]["legend_swatches"];
  ASSERT_EQ(sw.size(), 5u);
  auto centre = [&](const Json& j) { const cv::Rect q = rect(j); return px(img, q.x + q.width / 2, q.y + q.height / 2); };
  EXPECT_EQ(centre(sw[0]), top);
  EXPECT_EQ(centre(sw[4]), bottom);
  EXPECT_EQ(centre(sw[1]), colormap_bgr("viridis", (0.6 - 0.2) / 0.8));
  EXPECT_EQ(s["top_features"][1]["name"], "mouth_height");
}

// CIE L*a*b* distance of two BGR colours (OpenCV's 8-bit Lab, rescaled to L 0..100).
double delta_e(const cv::Vec3b& a, const cv::Vec3b& b) {
  cv::Mat m(1, 2, CV_8UC3);
  m.at<cv::Vec3b>(0, 0) = a;
  m.at<cv::Vec3b>(0, 1) = b;
  cv::Mat f, lab;
  m.convertTo(f, CV_32FC3, 1.0 / 255);
  cv::cvtColor(f, lab, cv::COLOR_BGR2Lab);
  return cv::norm(lab.at<cv::Vec3f>(0, 0) - lab.at<cv::Vec3f>(0, 1));
}

TEST(Geometric, ByDefaultEachRankHasItsOwnColourAndTheKeyBarsFollowTheAttributions) {
  ComponentRunner<GeometricReport> r({{"top_n", 5}, {"size", 384}});
  setup_geometric(r);
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const Json ex = r.json("explanations");
  EXPECT_EQ(ex["colours"], "rank");
  const Json& s = ex["samples"][0];
  const cv::Mat img = cv::imread(ex["dir"].get<std::string>() + "/" + s["files"]["explanation"].get<std::string>());
  ASSERT_FALSE(img.empty());
  // The top feature (mouth_width, y = 330 at 384 px) is drawn in the first rank colour.
  for (double t = 0.1; t <= 0.9; t += 0.1) {
    const int x = static_cast<int>(std::lround(90 + t * (294 - 90)));
    EXPECT_EQ(px(img, x, 330), rank_colour(0)) << "at x " << x;
  }
  EXPECT_EQ(px(img, 370, 370), cv::Vec3b(128, 128, 128));
  // The five colours are told apart from each other and from the grey face.
  const cv::Vec3b grey(128, 128, 128);
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_GT(delta_e(rank_colour(i), grey), 20.0) << "rank " << i + 1;
    for (size_t j = i + 1; j < 5; ++j) EXPECT_GT(delta_e(rank_colour(i), rank_colour(j)), 20.0) << i + 1 << " vs " << j + 1;
  }
  // Legend swatches and the JSON's colours match the drawing, rank by rank.
  const auto& sw = s["layout"]["legend_swatches"];
  ASSERT_EQ(sw.size(), 5u);
  ASSERT_EQ(s["feature_colours"].size(), 5u);
  for (size_t k = 0; k < 5; ++k) {
    const cv::Rect q = rect(sw[k]);
    EXPECT_EQ(px(img, q.x + q.width / 2, q.y + q.height / 2), rank_colour(k)) << "rank " << k + 1;
    EXPECT_EQ(s["feature_colours"][k], hex_colour(rank_colour(k)));
  }
  // The key: no colour bar; one bar per rank, its length |attribution| / the top |attribution|.
  EXPECT_FALSE(s["layout"].contains("colorbar"));
  const auto& bars = s["layout"]["rank_bars"];
  ASSERT_EQ(bars.size(), 5u);
  const double top = std::fabs(s["top_features"][0]["attribution"].get<double>());
  for (size_t k = 0; k < 5; ++k) {
    const cv::Rect b = rect(bars[k]);
    int filled = 0;
    for (int x = b.x; x < b.x + b.width; ++x) filled += px(img, x, b.y + b.height / 2) == rank_colour(k) ? 1 : 0;
    const double want = std::fabs(s["top_features"][k]["attribution"].get<double>()) / top * b.width;
    EXPECT_NEAR(filled, want, 3.0) << "rank " << k + 1;
  }
}

TEST(Geometric, RunScaleComparesImagesWhilePerImageDoesNot) {
  const cv::Vec3b top = colormap_bgr("viridis", 1.0);
  for (const std::string mode : {"per_image", "run"}) {
    ComponentRunner<GeometricReport> r({{"scale", mode}, {"colours", "value"}});
    setup_geometric(r);
    ASSERT_EQ(r.run(), MIEN_OK) << r.error();
    const Json ex = r.json("explanations");
    const Json& b = ex["samples"][1];  // attributions half of A's: top 0.5, lowest shown 0.1
    ASSERT_EQ(b["id"], "B");
    const cv::Mat img = cv::imread(ex["dir"].get<std::string>() + "/" + b["files"]["explanation"].get<std::string>());
    const cv::Vec3b seg = px(img, 192, 330);
    if (mode == "per_image") {
      EXPECT_EQ(seg, top);
      EXPECT_DOUBLE_EQ(b["scale"]["hi"].get<double>(), 0.5);
    } else {
      // one scale for both: 0.1 .. 1.0, so B's top (0.5) sits at (0.5-0.1)/0.9.
      EXPECT_DOUBLE_EQ(b["scale"]["lo"].get<double>(), 0.1);
      EXPECT_DOUBLE_EQ(b["scale"]["hi"].get<double>(), 1.0);
      EXPECT_EQ(seg, colormap_bgr("viridis", 0.4 / 0.9));
      EXPECT_NE(seg, top);
    }
  }
}

TEST(Geometric, ProbabilityChartMarksTheTrueClass) {
  ComponentRunner<GeometricReport> r;
  setup_geometric(r);
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const Json ex = r.json("explanations");
  const Json& b = ex["samples"][1];  // true sad, predicted happy
  EXPECT_EQ(b["correct"], false);
  EXPECT_NE(b["text"].get<std::string>().find("INCORRECT; the correct label is SAD."), std::string::npos);
  const cv::Mat chart = cv::imread(ex["dir"].get<std::string>() + "/" + b["files"]["probabilities"].get<std::string>());
  ASSERT_FALSE(chart.empty());
  const auto& bars = b["layout"]["probability_bars"];
  ASSERT_EQ(bars.size(), 7u);
  auto low = [&](int k) { const cv::Rect q = rect(bars[k]); return px(chart, q.x + q.width / 2, q.y + q.height - 3); };
  EXPECT_EQ(low(5), teal_bgr());           // sad: the true class
  EXPECT_EQ(low(3), paleturquoise_bgr());  // happy: predicted, not true
  EXPECT_EQ(low(0), paleturquoise_bgr());
  // Bar heights follow the probabilities: happy (0.6) is filled at 50% height, sad (0.1) is not.
  const cv::Rect h = rect(bars[3]), s = rect(bars[5]);
  EXPECT_EQ(px(chart, h.x + h.width / 2, h.y + h.height / 2), paleturquoise_bgr());
  EXPECT_NE(px(chart, s.x + s.width / 2, s.y + s.height / 2), teal_bgr());
}

TEST(Geometric, ChoosesTheFirstOfEachClassAndCorrectness) {
  Samples s;
  s.n = 6;
  s.truth = {"happy", "happy", "happy", "sad", "sad", "happy"};
  const std::vector<std::string> pred = {"happy", "happy", "sad", "sad", "sad", "sad"};
  EXPECT_EQ(choose_samples(s, pred, std::vector<bool>(6, true), 3), (std::vector<int64_t>{0, 2, 3}));
  EXPECT_EQ(choose_samples(s, pred, std::vector<bool>(6, true), 4), (std::vector<int64_t>{0, 1, 2, 3}));
  EXPECT_EQ(choose_samples(s, pred, {false, true, true, true, true, true}, 2), (std::vector<int64_t>{1, 2}));
}

TEST(Geometric, ClearErrorWithoutLandmarks) {
  ComponentRunner<GeometricReport> r;
  Table t(1);
  t.add_strings("id", MIEN_ROLE_ID, {"A"});
  r.set_input("images", images(1), MIEN_PIXEL_RGB);
  r.set_input("table", std::move(t));
  r.set_input("attributions", attributions({"A"}, {kA}, {"happy"}));
  EXPECT_NE(r.run(), MIEN_OK);
  EXPECT_NE(r.error().find("x0"), std::string::npos) << r.error();
}

TEST(Heatmap, OverlayColourBarAndRange) {
  ComponentRunner<HeatmapReport> r({{"alpha", 1.0}, {"size", 128}});
  const std::vector<std::string> ids = {"A"};
  r.set_input("images", images(1), MIEN_PIXEL_RGB);
  r.set_input("table", sample_table(ids, {3}, {"S"}));
  std::vector<float> m(16 * 16, 0.f);
  for (int y = 0; y < 16; ++y)
    for (int x = 0; x < 16; ++x) m[static_cast<size_t>(y * 16 + x)] = static_cast<float>(x) / 15.f * 2.f;  // 0..2 left to right
  r.set_input("maps", Tensor::from<float>({1, 16, 16}, m));
  r.set_input("predictions", predictions(ids, {{.1, .1, .1, .4, .1, .1, .1}}));
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const Json ex = r.json("explanations");
  const Json& s = ex["samples"][0];
  const cv::Mat img = cv::imread(ex["dir"].get<std::string>() + "/" + s["files"]["explanation"].get<std::string>());
  ASSERT_FALSE(img.empty());
  EXPECT_EQ(px(img, 127, 64), colormap_bgr("viridis", 1.0));
  EXPECT_EQ(px(img, 0, 64), colormap_bgr("viridis", 0.0));
  const cv::Rect bar = rect(s["layout"]["colorbar"]);
  EXPECT_EQ(px(img, bar.x + 2, bar.y), colormap_bgr("viridis", 1.0));
  EXPECT_EQ(px(img, bar.x + 2, bar.y + bar.height - 1), colormap_bgr("viridis", 0.0));
  EXPECT_DOUBLE_EQ(s["map_range"]["max"].get<double>(), 2.0);
  EXPECT_EQ(s["text"], "This person's emotion is classified as HAPPY. This classification is CORRECT.\n");
  EXPECT_TRUE(s["files"].contains("probabilities"));
}

TEST(Heatmap, RunScaleSharesOneRange) {
  ComponentRunner<HeatmapReport> r({{"alpha", 1.0}, {"size", 64}, {"scale", "run"}});
  const std::vector<std::string> ids = {"A", "B"};
  r.set_input("images", images(2), MIEN_PIXEL_RGB);
  r.set_input("table", sample_table(ids, {3, 5}, {"S", "S"}));
  std::vector<float> m(2 * 8 * 8);
  for (int i = 0; i < 2; ++i)
    for (int y = 0; y < 8; ++y)
      for (int x = 0; x < 8; ++x) m[static_cast<size_t>(i * 64 + y * 8 + x)] = static_cast<float>(x) / 7.f * (i == 0 ? 2.f : 1.f);
  r.set_input("maps", Tensor::from<float>({2, 8, 8}, m));
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const Json ex = r.json("explanations");
  const Json& b = ex["samples"][1];
  EXPECT_DOUBLE_EQ(b["scale"]["hi"].get<double>(), 2.0);
  const cv::Mat img = cv::imread(ex["dir"].get<std::string>() + "/" + b["files"]["explanation"].get<std::string>());
  EXPECT_EQ(px(img, 63, 32), colormap_bgr("viridis", 0.5));  // B's max (1) on the shared 0..2 scale
  EXPECT_EQ(b["text"], "No prediction is known for this sample.\n");
  // without predictions the captions cannot say what the model saw: the log names the port
  const auto warned = std::find_if(r.logs().begin(), r.logs().end(), [](const mien::testing::LogLine& l) {
    return l.level == MIEN_LOG_WARNING && l.message.find("2 of 2 drawn faces have no known prediction") != std::string::npos &&
           l.message.find("connect `predictions:`") != std::string::npos;
  });
  EXPECT_NE(warned, r.logs().end()) << "no warning about the unconnected predictions";
}

TEST(Html, AlwaysRuns) { EXPECT_NE(HtmlReport::info().flag_bits() & MIEN_COMPONENT_NONDETERMINISTIC, 0u); }

TEST(Sheet, SideBySidePerSample) {
  ComponentRunner<SheetReport> r({{"size", 192}, {"colours", "value"}});
  const std::vector<std::string> ids = {"A", "B"};
  r.set_input("images", images(2), MIEN_PIXEL_RGB);
  r.set_input("table", sample_table(ids, {3, 5}, {"S", "S"}));
  r.set_input("attributions", attributions(ids, {kA, half(kA)}, {"happy", "happy"}));
  r.set_input("maps", Tensor::from<float>({2, 4, 4}, std::vector<float>(32, 1.f)));
  r.set_input("predictions", predictions(ids, {{.1, .1, .1, .4, .1, .1, .1}, {.05, .05, .05, .6, .1, .1, .05}}));
  r.set_input("map_predictions", predictions(ids, {{.1, .1, .1, .1, .1, .4, .1}, {.1, .1, .1, .1, .1, .4, .1}}));
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const Json ex = r.json("explanations");
  ASSERT_EQ(ex["samples"].size(), 2u);
  const Json& s = ex["samples"][1];
  EXPECT_EQ(s["map_predicted"], "sad");
  EXPECT_EQ(s["map_correct"], true);
  const cv::Mat img = cv::imread(ex["dir"].get<std::string>() + "/" + s["files"]["explanation"].get<std::string>());
  ASSERT_FALSE(img.empty());
  // Left: the top feature (mouth_width, y = 110 * 1.5 = 165) in the top colour.
  const int oy = s["layout"]["geometric"]["offset"][1].get<int>();
  EXPECT_EQ(px(img, 96, oy + 165), colormap_bgr("viridis", 1.0));
  // Right: a flat map is drawn at the top of its scale.
  const int ox = s["layout"]["heatmap"]["offset"][0].get<int>();
  // A flat map sits at the top of its (flat) scale, blended half and half with the grey face.
  const cv::Vec3b c = colormap_bgr("viridis", 1.0);
  const cv::Vec3b blend(cv::saturate_cast<uint8_t>(0.5 * 128 + 0.5 * c[0]), cv::saturate_cast<uint8_t>(0.5 * 128 + 0.5 * c[1]),
                        cv::saturate_cast<uint8_t>(0.5 * 128 + 0.5 * c[2]));
  EXPECT_EQ(px(img, ox + 10, oy + 10), blend);
  EXPECT_GT(img.cols, 2 * 192);
  for (const auto& l : r.logs()) EXPECT_EQ(l.message.find("no known prediction"), std::string::npos) << l.message;
}

namespace {
int count(const std::string& s, const std::string& needle) {
  int n = 0;
  for (size_t p = s.find(needle); p != std::string::npos; p = s.find(needle, p + 1)) ++n;
  return n;
}
}  // namespace

TEST(Html, SelfContainedWithSectionsChartsAndImages) {
  // An explanation input from report.geometric (its files stay alive with its runner).
  ComponentRunner<GeometricReport> g;
  setup_geometric(g);
  ASSERT_EQ(g.run(), MIEN_OK) << g.error();
  const Json explanations = g.json("explanations");

  ComponentRunner<HtmlReport> r;
  r.set_node_name("html");  // the fake host puts node folders in the run folder itself
  const std::string run = r.run_dir();
  Json manifest = {{"experiment", "unit"}, {"seed", 7}, {"mien_version", "0.1.0"}, {"abi", "1.0"},
                   {"plugins", {{"/x/libmien_report.so", {{"plugin", "mien-report"}, {"version", "0.1.0"}, {"sha256", "abcdef0123456789abcdef"}}}}},
                   {"nodes", Json::array({Json{{"name", "data"}, {"type_id", "dataset.table"}, {"version", 1}, {"status", "cached"}, {"wall_seconds", 0.5}},
                                          Json{{"name", "shap"}, {"type_id", "explain.deep_shap"}, {"version", 1}, {"status", "ran"}, {"wall_seconds", 2.0}},
                                          Json{{"name", "mlp[S]"}, {"type_id", "model.mlp"}, {"version", 1}, {"status", "ran"},
                                               {"matrix", {{"pose", "S"}}}},
                                          Json{{"name", "fid[S]"}, {"type_id", "metric.fidelity"}, {"version", 1}, {"status", "ran"},
                                               {"matrix", {{"pose", "S"}}}}})}};
  { std::ofstream(run + "/manifest.json") << manifest.dump(); }
  // The graph as the host writes it: the items' sources, the fidelity copy's model.
  {
    std::ofstream(run + "/resolved.yaml") << "experiment: unit\nnodes:\n  \"mlp[S]\":\n    use: model.mlp@1\n"
                                             "  predict:\n    use: eval.predict@1\n    in:\n      model: \"mlp[S].model\"\n"
                                             "  acc:\n    use: metric.classification@1\n    in:\n      predictions: predict.predictions\n"
                                             "  \"fid[S]\":\n    use: metric.fidelity@1\n    in:\n      model: \"mlp[S].model\"\n"
                                             "  html:\n    use: report.html@1\n    in:\n"
                                             "      items: [acc.metrics, \"fid[S].summary\", geo.explanations, shap.attributions]\n";
  }
  Json cls = {{"metric", "classification"}, {"classes", {"happy", "sad"}}, {"n", 10}, {"accuracy", 0.8}, {"balanced_accuracy", 0.75},
              {"macro_f1", 0.7}, {"bootstrap", {{"confidence", 0.95}, {"accuracy", {{"low", 0.6}, {"high", 0.95}}}}},
              {"confusion", {{"classes", {"happy", "sad"}}, {"counts", {{5, 1}, {1, 3}}}, {"normalized", {{0.833, 0.167}, {0.25, 0.75}}}}}};
  Json fid = {{"metric", "fidelity"}, {"n", {1, 2, 3}}, {"fidelity", {0.5, 0.7, 0.9}}, {"random_fidelity", {0.2, 0.3, 0.4}},
              {"accuracy", {0.4, 0.6, 0.7}}, {"random_accuracy", {0.2, 0.25, 0.3}}, {"explainer", "explain.deep_shap"}};
  r.add_input("items", cls).add_input("items", fid).add_input("items", explanations);
  r.add_input("items", attributions({"A", "B"}, {kA, half(kA)}, {"happy", "happy"}));
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const std::string html = slurp(r.output_dir() + "/report.html");
  ASSERT_FALSE(html.empty());
  // The run folder's copy differs only in where its links to paper/ point.
  std::string moved = slurp(run + "/report.html");
  for (size_t k = moved.find("nodes/html/files/paper/"); k != std::string::npos; k = moved.find("nodes/html/files/paper/", k))
    moved.replace(k, 23, "paper/");
  EXPECT_EQ(moved, html);
  for (const char* sec : {"<h2>Results</h2>", "<h2>Run details</h2>", "<h2>Classification by arm", "<h2>Fidelity",
                          "<h2>Explained faces", "<h2>Feature importance"})
    EXPECT_NE(html.find(sec), std::string::npos) << sec;
  // Results first, run details last; the fidelity copy is titled by its explainer and pose,
  // the arm by its model and the pose it was bound to.
  EXPECT_LT(html.find("<h2>Results</h2>"), html.find("<h2>Classification by arm"));
  EXPECT_LT(html.find("<h2>Explained faces"), html.find("<h2>Run details</h2>"));
  EXPECT_NE(html.find("over n — deep_shap, pose S</h3>"), std::string::npos);
  EXPECT_NE(html.find("<td class=\"l\">mlp (model.mlp)</td><td class=\"l\">pose S</td>"), std::string::npos);
  EXPECT_NE(html.find("Status: <b>finished</b>"), std::string::npos);
  EXPECT_EQ(html.find("running"), std::string::npos);
  // paper/: the tables in three formats, LaTeX with booktabs; the figures as SVG (+ PDF, PNG with librsvg).
  const std::string tex = slurp(r.output_dir() + "/paper/classification_by_arm.tex");
  EXPECT_EQ(count(tex, "\\begin{"), count(tex, "\\end{"));
  EXPECT_NE(tex.find("\\toprule"), std::string::npos);
  EXPECT_NE(tex.find("0.800 [0.600, 0.950]"), std::string::npos);
  EXPECT_NE(slurp(r.output_dir() + "/paper/classification_by_arm.csv").find("\"0.800 [0.600, 0.950]\""), std::string::npos);
  EXPECT_NE(slurp(r.output_dir() + "/paper/explanations_at_n5.md").find("| deep_shap | mlp (model.mlp) | pose S | 0.900 (n=3) |"),
            std::string::npos);
  EXPECT_TRUE(fs::exists(r.output_dir() + "/paper/figures.md"));
#ifdef MIEN_REPORT_HAVE_RSVG
  EXPECT_EQ(slurp(r.output_dir() + "/paper/fidelity_deep_shap_pose_s.pdf").substr(0, 5), "%PDF-");
  EXPECT_EQ(slurp(r.output_dir() + "/paper/fidelity_deep_shap_pose_s.png").substr(1, 3), "PNG");
#endif
  EXPECT_NE(html.find("<svg"), std::string::npos);
  EXPECT_NE(html.find("<polyline"), std::string::npos);
  EXPECT_NE(html.find("random fidelity"), std::string::npos);
  EXPECT_NE(html.find("data:image/png;base64,"), std::string::npos);
  EXPECT_NE(html.find("0.800 [0.600, 0.950]"), std::string::npos);
  EXPECT_NE(html.find("mienFilter"), std::string::npos);
  EXPECT_NE(html.find("data-pose=\"HL\""), std::string::npos);
  EXPECT_EQ(html.find("http://"), std::string::npos);
  EXPECT_EQ(html.find("https://"), std::string::npos);
  EXPECT_EQ(std::regex_search(html, std::regex("(src|href)=\"(?!#|data:|paper/)")), false);
  for (const char* tag : {"html", "head", "body", "main", "section", "div", "table", "tr", "svg", "figure", "select", "script", "style", "pre"})
    EXPECT_EQ(count(html, std::string("<") + tag + ">") + count(html, std::string("<") + tag + " "), count(html, std::string("</") + tag + ">"))
        << tag;
  // Charts also as standalone SVG files.
  const Json charts = Json::parse(slurp(r.output_dir() + "/charts.json"));
  ASSERT_GE(charts.size(), 2u);
  for (const auto& c : charts) {
    const std::string svg = slurp(r.output_dir() + "/" + c.get<std::string>());
    EXPECT_NE(svg.find("xmlns=\"http://www.w3.org/2000/svg\""), std::string::npos);
  }
  EXPECT_EQ(r.text("html"), "report.html");
}

TEST(Html, SectionsOnlyWithTheirData) {
  ComponentRunner<HtmlReport> r({{"copy_to_run", false}});
  r.set_node_name("html");
  r.add_input("items", std::string("hello <world>"));
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const std::string html = slurp(r.output_dir() + "/report.html");
  EXPECT_EQ(html.find("<h2>Run details"), std::string::npos);
  EXPECT_EQ(html.find("<h2>Classification"), std::string::npos);
  EXPECT_NE(html.find("hello &lt;world&gt;"), std::string::npos);
  EXPECT_FALSE(fs::exists(r.run_dir() + "/report.html"));
}

namespace {

TEST(Landmarks, DotsAreDrawnAtTheLandmarksAndNowhereElse) {
  ComponentRunner<mien::report::LandmarksReport> r({{"radius", 1}});
  r.set_input("images", images(1), MIEN_PIXEL_RGB);
  r.set_input("table", sample_table({"A"}, {3}, {"S"}));
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const Json index = r.json("index");
  ASSERT_EQ(index.size(), 1u);
  const cv::Mat img = cv::imread(r.output_dir() + "/" + index[0]["file"].get<std::string>(), cv::IMREAD_COLOR);
  ASSERT_FALSE(img.empty());
  const cv::Vec3b dot(0, 220, 255), grey(128, 128, 128);
  for (const auto& p : landmarks()) EXPECT_EQ(px(img, static_cast<int>(p.x), static_cast<int>(p.y)), dot) << p;
  EXPECT_EQ(px(img, 120, 3), grey);  // far from every landmark
}

TEST(Landmarks, IdsThatMakeTheSameFileNameGetTheirOwnFiles) {
  // "x 1" and "x_1" are both x_1 once made safe for a file name; neither may overwrite the other.
  ComponentRunner<mien::report::LandmarksReport> r({{"radius", 1}});
  r.set_input("images", images(3), MIEN_PIXEL_RGB);
  r.set_input("table", sample_table({"x 1", "x_1", "x_1_2"}, {3, 3, 3}, {"S", "S", "S"}));
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const Json index = r.json("index");
  ASSERT_EQ(index.size(), 3u);
  std::set<std::string> files;
  for (const auto& e : index) {
    files.insert(e["file"].get<std::string>());
    EXPECT_TRUE(std::filesystem::exists(r.output_dir() + "/" + e["file"].get<std::string>())) << e;
  }
  EXPECT_EQ(files.size(), 3u) << index.dump();
  EXPECT_EQ(index[0]["id"], "x 1");
  EXPECT_EQ(index[0]["file"], "x_1_landmarks.png");
  EXPECT_EQ(index[1]["file"], "x_1_2_landmarks.png");
}

}  // namespace

// ---------------------------------------------------------------- report.survey
namespace {

// report.geometric over faces A, B, C and report.heatmap over B, C, D (their files stay
// alive with the runners).
struct TwoSystems {
  ComponentRunner<GeometricReport> g;
  ComponentRunner<HeatmapReport> h;
  Json geo, heat;
  TwoSystems() {
    const std::vector<std::string> gi = {"A", "B", "C"}, hi = {"B", "C", "D"};
    g.set_input("images", images(3), MIEN_PIXEL_RGB);
    g.set_input("table", sample_table(gi, {3, 5, 1}, {"S", "S", "S"}));
    g.set_input("attributions", attributions(gi, {kA, half(kA), kA}, {"happy", "happy", "anger"}));
    g.set_input("predictions", predictions(gi, {{.1, .1, .1, .4, .1, .1, .1}, {.05, .05, .05, .6, .1, .1, .05}, {.1, .4, .1, .1, .1, .1, .1}}));
    EXPECT_EQ(g.run(), MIEN_OK) << g.error();
    geo = g.json("explanations");
    h.set_input("images", images(3), MIEN_PIXEL_RGB);
    h.set_input("table", sample_table(hi, {5, 1, 2}, {"S", "S", "S"}));
    h.set_input("maps", Tensor::from<float>({3, 4, 4}, std::vector<float>(48, 0.5f)));
    EXPECT_EQ(h.run(), MIEN_OK) << h.error();
    heat = h.json("explanations");
  }
};

std::string between(const std::string& s, const std::string& a, const std::string& b) {
  const auto i = s.find(a);
  if (i == std::string::npos) return "";
  const auto j = s.find(b, i + a.size());
  return j == std::string::npos ? "" : s.substr(i + a.size(), j - i - a.size());
}

}  // namespace

TEST(Survey, OfflinePageWithTheFacesBothSystemsShowAndThePapersStatements) {
  TwoSystems in;
  ComponentRunner<SurveyReport> r({{"samples", 5}});
  r.set_node_name("survey");
  r.add_input("systems", in.geo).add_input("systems", in.heat);
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const std::string html = slurp(r.output_dir() + "/survey.html");
  const Json q = Json::parse(slurp(r.output_dir() + "/questionnaire.json"));
  EXPECT_EQ(r.json("questionnaire"), q);
  EXPECT_EQ(r.text("html"), "nodes/survey/files/survey.html");
  // Only the faces both systems explain, in the reports' order.
  ASSERT_EQ(q["faces"].size(), 2u);
  EXPECT_EQ(q["faces"][0]["id"], "B");
  EXPECT_EQ(q["faces"][1]["id"], "C");
  EXPECT_EQ(q["faces"][0]["true"], "sad");
  // Geometric panel: explanation + probabilities + the paper's text; heat map: its image.
  const Json& gp = q["faces"][0]["panels"]["geometric"];
  EXPECT_EQ(gp["images"].size(), 2u);
  EXPECT_NE(gp["text"].get<std::string>().find("classified as HAPPY"), std::string::npos);
  EXPECT_EQ(q["faces"][0]["panels"]["heatmap"]["images"].size(), 1u);
  // The paper's ten statements, 6 and 7 negatively worded; five levels; one check per system.
  ASSERT_EQ(q["statements"].size(), 10u);
  EXPECT_EQ(q["statements"][0]["text"], "The output representations help me understand how the model works.");
  EXPECT_EQ(q["statements"][9]["id"], "s10");
  for (int i = 0; i < 10; ++i) EXPECT_EQ(q["statements"][i]["reverse"].get<bool>(), i == 5 || i == 6) << i;
  EXPECT_EQ(q["levels"].size(), 5u);
  EXPECT_EQ(q["attention"]["expected"], 4);
  EXPECT_NE(q["attention"]["text"].get<std::string>().find("\"Agree\""), std::string::npos);
  EXPECT_EQ(q["systems"][0]["id"], "geometric");
  EXPECT_EQ(q["systems"][1]["id"], "heatmap");
  EXPECT_EQ(q["id"].get<std::string>().size(), 16u);
  // Images inline: every key the faces use is a PNG data URI; no network, no file links.
  const Json imgs = Json::parse(between(html, "<script type=\"application/json\" id=\"mien-images\">", "</script>"));
  for (const auto& f : q["faces"])
    for (const auto& p : f["panels"])
      for (const auto& k : p["images"]) {
        ASSERT_TRUE(imgs.contains(k.get<std::string>()));
        EXPECT_EQ(imgs[k.get<std::string>()].get<std::string>().rfind("data:image/png;base64,iVBORw0KGgo", 0), 0u);
      }
  EXPECT_EQ(Json::parse(between(html, "<script type=\"application/json\" id=\"mien-questionnaire\">", "</script>")), q);
  EXPECT_EQ(html.find("http://"), std::string::npos);
  EXPECT_EQ(html.find("https://"), std::string::npos);
  EXPECT_EQ(std::regex_search(html, std::regex("(src|href)=\"")), false);
  for (const char* s : {"id=\"participant\"", "id=\"start\"", "id=\"study\"", "new Blob(", "responses-json", "mien-survey-response"})
    EXPECT_NE(html.find(s), std::string::npos) << s;
  // Deterministic: the same inputs give the same page.
  ComponentRunner<SurveyReport> again({{"samples", 5}});
  again.set_node_name("survey");
  again.add_input("systems", in.geo).add_input("systems", in.heat);
  ASSERT_EQ(again.run(), MIEN_OK) << again.error();
  EXPECT_EQ(slurp(again.output_dir() + "/survey.html"), html);
}

TEST(Survey, SeededChoiceExplicitIdsAndCustomQuestions) {
  TwoSystems in;
  auto chosen = [&](uint64_t seed) {
    ComponentRunner<SurveyReport> r({{"samples", 1}}, seed);
    r.add_input("systems", in.geo).add_input("systems", in.heat);
    EXPECT_EQ(r.run(), MIEN_OK) << r.error();
    return r.json("questionnaire")["faces"][0]["id"].get<std::string>();
  };
  std::set<std::string> seen;
  for (uint64_t s = 0; s < 16; ++s) seen.insert(chosen(s));
  EXPECT_EQ(seen, (std::set<std::string>{"B", "C"}));  // both get chosen, nothing else
  EXPECT_EQ(chosen(3), chosen(3));

  ComponentRunner<SurveyReport> r({{"ids", {"C"}}, {"names", {"Geometric SHAP", "Grad-CAM"}},
                                   {"statements", Json::array({"Clear.", Json{{"text", "Confusing."}, {"reverse", true}}})},
                                   {"comparisons", Json::array({"Which is better?"})},
                                   {"levels", {"no", "meh", "yes"}}, {"attention_checks", 0}});
  r.add_input("systems", in.geo).add_input("systems", in.heat);
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const Json q = r.json("questionnaire");
  ASSERT_EQ(q["faces"].size(), 1u);
  EXPECT_EQ(q["faces"][0]["id"], "C");
  EXPECT_EQ(q["systems"][0]["id"], "geometric_shap");
  EXPECT_EQ(q["systems"][1]["name"], "Grad-CAM");
  EXPECT_EQ(q["statements"][1], (Json{{"id", "s2"}, {"text", "Confusing."}, {"reverse", true}}));
  EXPECT_EQ(q["comparisons"][0]["id"], "c1");
  EXPECT_EQ(q["attention"]["per_system"], 0);
  EXPECT_EQ(q["attention"]["expected"], 3);  // three levels: the top one
}

TEST(Survey, ClearErrors) {
  TwoSystems in;
  {
    ComponentRunner<SurveyReport> r({{"ids", {"A"}}});
    r.set_node_name("survey");
    r.add_input("systems", in.geo).add_input("systems", in.heat);
    EXPECT_NE(r.run(), MIEN_OK);
    EXPECT_NE(r.error().find("'A'"), std::string::npos) << r.error();
    EXPECT_NE(r.error().find("CNN heat map"), std::string::npos) << r.error();
    EXPECT_NE(r.error().find("B, C"), std::string::npos) << r.error();
  }
  {
    ComponentRunner<SurveyReport> r({{"names", {"only one"}}});
    r.add_input("systems", in.geo).add_input("systems", in.heat);
    EXPECT_NE(r.run(), MIEN_OK);
    EXPECT_NE(r.error().find("'names'"), std::string::npos) << r.error();
  }
  {
    ComponentRunner<SurveyReport> r;
    r.add_input("systems", Json{{"metric", "fidelity"}});
    EXPECT_NE(r.run(), MIEN_OK);
    EXPECT_NE(r.error().find("explanations"), std::string::npos) << r.error();
  }
  {
    ComponentRunner<SurveyReport> r({{"statements", Json::array({1})}});
    r.add_input("systems", in.geo);
    EXPECT_NE(r.run(), MIEN_OK);
    EXPECT_NE(r.error().find("statements[0]"), std::string::npos) << r.error();
  }
}

// ---------------------------------------------------------------- report.html headline
TEST(Html, HeadlineFromTheItemsItRecognises) {
  Json cls = {{"metric", "classification"}, {"accuracy", 0.9007}, {"group_by", "pose"}, {"group_order", {"S", "HL"}},
              {"bootstrap", {{"accuracy", {{"low", 0.861}, {"high", 0.9365}}}}},
              {"groups", {{"HL", {{"accuracy", 0.905}}}, {"S", {{"accuracy", 0.881}}}}}};
  Json fid = {{"metric", "fidelity"}, {"n", {1, 3, 5, 7}}, {"fidelity", {0.5, 0.7, 0.93, 0.95}}, {"random_fidelity", {0.1, 0.2, 0.36, 0.5}},
              {"accuracy", {0.4, 0.6, 0.86, 0.9}}, {"random_accuracy", {0.1, 0.2, 0.3, 0.4}}, {"explainer", "explain.deep_shap"}};
  Json gt = {{"metric", "ground_truth"}, {"features", {{"k", {1, 3, 5}}, {"precision", {0.69, 0.71, 0.72}}}},
             {"image", {{"mass_mean", 0.2216}, {"mask_area_mean", 0.1232}, {"pointing_rate", 0.3426}}}};
  Json del = {{"metric", "image_deletion"}, {"auc_mean", 0.2389}, {"better", "lower"}};
  Table curve(3);
  curve.add_numbers("epoch", MIEN_ROLE_VALUE, {1, 2, 3}).add_numbers("val_accuracy", MIEN_ROLE_VALUE, {0.2, 0.55, 0.53});
  ComponentRunner<HtmlReport> r({{"copy_to_run", false}, {"title", "T"}});
  r.set_node_name("html");
  r.add_input("items", cls).add_input("items", fid).add_input("items", fid).add_input("items", gt).add_input("items", del);
  r.add_input("items", std::move(curve));
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const Json h = r.json("headline");
  EXPECT_EQ(h["title"], "T");
  std::map<std::string, std::string> rows;
  for (const auto& row : h["rows"]) rows[row["label"].get<std::string>()] = row["value"].get<std::string>();
  EXPECT_EQ(rows["accuracy (all poses together)"], "0.90 [0.86, 0.94]");
  EXPECT_EQ(rows["accuracy (pose S)"], "0.88");
  EXPECT_EQ(rows["accuracy (pose HL)"], "0.91");
  // The same metric twice: each row names its item.
  EXPECT_EQ(rows["fidelity at n=5 (explain.deep_shap), item 2"], "0.93 (random 0.36)");
  EXPECT_EQ(rows["fidelity at n=5 (explain.deep_shap), item 3"], "0.93 (random 0.36)");
  EXPECT_EQ(rows["explanation accuracy at n=5 (explain.deep_shap), item 2"], "0.86 (random 0.30)");
  EXPECT_EQ(rows["ground-truth precision@1"], "0.69");
  EXPECT_EQ(rows["saliency mass inside the AU regions"], "0.22 (regions cover 12% of the image)");
  EXPECT_EQ(rows["pointing game (top pixel inside an AU region)"], "0.34");
  EXPECT_EQ(rows["deletion AUC (mean)"], "0.24 (lower is better)");
  EXPECT_EQ(rows["validation accuracy of the model (last epoch; best)"], "0.53 (0.55, 3 epochs)");  // item not named: no node
  EXPECT_EQ(h["rows"][0]["label"], "accuracy (all poses together)");  // items' order
  // Labels from resolved.yaml's item list when it is there.
  {
    ComponentRunner<HtmlReport> r2({{"copy_to_run", false}});
    r2.set_node_name("html");
    { std::ofstream(r2.run_dir() + "/resolved.yaml") << "nodes:\n  html:\n    use: report.html@1\n    in:\n      items: [\"fid[S].summary\", \"fid[HL].summary\"]\n  other:\n    use: x\n"; }
    // Two copies of unequal size: pooled = weighted by their samples (labelled ones for
    // explanation accuracy), beside the mean and sd over the copies.
    Json small = fid, large = fid;
    small["samples"] = 10;
    small["labelled"] = 10;
    small["fidelity"] = {0.5, 0.7, 0.90, 0.95};
    large["samples"] = 30;
    large["labelled"] = 20;
    large["fidelity"] = {0.5, 0.7, 0.50, 0.95};
    large["accuracy"] = {0.4, 0.6, 0.56, 0.9};
    r2.add_input("items", small).add_input("items", large);
    ASSERT_EQ(r2.run(), MIEN_OK) << r2.error();
    const Json h2 = r2.json("headline");
    // The copies of one matrix node share a row.
    ASSERT_EQ(h2["rows"].size(), 2u);
    EXPECT_EQ(h2["rows"][0]["label"], "fidelity at n=5 (explain.deep_shap)");
    // (0.9 * 10 + 0.5 * 30) / 40 = 0.60; mean 0.70, sd 0.28
    EXPECT_EQ(h2["rows"][0]["value"],
              "S 0.90 (random 0.36); HL 0.50 (random 0.36); pooled 0.60 (random 0.36); mean ± sd over 2 0.70 ± 0.28");
    EXPECT_EQ(h2["rows"][1]["label"], "explanation accuracy at n=5 (explain.deep_shap)");
    // (0.86 * 10 + 0.56 * 20) / 30 = 0.66; mean 0.71, sd 0.21
    EXPECT_EQ(h2["rows"][1]["value"],
              "S 0.86 (random 0.30); HL 0.56 (random 0.30); pooled 0.66 (random 0.30); mean ± sd over 2 0.71 ± 0.21");
  }
}

// One metric from two nodes (the absolute and the subject-relative arm's fidelity), each
// over the same matrix: each node pools its own copies, named by the node; never one pool.
TEST(Html, HeadlinePoolsCopiesOnlyWithinOneNode) {
  ComponentRunner<HtmlReport> r({{"copy_to_run", false}});
  r.set_node_name("html");
  {
    std::ofstream(r.run_dir() + "/resolved.yaml")
        << "nodes:\n  html:\n    use: report.html@1\n    in:\n      items: [\"fid[0].summary\", \"fid[1].summary\", "
           "\"rel_fid[0].summary\", \"rel_fid[1].summary\"]\n";
  }
  auto fid = [](double at5) {
    return Json{{"metric", "fidelity"}, {"n", {5}}, {"fidelity", {at5}}, {"random_fidelity", {0.3}},
                {"explainer", "explain.deep_shap"}, {"samples", 10}};
  };
  r.add_input("items", fid(0.9)).add_input("items", fid(0.7)).add_input("items", fid(0.5)).add_input("items", fid(0.3));
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const Json h = r.json("headline");
  ASSERT_EQ(h["rows"].size(), 2u) << h.dump();
  EXPECT_EQ(h["rows"][0]["label"], "fidelity at n=5 (explain.deep_shap) — fid");
  EXPECT_EQ(h["rows"][0]["value"], "0 0.90 (random 0.30); 1 0.70 (random 0.30); pooled 0.80 (random 0.30); mean ± sd over 2 0.80 ± 0.14");
  EXPECT_EQ(h["rows"][1]["label"], "fidelity at n=5 (explain.deep_shap) — rel_fid");
  EXPECT_EQ(h["rows"][1]["value"], "0 0.50 (random 0.30); 1 0.30 (random 0.30); pooled 0.40 (random 0.30); mean ± sd over 2 0.40 ± 0.14");
}

// Two arms scored by metric.classification with `arm` set: each row is named by its arm,
// not by the node it came from ("accuracy, cnn_accuracy.metrics").
TEST(Html, HeadlineNamesAccuracyRowsByTheirArm) {
  Json geo = {{"metric", "classification"}, {"accuracy", 0.88}, {"arm", "geometric MLP"}, {"group_by", "pose"},
              {"group_order", {"S"}}, {"groups", {{"S", {{"accuracy", 0.92}}}}}};
  Json cnn = {{"metric", "classification"}, {"accuracy", 0.43}, {"arm", "face-api fine-tuned"}, {"group_by", "pose"},
              {"group_order", {"S"}}, {"groups", {{"S", {{"accuracy", 0.40}}}}}};
  Json unnamed = {{"metric", "classification"}, {"accuracy", 0.45}};
  ComponentRunner<HtmlReport> r({{"copy_to_run", false}});
  r.set_node_name("html");
  {
    std::ofstream(r.run_dir() + "/resolved.yaml")
        << "nodes:\n  html:\n    use: report.html@1\n    in:\n      items: [geo_acc.metrics, cnn_acc.metrics, "
           "plain_acc.metrics]\n";
  }
  r.add_input("items", geo).add_input("items", cnn).add_input("items", unnamed);
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const Json headline = r.json("headline");
  std::vector<std::pair<std::string, std::string>> rows;
  for (const auto& row : headline["rows"]) rows.emplace_back(row["label"], row["value"]);
  ASSERT_EQ(rows.size(), 5u);
  EXPECT_EQ(rows[0], std::make_pair(std::string("accuracy of geometric MLP, all poses together"), std::string("0.88")));
  EXPECT_EQ(rows[1], std::make_pair(std::string("accuracy of geometric MLP, pose S"), std::string("0.92")));
  EXPECT_EQ(rows[2], std::make_pair(std::string("accuracy of face-api fine-tuned, all poses together"), std::string("0.43")));
  EXPECT_EQ(rows[3], std::make_pair(std::string("accuracy of face-api fine-tuned, pose S"), std::string("0.40")));
  EXPECT_EQ(rows[4], std::make_pair(std::string("accuracy"), std::string("0.45")));  // no arm: as before
  // The page and the paper table name the arms too.
  const std::string html = slurp(r.output_dir() + "/report.html");
  const auto at = html.find("face-api fine-tuned</td>");
  EXPECT_NE(at, std::string::npos);
  EXPECT_NE(html.find("Classification — face-api fine-tuned: "), std::string::npos);
  const std::string md = slurp(r.output_dir() + "/paper/classification_by_arm.md");
  EXPECT_NE(md.find("| geometric MLP |"), std::string::npos) << md;
}
