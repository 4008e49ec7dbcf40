// End to end through the `mien` executable: configs/compare_explainers.yaml runs and its
// table holds what the explainers promise (exact is the reference, the Shapley samplers and
// Deep SHAP satisfy efficiency); swapping one explainer with --set reruns only that node and
// what depends on it (the cache's promise); configs/sweep_seeds.yaml aggregates
// five copies whose numbers really differ.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

std::string read(const fs::path& p) {
  std::ifstream f(p);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// A fresh folder per test, removed afterwards unless MIEN_KEEP_TEST_OUTPUT is set.
struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& name)
      : path(fs::temp_directory_path() / (name + "-" + std::to_string(::getpid()))) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    if (std::getenv("MIEN_KEEP_TEST_OUTPUT") == nullptr) {
      std::error_code ec;
      fs::remove_all(path, ec);
    }
  }
};

// Runs mien; returns the exit status, the output in *log.
int mien(const std::string& args, const fs::path& log_file, std::string* log) {
  const std::string cmd = std::string("\"") + MIEN_EXE + "\" " + args + " > \"" + log_file.string() + "\" 2>&1";
  const int rc = std::system(cmd.c_str());
  *log = read(log_file);
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

// The CSV the host writes for a table: header, then rows (quoted fields allowed).
std::vector<std::map<std::string, std::string>> read_csv(const fs::path& p) {
  std::vector<std::vector<std::string>> lines;
  std::ifstream f(p);
  std::string line;
  while (std::getline(f, line)) {
    std::vector<std::string> cells;
    std::string cur;
    bool quoted = false;
    for (size_t i = 0; i < line.size(); ++i) {
      const char c = line[i];
      if (quoted) {
        if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') cur += '"', ++i;
        else if (c == '"') quoted = false;
        else cur += c;
      } else if (c == '"') {
        quoted = true;
      } else if (c == ',') {
        cells.push_back(cur);
        cur.clear();
      } else {
        cur += c;
      }
    }
    cells.push_back(cur);
    lines.push_back(cells);
  }
  std::vector<std::map<std::string, std::string>> rows;
  for (size_t r = 1; r < lines.size(); ++r) {
    std::map<std::string, std::string> m;
    for (size_t c = 0; c < lines[0].size() && c < lines[r].size(); ++c) m[lines[0][c]] = lines[r][c];
    rows.push_back(m);
  }
  return rows;
}

double number(const std::map<std::string, std::string>& row, const std::string& col) {
  auto it = row.find(col);
  if (it == row.end() || it->second.empty()) return std::nan("");
  return std::strtod(it->second.c_str(), nullptr);
}

std::map<std::string, std::string> statuses(const fs::path& run) {
  std::map<std::string, std::string> out;
  const json m = json::parse(read(run / "manifest.json"));
  for (const auto& n : m.at("nodes")) out[n.at("name").get<std::string>()] = n.at("status").get<std::string>();
  return out;
}

const std::string kConfigs = std::string(MIEN_SOURCE_DIR) + "/configs/";

TEST(CompareExplainersConfig, RunsAndSwappingOneExplainerRerunsOnlyItsBranch) {
  TempDir tmp("mien-compare-e2e");
  std::string log;
  const fs::path run1 = tmp.path / "run1", run2 = tmp.path / "run2", cache = tmp.path / "cache";
  ASSERT_EQ(mien("run " + kConfigs + "compare_explainers.yaml --threads 2 --out " + run1.string() + " --cache-dir " +
                     cache.string(),
                 tmp.path / "run1.log", &log),
            0)
      << log;
  for (const auto& [node, status] : statuses(run1)) EXPECT_EQ(status, "ran") << node;

  const auto rows = read_csv(run1 / "nodes" / "compare" / "table.csv");
  ASSERT_EQ(rows.size(), 7u);
  std::map<std::string, std::map<std::string, std::string>> by;
  for (const auto& r : rows) by[r.at("explainer")] = r;
  for (const char* e : {"exact_shapley", "kernel_shap", "permutation_shap", "deep_shap", "integrated_gradients", "lime",
                        "occlusion"})
    ASSERT_EQ(by.count(e), 1u) << e;
  // The reference against itself; the Shapley estimators and Deep SHAP are efficient
  // (sum phi = f(x) - E f(background)) to float precision, on the same background.
  EXPECT_EQ(number(by["exact_shapley"], "max_abs_error_vs_reference"), 0.0);
  EXPECT_EQ(number(by["exact_shapley"], "spearman_vs_reference"), 1.0);
  for (const char* e : {"exact_shapley", "kernel_shap", "permutation_shap", "deep_shap"})
    EXPECT_LT(number(by[e], "efficiency_gap_max"), 1e-5) << e;
  // Kernel SHAP (2M + 2048 coalitions of 4094) is close to exact, and closer than LIME.
  EXPECT_LT(number(by["kernel_shap"], "max_abs_error_vs_reference"), 0.05);
  EXPECT_GT(number(by["kernel_shap"], "spearman_vs_reference"), 0.8);
  EXPECT_LT(number(by["kernel_shap"], "mean_abs_error_vs_reference"),
            number(by["lime"], "mean_abs_error_vs_reference"));
  for (const auto& [name, r] : by) {
    const double f = number(r, "fidelity@5"), a = number(r, "accuracy@5"), d = number(r, "deletion_auc");
    EXPECT_TRUE(f >= 0 && f <= 1) << name << " fidelity@5 " << f;
    EXPECT_TRUE(a >= 0 && a <= 1) << name << " accuracy@5 " << a;
    EXPECT_TRUE(d >= 0 && d <= 1) << name << " deletion AUC " << d;
  }
  // The exact ranking beats random rankings on fidelity@5 and on deletion.
  EXPECT_GT(number(by["exact_shapley"], "fidelity@5"), number(by["exact_shapley"], "random_fidelity@5"));
  EXPECT_LT(number(by["exact_shapley"], "deletion_auc"), number(by["exact_shapley"], "deletion_random_auc"));
  const json headline = json::parse(read(run1 / "nodes" / "compare" / "headline.json"));
  EXPECT_EQ(headline.at("rows").size(), 7u);
  EXPECT_TRUE(fs::exists(run1 / "report.html"));
  EXPECT_NE(read(run1 / "report.html").find("integrated_gradients"), std::string::npos);

  // Swap the IG node's explainer: it, its two metrics, the agreement, the comparison and
  // the report (never cached: it reads the manifest) rerun; every other node is cached.
  ASSERT_EQ(mien("run " + kConfigs + "compare_explainers.yaml --threads 2 --set nodes.ig.use=explain.gradient_shap --out " +
                     run2.string() + " --cache-dir " + cache.string(),
                 tmp.path / "run2.log", &log),
            0)
      << log;
  const std::set<std::string> expected{"ig", "fid_ig", "del_ig", "agreement", "compare", "report"};
  std::set<std::string> ran;
  for (const auto& [node, status] : statuses(run2)) {
    if (status == "ran") ran.insert(node);
    else EXPECT_EQ(status, "cached") << node;
  }
  EXPECT_EQ(ran, expected);
  bool found = false;
  for (const auto& r : read_csv(run2 / "nodes" / "compare" / "table.csv"))
    if (r.at("explainer") == "gradient_shap") found = r.at("type_id") == "explain.gradient_shap";
  EXPECT_TRUE(found) << "the swapped explainer's row";
}

TEST(SweepSeedsConfig, AggregatesFiveCopiesThatDiffer) {
  TempDir tmp("mien-sweep-e2e");
  std::string log;
  const fs::path run = tmp.path / "run";
  ASSERT_EQ(mien("run " + kConfigs + "sweep_seeds.yaml --threads 2 --out " + run.string() + " --cache-dir " +
                     (tmp.path / "cache").string(),
                 tmp.path / "run.log", &log),
            0)
      << log;
  const auto rows = read_csv(run / "nodes" / "summary" / "table.csv");
  std::map<std::string, std::map<std::string, std::string>> by;
  for (const auto& r : rows) by[r.at("field")] = r;
  for (const char* f : {"accuracy", "fidelity@5"}) {
    ASSERT_EQ(by.count(f), 1u) << f;
    EXPECT_EQ(number(by[f], "n"), 5) << f;
    const double mean = number(by[f], "mean"), sd = number(by[f], "std");
    EXPECT_GT(mean, 0.3) << f;  // well above chance (1/7) on the synthetic faces
    EXPECT_LE(mean, 1.0) << f;
    // Each copy trains on another split: the spread is real, and within the range.
    EXPECT_GT(sd, 0.0) << f;
    EXPECT_LE(number(by[f], "min"), mean);
    EXPECT_GE(number(by[f], "max"), mean);
  }
  const json headline = json::parse(read(run / "nodes" / "summary" / "headline.json"));
  EXPECT_NE(headline.at("title").get<std::string>().find("5 "), std::string::npos) << headline.dump();
}

}  // namespace
