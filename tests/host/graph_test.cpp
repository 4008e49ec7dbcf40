// The experiment-graph layer on an in-memory catalog: reading (variables, matrix,
// --set), validation (golden diagnostics in tests/fixtures/configs), binding and
// propagation, topological order, and resolved_yaml.
#include "graph/experiment.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "loader/catalog.hpp"

namespace mien::host {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// ---- an in-memory catalog ---------------------------------------------------------

PortInfo in_port(const std::string& name, mien_value_kind kind, uint32_t flags = 0, uint64_t caps = 0) {
  return PortInfo{name, MIEN_PORT_IN, kind, flags, caps, ""};
}

PortInfo out_port(const std::string& name, mien_value_kind kind) {
  return PortInfo{name, MIEN_PORT_OUT, kind, 0, 0, ""};
}

ComponentEntry component(const std::string& id, uint32_t version, mien_component_kind kind, const char* properties,
                         std::vector<PortInfo> ports, const char* required = "[]", uint64_t caps = 0) {
  ComponentEntry e;
  e.type_id = id;
  e.version = version;
  e.kind = kind;
  e.schema = json::parse(std::string(R"({"type": "object", "additionalProperties": false, "properties": )") +
                         properties + R"(, "required": )" + required + "}");
  e.ports = std::move(ports);
  e.model_caps = caps;
  return e;
}

Catalog test_catalog() {
  std::vector<ComponentEntry> entries = {
      component("dataset.table", 1, MIEN_KIND_DATASET,
                R"({"path": {"type": "string", "description": "CSV file to read"},
                    "label": {"type": "string", "default": "label"}})",
                {out_port("table", MIEN_VALUE_TABLE)}, R"(["path"])"),
      component("dataset.images", 1, MIEN_KIND_DATASET, R"({"folder": {"type": "string"}})",
                {out_port("images", MIEN_VALUE_IMAGE)}, R"(["folder"])"),
      component("split.holdout", 1, MIEN_KIND_TRANSFORM,
                R"({"test_size": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.2},
                    "stratify": {"type": "boolean", "default": true}})",
                {in_port("table", MIEN_VALUE_TABLE), out_port("train", MIEN_VALUE_TABLE),
                 out_port("test", MIEN_VALUE_TABLE)}),
      component("split.group_kfold", 1, MIEN_KIND_TRANSFORM,
                R"({"folds": {"type": "integer", "minimum": 2, "default": 5}, "group": {"type": "string"}})",
                {in_port("table", MIEN_VALUE_TABLE), out_port("train", MIEN_VALUE_TABLE),
                 out_port("test", MIEN_VALUE_TABLE)},
                R"(["group"])"),
      component("split.group_kfold", 2, MIEN_KIND_TRANSFORM,
                R"({"folds": {"type": "integer", "minimum": 2, "default": 5}, "group": {"type": "string"},
                    "shuffle": {"type": "boolean", "default": false}})",
                {in_port("table", MIEN_VALUE_TABLE), out_port("train", MIEN_VALUE_TABLE),
                 out_port("test", MIEN_VALUE_TABLE)},
                R"(["group"])"),
      component("model.mlp", 1, MIEN_KIND_MODEL,
                R"({"hidden": {"type": "array", "items": {"type": "integer", "minimum": 1}, "default": [64]},
                    "epochs": {"type": "integer", "minimum": 1, "default": 10},
                    "lr": {"type": "number", "minimum": 0, "default": 0.001},
                    "activation": {"type": "string", "enum": ["relu", "tanh", "gelu"], "default": "relu"},
                    "pose": {"type": ["string", "null"], "default": null}})",
                {in_port("train", MIEN_VALUE_TABLE), out_port("model", MIEN_VALUE_MODEL)}, "[]",
                MIEN_CAP_PREDICT | MIEN_CAP_INPUT_GRADIENT | MIEN_CAP_LAYER_STRUCTURE),
      component("explain.gradcam", 1, MIEN_KIND_EXPLAINER, R"({"layer": {"type": "string", "default": ""}})",
                {in_port("model", MIEN_VALUE_MODEL, 0, MIEN_CAP_LAYER_GRADIENT),
                 in_port("data", MIEN_VALUE_TABLE, MIEN_PORT_OPTIONAL), out_port("maps", MIEN_VALUE_JSON)}),
      component("explain.saliency", 1, MIEN_KIND_EXPLAINER, "{}",
                {in_port("model", MIEN_VALUE_MODEL, 0, MIEN_CAP_INPUT_GRADIENT),
                 in_port("data", MIEN_VALUE_TABLE, MIEN_PORT_OPTIONAL), out_port("maps", MIEN_VALUE_JSON)}),
      component("metric.accuracy", 1, MIEN_KIND_METRIC, "{}",
                {in_port("model", MIEN_VALUE_MODEL), in_port("data", MIEN_VALUE_TABLE),
                 out_port("scores", MIEN_VALUE_JSON)}),
      component("metric.agreement", 1, MIEN_KIND_METRIC, "{}",
                {in_port("maps", MIEN_VALUE_JSON, MIEN_PORT_MULTIPLE), out_port("summary", MIEN_VALUE_JSON)}),
      component("tensor.normalize", 1, MIEN_KIND_TRANSFORM, "{}",
                {in_port("x", MIEN_VALUE_TENSOR), out_port("y", MIEN_VALUE_TENSOR)}),
      component("report.html", 1, MIEN_KIND_REPORT, R"({"title": {"type": "string", "default": "Report"}})",
                {in_port("items", MIEN_VALUE_ANY, MIEN_PORT_MULTIPLE), out_port("page", MIEN_VALUE_STRING)}),
  };
  Catalog catalog;
  for (auto& e : entries) {
    std::string error;
    EXPECT_TRUE(catalog.add(std::move(e), &error)) << error;
  }
  return catalog;
}

const Catalog& catalog() {
  static const Catalog c = test_catalog();
  return c;
}

// ---- helpers ----------------------------------------------------------------------

struct Loaded {
  Experiment exp;
  std::optional<ResolvedGraph> graph;
  Diagnostics diags;
};

Loaded load(const std::string& yaml, const std::vector<std::string>& overrides = {}) {
  Loaded l;
  l.exp = read_experiment_text(yaml, "test.yaml", "/base", overrides, l.diags);
  l.graph = validate_experiment(l.exp, catalog(), l.diags);
  return l;
}

// Loads yaml that must be valid and returns the graph.
ResolvedGraph valid(const std::string& yaml, const std::vector<std::string>& overrides = {}) {
  Loaded l = load(yaml, overrides);
  EXPECT_EQ(l.diags.to_string(), "");
  EXPECT_TRUE(l.graph.has_value());
  return l.graph ? *l.graph : ResolvedGraph{};
}

std::vector<std::string> node_names(const ResolvedGraph& g) {
  std::vector<std::string> out;
  for (const auto& n : g.nodes) out.push_back(n.spec.name);
  return out;
}

const ResolvedNode& node(const ResolvedGraph& g, const std::string& name) {
  for (const auto& n : g.nodes)
    if (n.spec.name == name) return n;
  ADD_FAILURE() << "no node " << name;
  static const ResolvedNode none;
  return none;
}

// The producers feeding one input of a node, as "node.port".
std::vector<std::string> sources(const ResolvedGraph& g, const std::string& name, const std::string& port) {
  const ResolvedNode& n = node(g, name);
  const auto inputs = n.component->inputs();
  std::vector<std::string> out;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (inputs[i].name != port) continue;
    for (const auto& src : n.inputs[i]) {
      const ResolvedNode& p = g.nodes[src.node];
      out.push_back(p.spec.name + "." + p.component->outputs()[src.output].name);
    }
  }
  return out;
}

class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old, had_ = true;
    if (value) ::setenv(name, value, 1);
    else ::unsetenv(name);
  }
  ~ScopedEnv() {
    if (had_) ::setenv(name_, old_.c_str(), 1);
    else ::unsetenv(name_);
  }

 private:
  const char* name_;
  std::string old_;
  bool had_ = false;
};

const char* kPipeline = R"(
experiment: demo
seed: 7
nodes:
  data: {use: dataset.table, with: {path: features.csv, label: emotion}}
  split: {use: split.holdout, with: {test_size: 0.3}, in: {table: data.table}}
  mlp: {use: model.mlp, with: {epochs: 20}, in: {train: split.train}}
  report: {use: report.html, in: {items: [mlp.model, split.test]}}
)";

// ---- golden diagnostics -----------------------------------------------------------

const fs::path kConfigs = fs::path(MIEN_SOURCE_DIR) / "tests" / "fixtures" / "configs";

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> golden_cases() {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(kConfigs))
    if (e.path().extension() == ".yaml" && fs::exists(fs::path(e.path()).replace_extension(".expected")))
      out.push_back(e.path().stem().string());
  std::sort(out.begin(), out.end());
  return out;
}

class GraphGolden : public ::testing::TestWithParam<std::string> {};

// Reads and validates <case>.yaml (named by its bare file name, so the text does not
// depend on the checkout) and compares every diagnostic with <case>.expected. Set
// MIEN_UPDATE_GOLDEN=1 to rewrite the .expected files after a deliberate change.
TEST_P(GraphGolden, DiagnosticsMatch) {
  const fs::path yaml = kConfigs / (GetParam() + ".yaml");
  Diagnostics diags;
  const Experiment exp =
      read_experiment_text(read_file(yaml), yaml.filename().string(), kConfigs.string(), {}, diags);
  const auto graph = validate_experiment(exp, catalog(), diags);
  EXPECT_FALSE(graph.has_value());
  EXPECT_TRUE(diags.has_errors());
  const fs::path expected = fs::path(yaml).replace_extension(".expected");
  if (std::getenv("MIEN_UPDATE_GOLDEN")) std::ofstream(expected, std::ios::binary) << diags.to_string();
  EXPECT_EQ(diags.to_string(), read_file(expected));
}

INSTANTIATE_TEST_SUITE_P(Configs, GraphGolden, ::testing::ValuesIn(golden_cases()),
                         [](const auto& info) { return info.param; });

TEST(GraphGoldenCases, EveryClassOfMistakeHasACase) {
  const auto cases = golden_cases();
  for (const char* c : {"unknown_component", "pinned_version", "unknown_parameter", "wrong_type", "out_of_range",
                        "enum", "unknown_input_port", "unknown_node", "unknown_output_port", "kind_mismatch",
                        "missing_input", "missing_param", "capability", "cycle", "unknown_variable", "bad_matrix",
                        "unknown_top_level_key", "two_mistakes", "too_many_inputs", "invalid_yaml"})
    EXPECT_NE(std::find(cases.begin(), cases.end(), c), cases.end()) << c;
}

TEST(GraphValidate, TwoMistakesInDifferentNodesAreBothReported) {
  Diagnostics diags;
  const auto exp = read_experiment_text(read_file(kConfigs / "two_mistakes.yaml"), "two_mistakes.yaml", "/", {}, diags);
  EXPECT_FALSE(validate_experiment(exp, catalog(), diags).has_value());
  ASSERT_EQ(diags.items().size(), 2u) << diags.to_string();
  const Diagnostic& first = diags.items()[0];
  EXPECT_EQ(first.where.file, "two_mistakes.yaml");
  EXPECT_EQ(first.where.line, 6);
  EXPECT_EQ(first.where.column, 10);
  EXPECT_EQ(first.node, "data");
  EXPECT_EQ(first.hint, "did you mean 'dataset.table'?");
  const Diagnostic& second = diags.items()[1];
  EXPECT_EQ(second.where.line, 11);
  EXPECT_GT(second.where.column, 0);
  EXPECT_EQ(second.node, "split");
  EXPECT_EQ(second.hint, "did you mean 'table'?");
}

// ---- reading ----------------------------------------------------------------------

TEST(GraphRead, ReadsTheExperimentFields) {
  Diagnostics diags;
  const auto exp = read_experiment_text(R"(
experiment: demo-1
seed: 18446744073709551615
plugin_paths: [plugins/, /opt/mien/plugins, ../shared]
nodes:
  data: {use: dataset.table@1, with: {path: x.csv}, doc: the input}
)",
                                        "e.yaml", "/work/exp", {}, diags);
  // Entries that do not exist are warned about, each at its position; ../shared exists.
  std::string expected_warnings;
  for (const auto& [where, entry, path] : {std::tuple{"4:16", "plugins/", "/work/exp/plugins"},
                                           std::tuple{"4:26", "/opt/mien/plugins", "/opt/mien/plugins"},
                                           std::tuple{"4:45", "../shared", "/work/shared"}})
    if (!fs::exists(path))
      expected_warnings += std::string("e.yaml:") + where + ": warning: plugin_paths entry '" + entry +
                           "' does not exist (" + path + "); no plugins are loaded from it\n";
  EXPECT_EQ(diags.to_string(), expected_warnings);
  EXPECT_FALSE(diags.has_errors());
  EXPECT_EQ(exp.name, "demo-1");
  EXPECT_EQ(exp.seed, 18446744073709551615ull);
  EXPECT_THAT(exp.plugin_paths, ElementsAre("/work/exp/plugins", "/opt/mien/plugins", "/work/shared"));
  ASSERT_EQ(exp.nodes.size(), 1u);
  EXPECT_EQ(exp.nodes[0].use, "dataset.table");
  EXPECT_EQ(exp.nodes[0].pinned_version, 1u);
  EXPECT_EQ(exp.nodes[0].where.line, 6);
  EXPECT_EQ(exp.nodes[0].where.column, 3);
  EXPECT_EQ(exp.nodes[0].with.at("path").value, "x.csv");
  EXPECT_EQ(exp.nodes[0].with.at("path").where.column, 45);
}

TEST(GraphRead, ReadsAFileAndNamesItAsGiven) {
  const fs::path dir = fs::temp_directory_path() / ("mien_graph_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "e.yaml") << "experiment: x\nplugin_paths: [p]\nnodes:\n  d: {use: dataset.tabel}\n";
  Diagnostics diags;
  const auto exp = read_experiment((dir / "e.yaml").string(), {}, diags);
  EXPECT_EQ(exp.base_dir, dir.string());
  EXPECT_THAT(exp.plugin_paths, ElementsAre((dir / "p").string()));
  validate_experiment(exp, catalog(), diags);
  EXPECT_THAT(diags.to_string(), HasSubstr((dir / "e.yaml").string() + ":4:12: error: node 'd': unknown component"));
  fs::remove_all(dir);
}

TEST(GraphRead, MissingFileIsReported) {
  Diagnostics diags;
  read_experiment("/nonexistent/e.yaml", {}, diags);
  EXPECT_EQ(diags.to_string(), "/nonexistent/e.yaml: error: cannot read the experiment file (does it exist?)\n");
}

TEST(GraphRead, QuotedScalarsAreMarked) {
  Diagnostics diags;
  const auto exp = read_experiment_text("experiment: q\nnodes:\n  d: {use: dataset.table, with: {a: '5', b: 5, c: ~}}\n",
                                        "q.yaml", "/", {}, diags);
  ASSERT_EQ(exp.nodes.size(), 1u);
  EXPECT_TRUE(exp.nodes[0].with.at("a").quoted);
  EXPECT_FALSE(exp.nodes[0].with.at("b").quoted);
  EXPECT_EQ(exp.nodes[0].with.at("b").value, "5");
  EXPECT_TRUE(exp.nodes[0].with.at("c").value.is_null());
}

TEST(GraphRead, DuplicateKeysAndBadNodeNamesAreReported) {
  Diagnostics diags;
  read_experiment_text("experiment: d\nnodes:\n  a: {use: dataset.table}\n  a: {use: dataset.table}\n  b.c: {use: x.y}\n",
                       "d.yaml", "/", {}, diags);
  EXPECT_EQ(diags.to_string(),
            "d.yaml:4:3: error: duplicate key 'a'\n"
            "d.yaml:5:3: error: node name 'b.c' may only contain letters, digits, '_' and '-'\n");
}

TEST(GraphRead, MissingExperimentNameAndNodes) {
  Diagnostics diags;
  read_experiment_text("seed: 1\n", "m.yaml", "/", {}, diags);
  EXPECT_EQ(diags.to_string(),
            "m.yaml:1:1: error: missing 'experiment' (the experiment's name); add e.g. 'experiment: demo'\n"
            "m.yaml:1:1: error: missing 'nodes' (the components to run)\n");
}

// ---- variables --------------------------------------------------------------------

TEST(GraphVariables, EnvDefaultsAndTypedSubstitution) {
  ScopedEnv data("MIEN_TEST_DATA_DIR", "/data");
  ScopedEnv unset("MIEN_TEST_UNSET", nullptr);
  ScopedEnv epochs("MIEN_TEST_EPOCHS", "30");
  const ResolvedGraph g = valid(R"(
experiment: vars
vars:
  n_folds: 4
  layers: [128, 32]
  root: ${env:MIEN_TEST_DATA_DIR}
  file: "${root}/${env:MIEN_TEST_UNSET:-faces}.csv"
  rate: 0.01
nodes:
  data: {use: dataset.table, with: {path: "${file}", label: "${missing:-emotion}"}}
  split: {use: split.group_kfold, with: {folds: "${n_folds}", group: "fold${n_folds}"}, in: {table: data.table}}
  mlp:
    use: model.mlp
    with: {hidden: "${layers}", epochs: "${env:MIEN_TEST_EPOCHS}", lr: "${rate}", pose: "$${not_a_var}"}
    in: {train: split.train}
)");
  EXPECT_EQ(g.experiment.vars, json::parse(R"({"n_folds": 4, "layers": [128, 32], "root": "/data",
                                               "file": "/data/faces.csv", "rate": 0.01})"));
  EXPECT_EQ(node(g, "data").params, json::parse(R"({"path": "/data/faces.csv", "label": "emotion"})"));
  EXPECT_EQ(node(g, "split").params, json::parse(R"({"folds": 4, "group": "fold4", "shuffle": false})"));
  EXPECT_EQ(node(g, "mlp").params["hidden"], json::parse("[128, 32]"));
  EXPECT_EQ(node(g, "mlp").params["epochs"], 30);
  EXPECT_EQ(node(g, "mlp").params["lr"], 0.01);
  EXPECT_EQ(node(g, "mlp").params["pose"], "${not_a_var}");
}

TEST(GraphVariables, QuotedVariableValueStaysAString) {
  Loaded l = load(R"(
experiment: v
vars: {n: "5"}
nodes:
  data: {use: dataset.table, with: {path: x.csv}}
  split: {use: split.group_kfold, with: {folds: "${n}", group: g}, in: {table: data.table}}
)");
  EXPECT_EQ(l.diags.to_string(),
            "test.yaml:6:49: error: node 'split': parameter 'folds' expects an integer, got '5' (quoted, so a string)\n");
}

TEST(GraphVariables, UnsetEnvironmentVariableAndUseBeforeDefinition) {
  ScopedEnv unset("MIEN_TEST_UNSET", nullptr);
  Diagnostics diags;
  read_experiment_text(R"(experiment: v
vars:
  a: ${b}
  b: ${env:MIEN_TEST_UNSET}
nodes:
  data: {use: dataset.table, with: {path: "x${a"}}
)",
                       "v.yaml", "/", {}, diags);
  EXPECT_EQ(diags.to_string(),
            "v.yaml:3:6: error: variable 'b' is used before it is defined; vars are read in the order written\n"
            "v.yaml:4:6: error: environment variable 'MIEN_TEST_UNSET' is not set; set it, or give a default: "
            "${env:MIEN_TEST_UNSET:-value}\n"
            "v.yaml:6:43: error: node 'data': unterminated '${' in 'x${a'; write '$${' for a literal '${'\n");
}

TEST(GraphVariables, SeedAndUseMayComeFromVariables) {
  const ResolvedGraph g = valid(R"(
experiment: v
vars: {s: 11, model: model.mlp}
seed: ${s}
nodes:
  data: {use: dataset.table, with: {path: x.csv}}
  m: {use: "${model}@1", in: {train: data.table}}
)");
  EXPECT_EQ(g.experiment.seed, 11u);
  EXPECT_EQ(node(g, "m").component->type_id, "model.mlp");
}

// ---- matrix -----------------------------------------------------------------------

TEST(GraphMatrix, ExpandsTheCartesianProductInTheOrderWritten) {
  Diagnostics diags;
  const auto exp = read_experiment_text(R"(
experiment: m
nodes:
  mlp:
    use: model.mlp
    matrix: {pose: [S, HL], epochs: [10, 20]}
    with: {pose: "${matrix.pose}", epochs: "${matrix.epochs}"}
)",
                                        "m.yaml", "/", {}, diags);
  EXPECT_EQ(diags.to_string(), "");
  std::vector<std::string> names;
  for (const auto& n : exp.nodes) names.push_back(n.name);
  EXPECT_THAT(names, ElementsAre("mlp[S,10]", "mlp[S,20]", "mlp[HL,10]", "mlp[HL,20]"));
  EXPECT_EQ(exp.nodes[2].matrix, (std::map<std::string, std::string>{{"epochs", "10"}, {"pose", "HL"}}));
  EXPECT_THAT(exp.nodes[2].matrix_keys, ElementsAre("pose", "epochs"));
  EXPECT_EQ(exp.nodes[2].with.at("pose").value, "HL");
}

TEST(GraphMatrix, SameMatrixBindsCopyToCopyAndMultipleGathers) {
  const ResolvedGraph g = valid(R"(
experiment: m
vars: {poses: [S, HL, HR]}
nodes:
  data: {use: dataset.table, with: {path: x.csv}}
  mlp:
    use: model.mlp
    matrix: {pose: "${poses}"}
    with: {pose: "${matrix.pose}"}
    in: {train: data.table}
  sal:
    use: explain.saliency
    matrix: {pose: "${poses}"}
    in: {model: mlp.model}
  report: {use: report.html, in: {items: sal.maps}}
)");
  EXPECT_THAT(node_names(g), ElementsAre("data", "mlp[S]", "mlp[HL]", "mlp[HR]", "sal[S]", "sal[HL]", "sal[HR]",
                                         "report"));
  EXPECT_EQ(node(g, "mlp[HL]").params["pose"], "HL");
  EXPECT_THAT(sources(g, "sal[HL]", "model"), ElementsAre("mlp[HL].model"));
  EXPECT_THAT(sources(g, "report", "items"), ElementsAre("sal[S].maps", "sal[HL].maps", "sal[HR].maps"));
}

TEST(GraphMatrix, AListMixingTwoNodesCopiesOverOneKeyIsWarnedAboutWithTheMatrixToWrite) {
  const std::string head = R"(
experiment: m
nodes:
  data: {use: dataset.table, with: {path: x.csv}}
  mlp:
    use: model.mlp
    matrix: {pose: [S, HL]}
    in: {train: data.table}
  sal_a: {use: explain.saliency, in: {model: mlp.model}}
  sal_b: {use: explain.saliency, in: {model: mlp.model}}
)";
  // Both explainers' copies over pose in one list: pose S and HL mixed in one comparison.
  Loaded mixed = load(head + "  agree: {use: metric.agreement, in: {maps: [sal_a.maps, sal_b.maps]}}\n");
  ASSERT_TRUE(mixed.graph.has_value()) << mixed.diags.to_string();
  EXPECT_EQ(mixed.diags.to_string(),
            "test.yaml:11:46: warning: node 'agree': input 'maps' gathers the copies of 'sal_a', 'sal_b' over matrix "
            "'pose' (S, HL) into one list of 4 values, so it mixes pose S, HL; to take each pose on its own, give this node the same matrix: 'matrix: {pose: [S, HL]}' (each copy "
            "then binds to its own pose's inputs); to pool them on purpose, keep it as written\n");
  EXPECT_THAT(sources(*mixed.graph, "agree", "maps"), ElementsAre("sal_a[S].maps", "sal_a[HL].maps", "sal_b[S].maps", "sal_b[HL].maps"));
  // As the warning says: one comparison per pose, and no warning.
  const ResolvedGraph per_pose =
      valid(head + "  agree: {use: metric.agreement, matrix: {pose: [S, HL]}, in: {maps: [sal_a.maps, sal_b.maps]}}\n");
  EXPECT_THAT(sources(per_pose, "agree[HL]", "maps"), ElementsAre("sal_a[HL].maps", "sal_b[HL].maps"));
  // One node's copies alone (pooling folds) and a report gathering anything: no warning.
  valid(head + "  agree: {use: metric.agreement, in: {maps: sal_a.maps}}\n");
  valid(head + "  page: {use: report.html, in: {items: [sal_a.maps, sal_b.maps]}}\n");
}

TEST(GraphMatrix, SingleInputsPropagateTheMatrixTransitively) {
  const ResolvedGraph g = valid(R"(
experiment: m
nodes:
  data: {use: dataset.table, with: {path: x.csv}}
  report: {use: report.html, in: {items: [acc.scores, sal.maps]}}
  acc: {use: metric.accuracy, in: {model: mlp.model, data: split.test}}
  sal: {use: explain.saliency, in: {model: mlp.model}}
  mlp:
    use: model.mlp
    matrix: {pose: [S, HL]}
    in: {train: split.train}
  split: {use: split.holdout, in: {table: data.table}}
)");
  EXPECT_THAT(node_names(g),
              ElementsAre("data", "report", "acc[S]", "acc[HL]", "sal[S]", "sal[HL]", "mlp[S]", "mlp[HL]", "split"));
  EXPECT_THAT(sources(g, "acc[HL]", "model"), ElementsAre("mlp[HL].model"));
  EXPECT_THAT(sources(g, "acc[HL]", "data"), ElementsAre("split.test"));
  EXPECT_EQ(node(g, "sal[S]").spec.matrix, (std::map<std::string, std::string>{{"pose", "S"}}));
  EXPECT_THAT(sources(g, "report", "items"),
              ElementsAre("acc[S].scores", "acc[HL].scores", "sal[S].maps", "sal[HL].maps"));
  // Written out of order: the topological order puts producers first.
  std::vector<std::string> order;
  for (size_t i : g.order) order.push_back(g.nodes[i].spec.name);
  EXPECT_THAT(order, ElementsAre("data", "split", "mlp[S]", "acc[S]", "sal[S]", "mlp[HL]", "acc[HL]", "sal[HL]",
                                 "report"));
}

TEST(GraphMatrix, PropagationJoinsDifferentMatrices) {
  const ResolvedGraph g = valid(R"(
experiment: m
nodes:
  data: {use: dataset.table, with: {path: x.csv}}
  split: {use: split.holdout, matrix: {size: [0.2, 0.3]}, with: {test_size: "${matrix.size}"}, in: {table: data.table}}
  mlp: {use: model.mlp, matrix: {pose: [S, HL]}, in: {train: data.table}}
  acc: {use: metric.accuracy, in: {model: mlp.model, data: split.test}}
)");
  EXPECT_THAT(node_names(g), ElementsAre("data", "split[0.2]", "split[0.3]", "mlp[S]", "mlp[HL]", "acc[S,0.2]",
                                         "acc[S,0.3]", "acc[HL,0.2]", "acc[HL,0.3]"));
  EXPECT_THAT(sources(g, "acc[HL,0.2]", "model"), ElementsAre("mlp[HL].model"));
  EXPECT_THAT(sources(g, "acc[HL,0.2]", "data"), ElementsAre("split[0.2].test"));
  EXPECT_EQ(node(g, "split[0.3]").params["test_size"], 0.3);
}

TEST(GraphMatrix, ExplicitCopyReference) {
  const ResolvedGraph g = valid(R"(
experiment: m
nodes:
  data: {use: dataset.table, with: {path: x.csv}}
  mlp: {use: model.mlp, matrix: {lr: [0.1, 0.01]}, with: {lr: "${matrix.lr}"}, in: {train: data.table}}
  sal: {use: explain.saliency, in: {model: "mlp[0.01].model"}}
)");
  EXPECT_THAT(node_names(g), ElementsAre("data", "mlp[0.1]", "mlp[0.01]", "sal"));
  EXPECT_THAT(sources(g, "sal", "model"), ElementsAre("mlp[0.01].model"));
}

TEST(GraphMatrix, MatrixValuesMayNameCopiesInReferences) {
  const ResolvedGraph g = valid(R"(
experiment: m
nodes:
  data: {use: dataset.table, with: {path: x.csv}}
  mlp: {use: model.mlp, matrix: {pose: [S, HL]}, in: {train: data.table}}
  sal: {use: explain.saliency, matrix: {p: [S, HL]}, in: {model: "mlp[${matrix.p}].model"}}
)");
  EXPECT_THAT(sources(g, "sal[HL]", "model"), ElementsAre("mlp[HL].model"));
}

TEST(GraphMatrix, ConsumerMatrixWithOtherKeysIsJoined) {
  const ResolvedGraph g = valid(R"(
experiment: m
nodes:
  data: {use: dataset.table, with: {path: x.csv}}
  mlp: {use: model.mlp, matrix: {pose: [S, HL]}, in: {train: data.table}}
  cam: {use: explain.saliency, matrix: {layer: [a, b]}, in: {model: mlp.model}}
)");
  EXPECT_THAT(node_names(g), ElementsAre("data", "mlp[S]", "mlp[HL]", "cam[a,S]", "cam[a,HL]", "cam[b,S]", "cam[b,HL]"));
  EXPECT_THAT(node(g, "cam[b,HL]").spec.matrix_keys, ElementsAre("layer", "pose"));
  EXPECT_THAT(sources(g, "cam[b,HL]", "model"), ElementsAre("mlp[HL].model"));
}

TEST(GraphMatrix, NoMatchingCopyIsReported) {
  Loaded l = load(R"(
experiment: m
nodes:
  data: {use: dataset.table, with: {path: x.csv}}
  mlp: {use: model.mlp, matrix: {pose: [S, HL]}, in: {train: data.table}}
  sal: {use: explain.saliency, matrix: {pose: [S, HR]}, in: {model: mlp.model}}
)");
  EXPECT_FALSE(l.graph.has_value());
  EXPECT_EQ(l.diags.to_string(),
            "test.yaml:6:69: error: node 'sal': input 'model': no copy of 'mlp' matches this node's matrix "
            "(pose=HR)\n");
}

TEST(GraphMatrix, OneMistakeInAMatrixNodeIsReportedOnce) {
  Loaded l = load(R"(
experiment: m
nodes:
  data: {use: dataset.table, with: {path: x.csv}}
  mlp: {use: model.mlp, matrix: {pose: [S, HL, HR]}, with: {epoch: 3}, in: {train: data.table}}
)");
  EXPECT_EQ(l.diags.to_string(),
            "test.yaml:5:68: error: node 'mlp': unknown parameter 'epoch' for model.mlp; did you mean 'epochs'?\n");
}

TEST(GraphMatrix, MatrixUsedOutsideAMatrixNode) {
  Diagnostics diags;
  read_experiment_text("experiment: m\nnodes:\n  d: {use: dataset.table, with: {path: '${matrix.x}'}}\n", "m.yaml",
                       "/", {}, diags);
  EXPECT_EQ(diags.to_string(),
            "m.yaml:3:40: error: node 'd': '${matrix.x}' is used outside a node with a matrix\n");
}

// ---- --set overrides --------------------------------------------------------------

TEST(GraphOverrides, ChangeTheDocumentBeforeEverythingElse) {
  const ResolvedGraph g =
      valid(R"(
experiment: o
vars: {n_folds: 5}
nodes:
  data: {use: dataset.table, with: {path: x.csv}}
  split: {use: split.group_kfold, with: {folds: "${n_folds}", group: subject}, in: {table: data.table}}
  mlp: {use: model.mlp, in: {train: split.train}}
  explain: {use: explain.gradcam, in: {model: mlp.model}}
)",
            {"seed=3", "vars.n_folds=3", "nodes.mlp.with.epochs=20", "nodes.mlp.with.hidden=[8, 4]",
             "nodes.explain.use=explain.saliency", "nodes.data.with.label=emotion"});
  EXPECT_EQ(g.experiment.seed, 3u);
  EXPECT_EQ(node(g, "split").params["folds"], 3);
  EXPECT_EQ(node(g, "mlp").params["epochs"], 20);
  EXPECT_EQ(node(g, "mlp").params["hidden"], json::parse("[8, 4]"));
  EXPECT_EQ(node(g, "explain").component->type_id, "explain.saliency");
  EXPECT_EQ(node(g, "data").params["label"], "emotion");
}

TEST(GraphOverrides, MalformedOverridesAndBadValuesAreReported) {
  Loaded l = load("experiment: o\nnodes:\n  data: {use: dataset.table, with: {path: x.csv}}\n",
                  {"seed", "a..b=1", "nodes.data.with.path=[1,", "experiment.x=1", "nodes.data.with.label=[1]"});
  EXPECT_EQ(l.diags.to_string(),
            "--set: error: malformed override 'seed': expected key.path=value; e.g. --set seed=3 or --set "
            "nodes.mlp.with.epochs=20\n"
            "--set: error: malformed override 'a..b=1': expected key.path=value; e.g. --set seed=3 or --set "
            "nodes.mlp.with.epochs=20\n"
            "--set: error: malformed override 'nodes.data.with.path=[1,': the value is not valid YAML (end of "
            "sequence flow not found)\n"
            "--set: error: cannot apply override 'experiment.x=1': 'experiment' is 'o', not a mapping\n"
            "--set: error: node 'data': parameter 'label' expects a string, got a list\n");
}

// ---- validation details -----------------------------------------------------------

TEST(GraphValidate, DefaultsAreFilledAndTypesFollowTheSchema) {
  const ResolvedGraph g = valid(R"(
experiment: d
nodes:
  data: {use: dataset.table, with: {path: x.csv}}
  split: {use: split.holdout, with: {test_size: 1, stratify: no}, in: {table: data.table}}
  mlp: {use: model.mlp, with: {pose: ~, hidden: [3]}, in: {train: split.train}}
  mlp2: {use: model.mlp, with: {pose: null, activation: tanh}, in: {train: split.train}}
  mlp3: {use: model.mlp, with: {pose: "null"}, in: {train: split.train}}
)");
  EXPECT_EQ(node(g, "data").params, json::parse(R"({"path": "x.csv", "label": "label"})"));
  EXPECT_EQ(node(g, "split").params, json::parse(R"({"test_size": 1.0, "stratify": false})"));
  EXPECT_TRUE(node(g, "split").params["test_size"].is_number_float());
  EXPECT_EQ(node(g, "mlp").params,
            json::parse(R"({"hidden": [3], "epochs": 10, "lr": 0.001, "activation": "relu", "pose": null})"));
  EXPECT_EQ(node(g, "mlp2").params["activation"], "tanh");
  EXPECT_TRUE(node(g, "mlp2").params["pose"].is_null());
  EXPECT_EQ(node(g, "mlp3").params["pose"], "null");
}

TEST(GraphValidate, VersionPinsChooseTheEntry) {
  const ResolvedGraph g = valid(R"(
experiment: p
nodes:
  data: {use: dataset.table, with: {path: x.csv}}
  old: {use: split.group_kfold@1, with: {group: s}, in: {table: data.table}}
  new: {use: split.group_kfold, with: {group: s}, in: {table: data.table}}
)");
  EXPECT_EQ(node(g, "old").component->version, 1u);
  EXPECT_EQ(node(g, "new").component->version, 2u);
  EXPECT_FALSE(node(g, "old").params.contains("shuffle"));
  EXPECT_EQ(node(g, "new").params["shuffle"], false);
}

TEST(GraphValidate, ImagesFeedTensorsAndAnything) {
  const ResolvedGraph g = valid(R"(
experiment: k
nodes:
  img: {use: dataset.images, with: {folder: f}}
  norm: {use: tensor.normalize, in: {x: img.images}}
  report: {use: report.html, in: {items: [img.images, norm.y]}}
)");
  EXPECT_THAT(sources(g, "norm", "x"), ElementsAre("img.images"));
  EXPECT_THAT(sources(g, "report", "items"), ElementsAre("img.images", "norm.y"));
}

TEST(GraphValidate, OptionalInputsMayStayUnconnected) {
  const ResolvedGraph g = valid(R"(
experiment: o
nodes:
  data: {use: dataset.table, with: {path: x.csv}}
  mlp: {use: model.mlp, in: {train: data.table}}
  sal: {use: explain.saliency, in: {model: mlp.model}}
)");
  EXPECT_TRUE(sources(g, "sal", "data").empty());
  ASSERT_EQ(node(g, "sal").inputs.size(), 2u);
}

TEST(GraphValidate, TopologicalOrderKeepsFileOrderAmongReadyNodes) {
  const ResolvedGraph g = valid(R"(
experiment: t
nodes:
  report: {use: report.html, in: {items: [m2.model, m1.model]}}
  m2: {use: model.mlp, in: {train: b.table}}
  b: {use: dataset.table, with: {path: b.csv}}
  m1: {use: model.mlp, in: {train: a.table}}
  a: {use: dataset.table, with: {path: a.csv}}
)");
  std::vector<std::string> order;
  for (size_t i : g.order) order.push_back(g.nodes[i].spec.name);
  EXPECT_THAT(order, ElementsAre("b", "m2", "a", "m1", "report"));
}

TEST(GraphValidate, SelfLoopIsACycle) {
  Loaded l = load("experiment: c\nnodes:\n  a: {use: split.holdout, in: {table: a.train}}\n");
  EXPECT_EQ(l.diags.to_string(),
            "test.yaml:3:3: error: cycle: a -> a; a node cannot depend on its own outputs\n");
}

// ---- resolved_yaml ----------------------------------------------------------------

TEST(GraphResolvedYaml, WritesEverythingSpeltOut) {
  const ResolvedGraph g = valid(kPipeline);
  EXPECT_EQ(resolved_yaml(g), R"(experiment: demo
seed: 7
vars: {}
plugin_paths: []
nodes:
  data:
    use: dataset.table@1
    with:
      label: emotion
      path: features.csv
  split:
    use: split.holdout@1
    with:
      stratify: true
      test_size: 0.3
    in:
      table: data.table
  mlp:
    use: model.mlp@1
    with:
      activation: relu
      epochs: 20
      hidden: [64]
      lr: 0.001
      pose: null
    in:
      train: split.train
  report:
    use: report.html@1
    with:
      title: Report
    in:
      items: [mlp.model, split.test]
)");
}

TEST(GraphResolvedYaml, RoundTripsToTheSameParameters) {
  ScopedEnv env("MIEN_TEST_DATA_DIR", "/data dir");
  Loaded loaded = load(R"(
experiment: round
seed: 42
vars: {dir: "${env:MIEN_TEST_DATA_DIR}", odd: "yes", n: 3, text: "a: b, $${x}"}
plugin_paths: [plugins]
nodes:
  data: {use: dataset.table, with: {path: "${dir}/x.csv", label: "007"}}
  split: {use: split.holdout, matrix: {size: [0.2, 0.3]}, with: {test_size: "${matrix.size}"}, in: {table: data.table}}
  mlp: {use: model.mlp, with: {pose: "true", hidden: [1, 2]}, in: {train: split.train}}
  sal: {use: explain.saliency, in: {model: mlp.model}}
  report: {use: report.html, with: {title: "${text}"}, in: {items: sal.maps}}
)");
  // /base/plugins does not exist here: a warning, nothing else.
  EXPECT_EQ(loaded.diags.to_string(),
            "test.yaml:5:16: warning: plugin_paths entry 'plugins' does not exist (/base/plugins); no plugins are "
            "loaded from it\n");
  ASSERT_TRUE(loaded.graph.has_value());
  const ResolvedGraph first = *loaded.graph;
  const std::string text = resolved_yaml(first);
  EXPECT_THAT(text, HasSubstr("\n  \"mlp[0.2]\":\n    use: model.mlp@1\n"));
  EXPECT_THAT(text, HasSubstr("\n      items: [\"sal[0.2].maps\", \"sal[0.3].maps\"]\n"));
  EXPECT_THAT(text, HasSubstr("\n  odd: \"yes\"\n"));
  EXPECT_THAT(text, HasSubstr("\n  text: \"a: b, $${x}\"\n"));
  Diagnostics diags;
  const Experiment again = read_experiment_text(text, "resolved.yaml", "/elsewhere", {}, diags);
  const auto second = validate_experiment(again, catalog(), diags);
  ASSERT_TRUE(second.has_value()) << diags.to_string() << text;
  ASSERT_EQ(node_names(*second), node_names(first));
  for (size_t i = 0; i < first.nodes.size(); ++i) {
    EXPECT_EQ(second->nodes[i].params, first.nodes[i].params) << first.nodes[i].spec.name;
    EXPECT_EQ(second->nodes[i].component, first.nodes[i].component);
  }
  EXPECT_EQ(second->experiment.vars, first.experiment.vars);
  EXPECT_EQ(second->experiment.plugin_paths, first.experiment.plugin_paths);
  EXPECT_EQ(resolved_yaml(*second), text);
  EXPECT_EQ(node(*second, "report").params["title"], "a: b, ${x}");
}

// ---- the documentation ------------------------------------------------------------

TEST(GraphDocs, WorkedExampleInConfigsReadmeIsValid) {
  ScopedEnv env("DATA_DIR", nullptr);
  const std::string readme = read_file(fs::path(MIEN_SOURCE_DIR) / "configs" / "README.md");
  const size_t section = readme.find("## Worked example");
  ASSERT_NE(section, std::string::npos);
  const size_t begin = readme.find("```yaml\n", section) + 8;
  const size_t end = readme.find("```", begin);
  const ResolvedGraph g = valid(readme.substr(begin, end - begin));
  EXPECT_THAT(node_names(g), ElementsAre("data", "split", "mlp[S]", "mlp[HL]", "mlp[HR]", "saliency[S]",
                                         "saliency[HL]", "saliency[HR]", "report"));
  EXPECT_EQ(node(g, "data").params["path"], "data/features.csv");
  EXPECT_THAT(sources(g, "report", "items"), ElementsAre("saliency[S].maps", "saliency[HL].maps", "saliency[HR].maps"));
  const ResolvedGraph one = valid(readme.substr(begin, end - begin), {"vars.poses=[S]"});
  EXPECT_THAT(sources(one, "report", "items"), ElementsAre("saliency[S].maps"));
}

}  // namespace
}  // namespace mien::host
