// The shipped experiments, whole, on generated fixtures: mien-synth-dataset writes
// synthetic faces under KDEF / JAFFE / CK+ naming into a temporary folder, `mien run`
// runs configs/paper_kdef.yaml, jaffe.yaml or ckplus.yaml on it, and the run folder is
// checked: exit 0, every node ran, report.html, accuracy above chance, fidelity curves.
// Also: the readers read every file the tool writes, and the tool is deterministic.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const std::string kMien = MIEN_EXE;
const std::string kSynth = SYNTH_EXE;
const std::string kConfigs = std::string(MIEN_SOURCE_DIR) + "/configs";

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream os;
  os << in.rdbuf();
  return os.str();
}

json read_json(const fs::path& p) {
  std::ifstream in(p);
  EXPECT_TRUE(in.good()) << "missing " << p;
  return json::parse(in);
}

// Rows of a CSV written by mien (no quoted commas in the columns read here).
std::vector<std::map<std::string, std::string>> read_csv(const fs::path& p) {
  std::ifstream in(p);
  std::string line;
  std::vector<std::string> head;
  std::vector<std::map<std::string, std::string>> rows;
  // RFC 4180 cells: a quoted cell may hold commas ("geometric MLP, subject-relative") and
  // doubled quotes. (No quoted line breaks: mien's tables do not write them.)
  auto split = [](const std::string& s) {
    std::vector<std::string> out(1);
    bool quoted = false;
    for (size_t i = 0; i < s.size(); ++i) {
      const char c = s[i];
      if (quoted && c == '"' && i + 1 < s.size() && s[i + 1] == '"') out.back() += '"', ++i;
      else if (c == '"') quoted = !quoted;
      else if (c == ',' && !quoted) out.emplace_back();
      else out.back() += c;
    }
    return out;
  };
  if (!std::getline(in, line)) return rows;
  head = split(line);
  while (std::getline(in, line)) {
    const auto cells = split(line);
    std::map<std::string, std::string> r;
    for (size_t i = 0; i < head.size() && i < cells.size(); ++i) r[head[i]] = cells[i];
    rows.push_back(r);
  }
  return rows;
}

class ConfigFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("mien-cfg-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(dir_);
  }

  // Runs a shell command, output to dir_/<log>; returns the exit status.
  int sh(const std::string& cmd, const std::string& log) {
    const std::string full = cmd + " >'" + (dir_ / log).string() + "' 2>&1";
    const int rc = std::system(full.c_str());
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  }
  std::string log(const std::string& name) { return slurp(dir_ / name); }

  json synth(const std::string& args, const std::string& out) {
    const fs::path manifest = dir_ / (out + ".manifest.json");
    const int rc = sh("'" + kSynth + "' " + args + " --out '" + (dir_ / out).string() + "' --manifest '" +
                          manifest.string() + "'",
                      out + ".synth.log");
    EXPECT_EQ(rc, 0) << log(out + ".synth.log");
    return rc == 0 ? read_json(manifest) : json::object();
  }

  // `mien run` of an experiment with env assignments and overrides; one thread per node
  // (ctest runs two tests at a time on two cores).
  int mien(const std::string& env, const std::string& experiment, const std::string& run,
           const std::vector<std::string>& sets = {}) {
    std::string cmd = env + " '" + kMien + "' run '" + experiment + "' --out '" + (dir_ / run).string() +
                      "' --cache-dir '" + (dir_ / "cache").string() + "' --threads 1";
    for (const auto& s : sets) cmd += " --set '" + s + "'";
    return sh(cmd, run + ".log");
  }

  // Every node of the run ran (none failed, skipped or came from a cache).
  void expect_all_ran(const std::string& run, size_t min_nodes) {
    const json m = read_json(dir_ / run / "manifest.json");
    EXPECT_EQ(m["status"], "completed") << m["status"];
    ASSERT_GE(m["nodes"].size(), min_nodes);
    for (const auto& n : m["nodes"]) EXPECT_EQ(n["status"], "ran") << n["name"];
    const std::string html = slurp(dir_ / run / "report.html");
    EXPECT_GT(html.size(), 10000u);
    EXPECT_NE(html.find("<html"), std::string::npos);
  }

  // A fidelity curve: n = 1..10, fidelity and the random control in [0, 1], and Deep SHAP's
  // top features keep the prediction more often than random ones (averaged over n).
  void expect_fidelity_curve(const fs::path& csv) {
    const auto rows = read_csv(csv);
    ASSERT_EQ(rows.size(), 10u) << csv;
    double fid = 0, rnd = 0;
    for (size_t i = 0; i < rows.size(); ++i) {
      EXPECT_EQ(std::stod(rows[i].at("n")), static_cast<double>(i + 1));
      for (const char* c : {"fidelity", "accuracy", "random_fidelity", "random_accuracy"}) {
        const double v = std::stod(rows[i].at(c));
        EXPECT_GE(v, 0.0);
        EXPECT_LE(v, 1.0);
      }
      fid += std::stod(rows[i].at("fidelity"));
      rnd += std::stod(rows[i].at("random_fidelity"));
    }
    EXPECT_GT(fid, rnd + 0.5) << csv << ": Deep SHAP's ranking should beat the random control";
  }

  // The study's comparison (report.held_out_accuracy): the arms in order, each scored on
  // `n` faces (the scope "all"), CI around the accuracy, from tables[a] prediction tables.
  void expect_comparison(const fs::path& nodes, const std::vector<std::string>& arms, int n, const std::vector<int>& tables) {
    expect_comparison(nodes, arms, std::vector<int>(arms.size(), n), tables);
  }
  // The same with each arm's own number of test faces (an arm may score a subset of them).
  void expect_comparison(const fs::path& nodes, const std::vector<std::string>& arms, const std::vector<int>& ns,
                         const std::vector<int>& tables) {
    std::vector<std::map<std::string, std::string>> all;
    for (const auto& r : read_csv(nodes / "comparison/table.csv"))
      if (r.at("scope") == "all") all.push_back(r);
    ASSERT_EQ(all.size(), arms.size());
    for (size_t a = 0; a < arms.size(); ++a) {
      EXPECT_EQ(all[a].at("arm"), arms[a]);
      EXPECT_EQ(std::stoi(all[a].at("n")), ns[a]) << arms[a] << ": every test face once, by a model that never saw its person";
      const double acc = std::stod(all[a].at("accuracy"));
      EXPECT_LE(std::stod(all[a].at("ci_low")), acc);
      EXPECT_GE(std::stod(all[a].at("ci_high")), acc);
      EXPECT_EQ(std::stoi(all[a].at("tables")), tables[a]) << arms[a];
    }
  }

  // Every face a heat-map report drew has its model's prediction (no "Predicted: ?").
  void expect_predictions_known(const fs::path& explanations_json) {
    const json ex = read_json(explanations_json);
    ASSERT_FALSE(ex["samples"].empty()) << explanations_json;
    for (const auto& s : ex["samples"]) EXPECT_TRUE(s["predicted"].is_string()) << explanations_json << " " << s["id"];
  }

  fs::path dir_;
};

std::set<std::string> stems(const json& manifest, const std::string& ext) {
  std::set<std::string> out;
  for (const auto& p : manifest["paths"]) {
    const fs::path f = p.get<std::string>();
    if (f.extension() == ext) out.insert(f.stem().string());
  }
  return out;
}

std::string reader_yaml(const std::string& component, const std::string& with) {
  return "experiment: reader\nnodes:\n  data: {use: " + component + ", with: {" + with + "}}\n";
}

}  // namespace

// ---- the tool: every file it writes is read, under the right label ------------------------------

TEST_F(ConfigFixture, KdefReaderReadsEveryFileTheToolWrites) {
  const json m = synth("--layout kdef --subjects 4 --size 96x128 --seed 3", "kdef");
  ASSERT_EQ(m["images"], 4 * 7 * 3 * 2);
  std::ofstream(dir_ / "r.yaml") << reader_yaml("dataset.kdef", "root: \"" + (dir_ / "kdef").string() + "\"");
  ASSERT_EQ(mien("", (dir_ / "r.yaml").string(), "run"), 0) << log("run.log");
  const json s = read_json(dir_ / "run/nodes/data/summary.json");
  EXPECT_EQ(s["samples"], m["images"]);
  EXPECT_EQ(s["skipped"]["count"], 0);
  EXPECT_EQ(s["ignored_files"]["not_images"], 0);
  EXPECT_EQ(s["ignored_files"]["hidden"], 0);
  EXPECT_EQ(s["group_counts"]["subject"].size(), 4u);  // F01 M01 F02 M02, each in both series
  EXPECT_EQ(s["group_counts"]["series"]["A"], 84);
  const auto rows = read_csv(dir_ / "run/nodes/data/table.csv");
  const auto files = stems(m, ".JPG");
  ASSERT_EQ(rows.size(), files.size());
  const std::map<std::string, std::string> code = {{"AF", "fear"}, {"AN", "anger"}, {"DI", "disgust"}, {"HA", "happy"},
                                                   {"NE", "neutral"}, {"SA", "sad"}, {"SU", "surprise"}};
  for (const auto& r : rows) {
    EXPECT_TRUE(files.count(r.at("id"))) << r.at("id");
    EXPECT_EQ(r.at("label"), code.at(r.at("id").substr(4, 2))) << r.at("id");
    // KDEF/AF01/AF01AFS.JPG: the folder is the name's first four letters
    EXPECT_EQ(fs::path(r.at("path")).parent_path().filename().string(), r.at("id").substr(0, 4));
  }
}

TEST_F(ConfigFixture, KdefToolRejectsProfilesItCannotRender) {
  EXPECT_EQ(sh("'" + kSynth + "' --layout kdef --out '" + (dir_ / "x").string() + "' --poses S,FL", "fl.log"), 2);
  EXPECT_NE(log("fl.log").find("S, HL and HR only"), std::string::npos) << log("fl.log");
  EXPECT_EQ(sh("'" + kSynth + "' --layout kdfe --out '" + (dir_ / "x").string() + "'", "layout.log"), 2);
  EXPECT_NE(log("layout.log").find("kdef, jaffe or ckplus"), std::string::npos);
  EXPECT_EQ(sh("'" + kSynth + "' --layout kdef --out '" + (dir_ / "x").string() + "' --subjects 71", "n.log"), 2);
}

TEST_F(ConfigFixture, KdefToolWritesOnlyThePosesAsked) {
  const json m = synth("--layout kdef --subjects 2 --size 64x80 --poses HR", "hr");
  EXPECT_EQ(m["images"], 2 * 7 * 2);
  for (const auto& s : stems(m, ".JPG")) EXPECT_EQ(s.substr(s.size() - 2), "HR") << s;
}

TEST_F(ConfigFixture, JaffeReaderReadsEveryFileTheToolWrites) {
  // 12 people: the real ten initials, then two more two-letter codes
  const json m = synth("--layout jaffe --subjects 12 --takes 2 --size 64x64", "jaffe");
  ASSERT_EQ(m["images"], 12 * 7 * 2);
  std::ofstream(dir_ / "r.yaml") << reader_yaml("dataset.jaffe", "root: \"" + (dir_ / "jaffe").string() + "\"");
  ASSERT_EQ(mien("", (dir_ / "r.yaml").string(), "run"), 0) << log("run.log");
  const json s = read_json(dir_ / "run/nodes/data/summary.json");
  EXPECT_EQ(s["samples"], m["images"]);
  EXPECT_EQ(s["skipped"]["count"], 0);
  EXPECT_EQ(s["group_counts"]["subject"].size(), 12u);
  for (const char* who : {"KA", "YM", "AA", "AB"}) EXPECT_EQ(s["group_counts"]["subject"][who], 14) << who;
  for (const auto& [cls, count] : s["class_counts"].items()) EXPECT_EQ(count, 24) << cls;
  const auto files = stems(m, ".tiff");
  const auto rows = read_csv(dir_ / "run/nodes/data/table.csv");
  ASSERT_EQ(rows.size(), files.size());
  for (const auto& r : rows) EXPECT_TRUE(files.count(r.at("id"))) << r.at("id");
}

TEST_F(ConfigFixture, CkplusReaderReadsEveryFrameLabelAndLandmarkFile) {
  // peak_frames = frames - 1 and the neutral first frame: every written frame is a sample
  const json m = synth("--layout ckplus --subjects 3 --frames 5 --size 96x80 --landmarks", "ck");
  ASSERT_EQ(m["images"], 3 * 6 * 5);
  ASSERT_EQ(m["files"], 3 * 6 * 5 * 2 + 3 * 6);  // images, landmarks, one emotion file per sequence
  std::ofstream(dir_ / "r.yaml") << reader_yaml("dataset.ckplus", "root: \"" + (dir_ / "ck").string() +
                                                                      "\", peak_frames: 4, use_landmarks: true");
  ASSERT_EQ(mien("", (dir_ / "r.yaml").string(), "run"), 0) << log("run.log");
  const json s = read_json(dir_ / "run/nodes/data/summary.json");
  EXPECT_EQ(s["samples"], m["images"]);
  EXPECT_EQ(s["skipped"]["count"], 0);
  EXPECT_EQ(s["sequences"]["labelled"], 18);
  EXPECT_EQ(s["class_counts"]["neutral"], 18);
  for (const char* c : {"fear", "anger", "disgust", "happy", "sad", "surprise"}) EXPECT_EQ(s["class_counts"][c], 12) << c;
  const auto rows = read_csv(dir_ / "run/nodes/data/table.csv");
  const auto files = stems(m, ".png");
  ASSERT_EQ(rows.size(), files.size());
  for (const auto& r : rows) {
    EXPECT_TRUE(files.count(r.at("id"))) << r.at("id");
    // the landmarks (written in canvas pixels) lie inside the 96x80 image
    for (const char* c : {"x0", "x16", "x30", "x57"}) {
      const double x = std::stod(r.at(c));
      EXPECT_GT(x, 0);
      EXPECT_LT(x, 96);
    }
  }
}

TEST_F(ConfigFixture, ToolIsDeterministic) {
  const json a = synth("--layout ckplus --subjects 2 --frames 3 --size 64x64 --landmarks --seed 9", "a");
  const json b = synth("--layout ckplus --subjects 2 --frames 3 --size 64x64 --landmarks --seed 9", "b");
  const json c = synth("--layout ckplus --subjects 2 --frames 3 --size 64x64 --landmarks --seed 10", "c");
  ASSERT_EQ(a["paths"], b["paths"]);
  size_t differ = 0;
  for (const auto& p : a["paths"]) {
    const std::string rel = p.get<std::string>();
    EXPECT_EQ(slurp(dir_ / "a" / rel), slurp(dir_ / "b" / rel)) << rel;
    if (slurp(dir_ / "a" / rel) != slurp(dir_ / "c" / rel)) ++differ;
  }
  EXPECT_GT(differ, a["paths"].size() / 2) << "another seed should give other faces";
}

// ---- the shipped experiments, whole --------------------------------------------------------------

TEST_F(ConfigFixture, PaperKdefRunsWholeOnAKdefLayoutFixture) {
  // 10 people: 2 test, 1 validation, 7 training; 420 images of 192x256
  // (faces are >= 90 px wide, so detection needs no upsampling: --set vars.upsample=0)
  synth("--layout kdef --subjects 10 --seed 1", "KDEF_copy");
  const int rc = mien("KDEF_ROOT='" + (dir_ / "KDEF_copy").string() + "'", kConfigs + "/paper_kdef.yaml", "run",
                      {"vars.cnn_epochs=2", "vars.upsample=0", "nodes.deletion.with.steps=5"});
  ASSERT_EQ(rc, 0) << log("run.log");
  expect_all_ran("run", 65);
  const fs::path n = dir_ / "run/nodes";
  const json data = read_json(n / "data/summary.json");
  EXPECT_EQ(data["samples"], 420);
  // the detector finds (nearly) every synthetic face, in all three poses
  EXPECT_LE(read_csv(n / "detect/skipped.csv").size(), 8u);
  const json acc = read_json(n / "accuracy/metrics.json");
  EXPECT_GT(acc["accuracy"].get<double>(), 0.35) << "chance is 1/7";
  EXPECT_GE(acc["n"].get<int>(), 80);  // 2 test people x 7 x 3 poses x 2 series, minus missed faces
  for (const char* pose : {"S", "HL", "HR"}) {
    ASSERT_TRUE(acc["groups"].contains(pose)) << pose;
    EXPECT_GT(acc["groups"][pose]["accuracy"].get<double>(), 0.2) << pose;
    expect_fidelity_curve(n / (std::string("fidelity-") + pose) / "curve.csv");
  }
  // the paper's per-pose subsets reached the models: 30 / 25 / 30 features
  EXPECT_EQ(read_json(n / "pose_features-S/selected.json")["features"].size(), 30u);
  EXPECT_EQ(read_json(n / "pose_features-HL/selected.json")["features"].size(), 25u);
  // the split is subject-independent: no test person among the training rows
  std::set<std::string> train_people, test_people;
  for (const auto& r : read_csv(n / "train-S/table.csv")) train_people.insert(r.at("subject"));
  for (const auto& r : read_csv(n / "test-S/table.csv")) test_people.insert(r.at("subject"));
  EXPECT_EQ(test_people.size(), 2u);
  for (const auto& p : test_people) EXPECT_FALSE(train_people.count(p)) << p;
  EXPECT_TRUE(fs::exists(n / "gradcam/maps.npy"));
  // the CNN arms scored on the same test people as the MLPs (the MLPs: three pose tables)
  const int test_faces = static_cast<int>(read_csv(n / "test_faces/table.csv").size());
  EXPECT_EQ(acc["n"].get<int>(), test_faces);
  int relative_test = 0;  // the test faces less the neutral ones (the subject-relative arm's baseline)
  for (const char* pose : {"S", "HL", "HR"})
    relative_test += static_cast<int>(read_csv(n / (std::string("rel_test-") + pose) / "table.csv").size());
  EXPECT_LT(relative_test, test_faces);
  EXPECT_GT(relative_test, test_faces / 2);
  expect_comparison(n,
                    {"geometric MLP (one per pose)",
                     "geometric MLP, subject-relative (no neutral class)",
                     "face-api as shipped (zero-shot)", "face-api fine-tuned"},
                    {test_faces, relative_test, test_faces, test_faces}, {3, 3, 1, 1});
  const auto cmp = read_csv(n / "comparison/table.csv");
  EXPECT_EQ(cmp.size(), 4u * 4u) << "each arm: all, S, HL, HR";
  const json rel = read_json(n / "rel_accuracy/metrics.json");
  EXPECT_EQ(rel["classes"].size(), 6u);
  for (const char* pose : {"S", "HL", "HR"}) {
    const fs::path fid = n / (std::string("rel_fidelity-") + pose);
    expect_fidelity_curve(fid / "curve.csv");
    EXPECT_TRUE(read_json(fid / "summary.json").contains("baseline")) << pose;
  }
  expect_predictions_known(n / "heatmaps/explanations.json");

  // paper_kdef_search.yaml on the same copy and cache: the front end comes from the cache,
  // the (shrunk) Hyperband search, RFE and the final MLPs run
  ASSERT_EQ(mien("KDEF_ROOT='" + (dir_ / "KDEF_copy").string() + "'", kConfigs + "/paper_kdef_search.yaml", "search",
                 {"vars.search_epochs=3", "vars.search_iterations=1", "vars.epochs=30", "vars.upsample=0"}),
            0)
      << log("search.log");
  const json sm = read_json(dir_ / "search/manifest.json");
  std::map<std::string, std::string> status;
  for (const auto& node : sm["nodes"]) status[node["name"]] = node["status"];
  for (const char* cached : {"data", "detect", "landmarks", "aligned", "features", "split_test", "split_val"})
    EXPECT_EQ(status[cached], "cached") << cached;
  for (const char* ran : {"search[S]", "search[HL]", "search[HR]", "rfe_S", "mlp_HL", "accuracy", "report"})
    EXPECT_EQ(status[ran], "ran") << ran;
  const fs::path s = dir_ / "search/nodes";
  EXPECT_EQ(read_json(s / "rfe_HL/selected.json")["features"].size(), 25u);
  EXPECT_TRUE(read_json(s / "search-S/best.json").contains("hidden"));
  EXPECT_GT(read_json(s / "accuracy/metrics.json")["accuracy"].get<double>(), 0.35);

  // the file's recipe for a user's own TorchScript CNN instead of face-api (here a tiny
  // untrained grey 128x128 one, the crops' size): only the CNN arm and the report rerun
  const std::string pt = (dir_ / "my_cnn.pt").string();
  ASSERT_EQ(sh("'" + std::string(TINY_TS_EXE) + "' '" + pt + "'", "ts.log"), 0) << log("ts.log");
  ASSERT_EQ(mien("KDEF_ROOT='" + (dir_ / "KDEF_copy").string() + "'", kConfigs + "/paper_kdef.yaml", "ts",
                 {"vars.cnn_epochs=2", "vars.upsample=0", "nodes.deletion.with.steps=5", "nodes.cnn.use=model.torchscript",
                  "nodes.cnn.in={}", "vars.cnn_curve=gradcam.attributions",
                  "nodes.cnn.with={path: " + pt +
                      ", classes: [fear, anger, disgust, happy, neutral, sad, surprise], cam_layer: features, "
                      "input_size: [128, 128], channels: 1}"}),
            0)
      << log("ts.log");
  const json tm = read_json(dir_ / "ts/manifest.json");
  status.clear();
  for (const auto& node : tm["nodes"]) status[node["name"]] = node["status"];
  for (const char* ran : {"cnn", "gradcam", "deletion", "heatmaps", "report"}) EXPECT_EQ(status[ran], "ran") << ran;
  for (const char* cached : {"detect", "mlp_S", "deep_shap[HR]", "fidelity[S]"}) EXPECT_EQ(status[cached], "cached") << cached;
  EXPECT_EQ(read_csv(dir_ / "ts/nodes/gradcam/attributions.csv").size(), read_csv(n / "test_faces/table.csv").size());
}

TEST_F(ConfigFixture, JaffeRunsWholeWithLeaveSubjectsOutFolds) {
  synth("--layout jaffe --subjects 10 --seed 2", "jaffe");
  const int rc = mien("JAFFE_ROOT='" + (dir_ / "jaffe").string() + "'", kConfigs + "/jaffe.yaml", "run",
                      {"vars.folds=3", "vars.fold_ids=[0,1,2]", "vars.cnn_epochs=2", "nodes.deletion.with.steps=5"});
  ASSERT_EQ(rc, 0) << log("run.log");
  expect_all_ran("run", 47);
  const fs::path n = dir_ / "run/nodes";
  const json acc = read_json(n / "accuracy/metrics.json");
  const int detected = static_cast<int>(read_csv(n / "features/table.csv").size());
  const int relative_rows = static_cast<int>(read_csv(n / "relative/table.csv").size());
  EXPECT_EQ(acc["n"].get<int>(), detected) << "pooled over the folds: every sample predicted once";
  EXPECT_GT(acc["accuracy"].get<double>(), 0.35) << "chance is 1/7";
  std::set<std::string> seen;
  for (int f = 0; f < 3; ++f) {
    std::set<std::string> train;
    for (const auto& r : read_csv(n / ("fold-" + std::to_string(f)) / "train.csv")) train.insert(r.at("subject"));
    for (const auto& r : read_csv(n / ("fold-" + std::to_string(f)) / "test.csv")) {
      EXPECT_FALSE(train.count(r.at("subject"))) << "fold " << f << " trains on its test person " << r.at("subject");
      EXPECT_TRUE(seen.insert(r.at("id")).second) << r.at("id") << " is in two test folds";
    }
    expect_fidelity_curve(n / ("fidelity-" + std::to_string(f)) / "curve.csv");
  }
  EXPECT_EQ(static_cast<int>(seen.size()), detected);

  // the comparison: every arm scored on the same held-out people, pooled over the folds
  // (one prediction table per fold)
  const std::vector<std::string> arms = {"geometric MLP",
                                         "geometric MLP, subject-relative (no neutral class)",
                                         "face-api as shipped (zero-shot)", "face-api fine-tuned"};
  expect_comparison(n, arms, {detected, relative_rows, detected, detected}, {3, 3, 3, 3});
  // the subject-relative arm: the neutral faces are the baseline, not a class; the same
  // leave-subjects-out folds; fidelity against each person's own neutral face
  const json rel = read_json(n / "rel_accuracy/metrics.json");
  EXPECT_EQ(rel["classes"].size(), 6u);
  EXPECT_GT(rel["accuracy"].get<double>(), 1.0 / 6) << "chance is 1/6";
  EXPECT_EQ(relative_rows + read_json(n / "relative/summary.json")["neutral_rows"].get<int>(), detected);
  for (int f = 0; f < 3; ++f) {
    std::set<std::string> train;
    for (const auto& r : read_csv(n / ("rel_fold-" + std::to_string(f)) / "train.csv")) train.insert(r.at("subject"));
    for (const auto& r : read_csv(n / ("rel_fold-" + std::to_string(f)) / "test.csv"))
      EXPECT_FALSE(train.count(r.at("subject"))) << "relative fold " << f << " trains on " << r.at("subject");
    const fs::path fid = n / ("rel_fidelity-" + std::to_string(f));
    expect_fidelity_curve(fid / "curve.csv");
    EXPECT_TRUE(read_json(fid / "summary.json").contains("baseline")) << fid;
  }
  for (int f = 0; f < 3; ++f) expect_predictions_known(n / ("heatmaps-" + std::to_string(f)) / "explanations.json");
  for (const char* node : {"cnn_accuracy", "zero_shot_accuracy"}) {
    const json m = read_json(n / node / "metrics.json");
    EXPECT_EQ(m["n"].get<int>(), detected) << node;
    EXPECT_EQ(m["models"], json({"model.faceapi_expression"})) << node;
  }
  EXPECT_EQ(read_json(n / "cnn_accuracy/metrics.json")["inputs"][0]["mode"], "fine_tune");
  EXPECT_EQ(read_json(n / "zero_shot_accuracy/metrics.json")["inputs"][0]["mode"], "as_shipped");
  // the headline prints the table at the end of the run
  const std::string out = log("run.log");
  const auto head = out.find("Accuracy on held-out people (95 % CI)");
  ASSERT_NE(head, std::string::npos) << out;
  for (const auto& a : arms) EXPECT_NE(out.find("  " + a, head), std::string::npos) << a;
}

// configs/demo_subject_relative.yaml: the demo's geometric arm on features relative to each
// identity's neutral face, beside absolute features on the same rows (about 5 s).
TEST_F(ConfigFixture, DemoSubjectRelativeRunsAboveChance) {
  ASSERT_EQ(mien("", kConfigs + "/demo_subject_relative.yaml", "run"), 0) << log("run.log");
  expect_all_ran("run", 40);
  const fs::path n = dir_ / "run/nodes";
  const json summary = read_json(n / "relative/summary.json");
  EXPECT_EQ(summary["mode"], "difference");
  EXPECT_EQ(summary["match"], json({"pose"}));
  EXPECT_GT(summary["neutral_rows"].get<int>(), 0);
  EXPECT_EQ(summary["rows_out"].get<int>() + summary["neutral_rows"].get<int>(), summary["rows_in"].get<int>());
  for (const char* node : {"accuracy", "abs_accuracy"}) {
    const json m = read_json(n / node / "metrics.json");
    EXPECT_EQ(m["classes"].size(), 6u) << node << ": the neutral class is left out";
    EXPECT_GT(m["accuracy"].get<double>(), 0.5) << node << ": chance is 1/6";
  }
  for (const char* pose : {"S", "HL", "HR"}) {
    for (const char* node : {"fidelity_neutral", "abs_fidelity_neutral"}) {
      const json f = read_json(n / (std::string(node) + "-" + pose) / "summary.json");
      EXPECT_TRUE(f.contains("baseline")) << node << " " << pose;
    }
    EXPECT_FALSE(read_json(n / (std::string("fidelity-") + pose) / "summary.json").contains("baseline")) << pose;
  }
}

TEST_F(ConfigFixture, CkplusRunsWholeWithLeaveSubjectsOutFolds) {
  synth("--layout ckplus --subjects 9 --frames 5 --seed 3", "CK+");
  const int rc = mien("CKPLUS_ROOT='" + (dir_ / "CK+").string() + "'", kConfigs + "/ckplus.yaml", "run",
                      {"vars.folds=3", "vars.fold_ids=[0,1,2]", "vars.cnn_epochs=2", "nodes.deletion.with.steps=5"});
  ASSERT_EQ(rc, 0) << log("run.log");
  expect_all_ran("run", 30);
  const fs::path n = dir_ / "run/nodes";
  EXPECT_EQ(read_json(n / "data/summary.json")["samples"], 9 * 6 * 4);  // 3 peak frames + the neutral one
  const json acc = read_json(n / "accuracy/metrics.json");
  EXPECT_EQ(acc["n"].get<int>(), static_cast<int>(read_csv(n / "features/table.csv").size()));
  EXPECT_GT(acc["accuracy"].get<double>(), 0.35) << "chance is 1/7";
  for (int f = 0; f < 3; ++f) expect_fidelity_curve(n / ("fidelity-" + std::to_string(f)) / "curve.csv");
  // the image arms next to the MLP, on the same held-out people, pooled over the folds
  expect_comparison(n, {"geometric MLP", "face-api as shipped (zero-shot)", "face-api fine-tuned"},
                    acc["n"].get<int>(), {3, 3, 3});
  for (int f = 0; f < 3; ++f) expect_predictions_known(n / ("heatmaps-" + std::to_string(f)) / "explanations.json");
  EXPECT_NE(log("run.log").find("Accuracy on held-out people (95 % CI)"), std::string::npos);
}
