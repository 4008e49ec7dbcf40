// The report components (plugins/report/README.md describes their outputs).
#pragma once

#include "samples.hpp"

#include <mien/plugin.hpp>

#include <string>

namespace mien::report {

// Shared ports and parameters.
struct Ports {
  static inline const Input kImages{"images", MIEN_VALUE_IMAGE,
                                    "aligned faces, uint8 [N, H, W, C] (C = 1 or 3), row i = row i of the table"};
  static inline const Input kTable{"table", MIEN_VALUE_TABLE,
                                   "sample table: id, label, groups (pose...), x0..x67 y0..y67 in the images' pixels"};
  static inline const Input kAttributions{"attributions", MIEN_VALUE_TABLE,
                                          "attribution table (CONVENTIONS.md): FEATURE columns named as the geometric features"};
  static inline const Input kMaps{"maps", MIEN_VALUE_TENSOR, "saliency maps, float32 [N, H, W], row i = row i of the images"};
  static inline const Input kPredictions{"predictions", MIEN_VALUE_TABLE,
                                         "eval.predict's table (id, predicted, p_<class>) for the probability chart",
                                         MIEN_PORT_OPTIONAL};
  static inline const Output kExplanations{"explanations", MIEN_VALUE_JSON,
                                           "per rendered sample: file names, the text explanation and every field"};
  static inline const Output kFiles{"files", MIEN_VALUE_STRING,
                                    "the folder of the PNG/TXT/JSON files, relative to the run folder (nodes/<node>/files)"};

  static inline const Param<int> kSamples =
      Param<int>("samples", 24,
                 "Most samples rendered, chosen deterministically: the first of each (true class, correct/incorrect) "
                 "group, then the second of each, ... (in row order)")
          .range(1, 100000);
  static inline const Param<int> kSize = Param<int>("size", 384, "Side of the rendered face in pixels").range(64, 4096);
  static inline const Param<std::string> kScale =
      Param<std::string>("scale", "per_image",
                         "Colour scale: per_image (min..max of each image's shown values, as in the paper) or run (one "
                         "scale for all rendered images, so their colours compare)")
          .one_of({"per_image", "run"});
  static inline const Param<std::string> kColormap =
      Param<std::string>("colormap", "viridis", "Colour map (viridis is perceptually uniform)")
          .one_of({"viridis", "magma", "inferno", "plasma", "jet", "hot"});
};

// report.geometric: the paper's visual + text explanation of a geometric-feature model.
//
// Example config:
//   report: {use: report.geometric, with: {top_n: 5, scale: per_image},
//            in: {images: align.images, table: feats.table, attributions: shap.attributions,
//                 predictions: predict.predictions}}
class GeometricReport {
 public:
  static inline const Param<int> kTopN = Param<int>("top_n", 5, "Features drawn and listed per sample (the paper: 5)").range(1, 40);
  static inline const Param<std::string> kColours =
      Param<std::string>("colours", "rank",
                         "How drawn features are coloured: rank (one distinct colour per rank, Okabe-Ito palette, with "
                         "bars of |attribution| at the right; readable for 5 features on a grey face) or value (by "
                         "|attribution| on the colour map, with a colour bar, as in the paper)")
          .one_of({"rank", "value"});
  static ComponentInfo info() {
    return ComponentInfo("report.geometric", 1, MIEN_KIND_REPORT,
                         "Draws each sample's top-n geometric features on the face, coloured by rank (or by "
                         "|attribution|), with a key, legend, probability chart and the paper's text explanation")
        .params(kTopN, kColours, Ports::kScale, Ports::kSamples, Ports::kSize, Ports::kColormap)
        .ports(Ports::kImages, Ports::kTable, Ports::kAttributions, Ports::kPredictions, Ports::kExplanations, Ports::kFiles);
  }
  explicit GeometricReport(const Setup& s);
  void process(Context& ctx);

 private:
  int top_n_, samples_, size_;
  std::string colours_, scale_, cmap_, node_;
};

// report.heatmap: a saliency map (Grad-CAM, occlusion, ...) over the face.
//
// Example config:
//   cam: {use: report.heatmap, with: {alpha: 0.5},
//         in: {images: align.images, maps: gradcam.maps, table: align.table, predictions: cnn_predict.predictions}}
class HeatmapReport {
 public:
  static inline const Param<double> kAlpha =
      Param<double>("alpha", 0.5, "Opacity of the coloured map over the face (0 = face only, 1 = map only)").range(0, 1);
  static ComponentInfo info() {
    return ComponentInfo("report.heatmap", 1, MIEN_KIND_REPORT,
                         "Overlays each sample's saliency map on the face with a colour bar, probability chart and a "
                         "short text")
        .params(kAlpha, Ports::kScale, Ports::kSamples, Ports::kSize, Ports::kColormap)
        .ports(Ports::kImages, Ports::kMaps, Ports::kTable, Ports::kPredictions, Ports::kExplanations, Ports::kFiles);
  }
  explicit HeatmapReport(const Setup& s);
  void process(Context& ctx);

 private:
  double alpha_;
  int samples_, size_;
  std::string scale_, cmap_, node_;
};

// report.sheet: the paper's comparison, one PNG per sample: the geometric explanation and
// the CNN's heat map of the same face side by side, each above its probability chart.
// It renders both from the data (images, table, attributions, maps), so it depends on no
// other report's files.
//
// Example config:
//   sheet: {use: report.sheet, in: {images: align.images, table: feats.table,
//           attributions: shap.attributions, maps: gradcam.maps,
//           predictions: mlp_predict.predictions, map_predictions: cnn_predict.predictions}}
class SheetReport {
 public:
  static inline const Input kMapPredictions{"map_predictions", MIEN_VALUE_TABLE,
                                            "the CNN's eval.predict table for the heat map's probability chart",
                                            MIEN_PORT_OPTIONAL};
  static ComponentInfo info() {
    return ComponentInfo("report.sheet", 1, MIEN_KIND_REPORT,
                         "Side-by-side sheet per sample: geometric explanation and heat map of the same face, each with "
                         "its probabilities")
        .params(GeometricReport::kTopN, GeometricReport::kColours, HeatmapReport::kAlpha, Ports::kScale, Ports::kSamples,
                Ports::kSize, Ports::kColormap)
        .ports(Ports::kImages, Ports::kTable, Ports::kAttributions, Ports::kMaps, Ports::kPredictions, kMapPredictions,
               Ports::kExplanations, Ports::kFiles);
  }
  explicit SheetReport(const Setup& s);
  void process(Context& ctx);

 private:
  int top_n_, samples_, size_;
  double alpha_;
  std::string colours_, scale_, cmap_, node_;
};

// report.html: one self-contained HTML file of the run.
//
// Example config:
//   html: {use: report.html, with: {title: "KDEF frontal"},
//          in: {items: [metrics.summary, shap.attributions, fidelity.summary, report.explanations]}}
class HtmlReport {
 public:
  static inline const Param<std::string> kTitle{"title", "", "Page title (default: the experiment's name)"};
  static inline const Param<bool> kCopy{"copy_to_run", true,
                                        "Also write <run folder>/report.html (atomically: temp file + rename)"};
  static inline const Param<int> kMaxImages =
      Param<int>("max_images", 200, "Most gallery images embedded per explanation input").range(0, 100000);
  static inline const Input kItems{"items", MIEN_VALUE_ANY,
                                   "any node outputs: metrics JSON, attribution or curve tables, report explanations, "
                                   "text; each becomes a section",
                                   // PARTIAL: a failed node's item is left out; the report
                                   // still renders and lists the failure
                                   MIEN_PORT_OPTIONAL | MIEN_PORT_MULTIPLE | MIEN_PORT_PARTIAL};
  static inline const Output kHtml{"html", MIEN_VALUE_STRING,
                                   "the HTML file's path relative to the run folder (report.html, or nodes/<node>/files/report.html)"};
  static inline const Output kHeadline{"headline", MIEN_VALUE_JSON,
                                       "the run's key figures for the terminal: {title, rows: [{label, value}]} (values "
                                       "formatted), from the items it recognises"};
  static ComponentInfo info() {
    return ComponentInfo("report.html", 1, MIEN_KIND_REPORT,
                         "One self-contained offline HTML report: run summary, metrics, charts (inline SVG, also "
                         "written as .svg files), explanation galleries with filters")
        .params(kTitle, kCopy, kMaxImages)
        .ports(kItems, kHtml, kHeadline)
        // It reads the run's manifest (timings, cache hits), so it must run every time.
        .flags(MIEN_COMPONENT_NONDETERMINISTIC);
  }
  explicit HtmlReport(const Setup& s);
  void process(Context& ctx);

 private:
  std::string title_, node_;
  bool copy_;
  int max_images_;
};

// report.landmarks: the landmarks (and face box) drawn on each image.
//
// Example config:
//   check: {use: report.landmarks, in: {table: landmarks.table}}       # photos read from `path`
//   crops: {use: report.landmarks, in: {table: align.table, images: align.images}}
class LandmarksReport {
 public:
  static inline const Param<int> kSamples = Param<int>("samples", 24, "Most images drawn (in row order)").range(1, 100000);
  static inline const Param<int> kRadius =
      Param<int>("radius", 0, "Dot radius in pixels (0 = scaled to the image)").range(0, 100);
  static inline const Input kTable{"table", MIEN_VALUE_TABLE,
                                   "rows with x0..x67 y0..y67 (and face_x/y/w/h) in the images' pixels, or a 'path'"};
  static inline const Input kImages{"images", MIEN_VALUE_IMAGE,
                                    "images the landmarks refer to (row image_index, else row i); else read from 'path'",
                                    MIEN_PORT_OPTIONAL};
  static inline const Output kIndex{"index", MIEN_VALUE_JSON, "id and file name of every drawn image"};
  static ComponentInfo info();
  explicit LandmarksReport(const Setup& s);
  void process(Context& ctx);

 private:
  int samples_;
  int radius_;
};

// report.survey: a static user-study page after the paper's §3.3/§4.4 (plugins/report/README.md).
//
// Example config:
//   survey: {use: report.survey, with: {samples: 4, names: ["Geometric features", "CNN heat map"]},
//            in: {systems: [geometric.explanations, heatmaps.explanations]}}
class SurveyReport {
 public:
  static inline const Input kSystems{"systems", MIEN_VALUE_JSON,
                                     "one explanations output per explained system (report.geometric / report.heatmap "
                                     "/ report.sheet), in order; faces are matched by id",
                                     MIEN_PORT_MULTIPLE};
  static inline const Param<std::vector<std::string>> kNames{
      "names", {}, "Name of each system, in the order of the systems input (default: from the report kind)"};
  static inline const Param<int> kSamples =
      Param<int>("samples", 4, "Faces in the study, a seeded choice among the ids every system explains").range(1, 1000);
  static inline const Param<std::vector<std::string>> kIds{"ids", {}, "Explicit face ids (overrides samples)"};
  static inline const Param<Json> kStatements =
      Param<Json>("statements", Json(),
                  "Per-system Likert statements: strings or {text, reverse} (reverse = negatively worded); null = the "
                  "paper's ten (ter Burg & Kaya 2022, §8)")
          .nullable();
  static inline const Param<Json> kComparisons =
      Param<Json>("comparisons", Json(), "Comparison questions (strings), each answered with one system or 'no difference'; null = the defaults")
          .nullable();
  static inline const Param<std::vector<std::string>> kLevels{
      "levels", {"Strongly disagree", "Disagree", "Neither agree nor disagree", "Agree", "Strongly agree"},
      "Likert levels, lowest first (coded 1..L)"};
  static inline const Param<int> kAttention =
      Param<int>("attention_checks", 1, "Attention-check items per system (\"select 'Agree' for this item\"); 0 = none").range(0, 10);
  static inline const Param<bool> kBlind{"blind", true, "Show systems as Model 1, Model 2 (in each participant's order) instead of their names"};
  static inline const Param<bool> kShowText{"show_text", true, "Show each explanation's text under its image"};
  static inline const Param<bool> kShowProbabilities{"show_probabilities", true, "Show the probability charts when the report made them"};
  static inline const Param<std::string> kTitle{"title", "Explaining facial-expression classifications: a short study", "Page title"};
  static inline const Param<std::string> kIntro{
      "intro",
      "Two models classify the emotion shown on a face, and each explains its decision in its own way. For each model "
      "you will see the same faces with its explanations, then rate statements about them. At the end, compare the "
      "two models and download your answers as a file to hand back.",
      "Introduction shown above the participant-id field"};
  static inline const Output kHtml{"html", MIEN_VALUE_STRING, "survey.html's path relative to the run folder"};
  static inline const Output kQuestionnaire{"questionnaire", MIEN_VALUE_JSON,
                                            "the questionnaire definition (also questionnaire.json): id, statements, systems, faces"};
  static ComponentInfo info() {
    return ComponentInfo("report.survey", 1, MIEN_KIND_REPORT,
                         "A static, offline user-study page: chosen faces with each system's explanation, Likert "
                         "statements per system, comparison questions, per-participant order, attention checks, "
                         "responses downloaded as JSON")
        .params(kNames, kSamples, kIds, kStatements, kComparisons, kLevels, kAttention, kBlind, kShowText,
                kShowProbabilities, kTitle, kIntro)
        .ports(kSystems, kHtml, kQuestionnaire);
  }
  explicit SurveyReport(const Setup& s);
  void process(Context& ctx);

  // The paper's ten statements (ter Burg & Kaya 2022, §8.1); 6 and 7 are negatively worded.
  static Json default_statements();
  static Json default_comparisons();

 private:
  std::vector<std::string> names_, ids_, levels_;
  int samples_, attention_;
  Json statements_, comparisons_;
  bool blind_, show_text_, show_probs_;
  std::string title_, intro_, node_;
  uint64_t seed_;
};

// Where a report's file is: <run>/<files>/<name>, else the folder it was written to, else
// any nodes/*/files/ of the run. "" when not found.
std::string find_report_file(const std::string& run_dir, const Json& explanations, const std::string& file);

// The headline of report.html from its JSON items (metric outputs): rows of {label, value}.
// items: (item label, JSON) pairs; tables are passed as (label, {"table_metric": ..., columns}).
Json headline_rows(const std::vector<std::pair<std::string, Json>>& items);

}  // namespace mien::report
