// The host (typing a node's `with:` from YAML) and the SDK's test runner
// (mien::testing::validate_params, given JSON) give every value of a corpus the same
// verdict and, when they accept it, the same typed parameters. Both call
// mien/param_schema.hpp; this test keeps their wrappers from drifting apart.
#include <mien/testing.hpp>

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "graph/param_schema.hpp"
#include "graph/yaml_tree.hpp"
#include "loader/catalog.hpp"

namespace mien::host {
namespace {

using nlohmann::json;

struct Case {
  const char* schema;  // the parameter's own schema
  const char* value;   // the value, as JSON (which is also YAML)
  bool valid;          // the verdict both must give
};

// Two YAML reading rules are the host's alone and not schema rules, so the corpus
// leaves them out: a plain scalar where only a string is expected is read as that
// string (`label: 5` is "5"), and list items are typed without their quotes.
const std::vector<Case> kCorpus = {
    // integers, with bounds
    {R"({"type": "integer", "minimum": 2})", "5", true},
    {R"({"type": "integer", "minimum": 2})", "2", true},
    {R"({"type": "integer", "minimum": 2})", "1", false},
    {R"({"type": "integer", "minimum": 2})", "2.0", true},
    {R"({"type": "integer", "minimum": 2})", "2.5", false},
    {R"({"type": "integer", "minimum": 2})", "\"5\"", false},
    {R"({"type": "integer", "minimum": 2})", "true", false},
    {R"({"type": "integer", "minimum": 2})", "null", false},
    {R"({"type": "integer", "minimum": 2})", "[5]", false},
    {R"({"type": "integer", "maximum": 10})", "11", false},
    {R"({"type": "integer", "maximum": 10})", "-3", true},
    // numbers
    {R"({"type": "number", "minimum": 0, "maximum": 1})", "0.5", true},
    {R"({"type": "number", "minimum": 0, "maximum": 1})", "1", true},
    {R"({"type": "number", "minimum": 0, "maximum": 1})", "1.5", false},
    {R"({"type": "number", "minimum": 0, "maximum": 1})", "-0.0001", false},
    {R"({"type": "number", "minimum": 0, "maximum": 1})", "1e-3", true},
    {R"({"type": "number"})", "\"0.5\"", false},
    {R"({"type": "number"})", "{\"a\": 1}", false},
    // booleans
    {R"({"type": "boolean"})", "true", true},
    {R"({"type": "boolean"})", "false", true},
    {R"({"type": "boolean"})", "1", false},
    {R"({"type": "boolean"})", "\"true\"", false},
    // strings and enums
    {R"({"type": "string"})", "\"five\"", true},
    {R"({"type": "string"})", "\"\"", true},
    {R"({"type": "string"})", "[\"a\"]", false},
    {R"({"type": "string", "enum": ["relu", "tanh"]})", "\"relu\"", true},
    {R"({"type": "string", "enum": ["relu", "tanh"]})", "\"rleu\"", false},
    {R"({"enum": [1, 2, 3]})", "2", true},
    {R"({"enum": [1, 2, 3]})", "4", false},
    // nullable
    {R"({"type": ["integer", "null"], "minimum": 1})", "null", true},
    {R"({"type": ["integer", "null"], "minimum": 1})", "3", true},
    {R"({"type": ["integer", "null"], "minimum": 1})", "0", false},
    {R"({"type": ["string", "null"], "enum": ["a", "b"]})", "null", true},
    {R"({"type": ["string", "null"], "enum": ["a", "b"]})", "\"c\"", false},
    // lists
    {R"({"type": "array", "items": {"type": "integer", "minimum": 1}})", "[1, 2, 3]", true},
    {R"({"type": "array", "items": {"type": "integer", "minimum": 1}})", "[]", true},
    {R"({"type": "array", "items": {"type": "integer", "minimum": 1}})", "[1, 0]", false},
    {R"({"type": "array", "items": {"type": "integer", "minimum": 1}})", "[1, \"lots\"]", false},
    {R"({"type": "array", "items": {"type": "integer", "minimum": 1}})", "7", false},
    {R"({"type": "array", "items": {"type": "string"}})", "[\"a\", \"b\"]", true},
    {R"({"type": "array", "items": {"type": "number"}})", "[0.5, 2]", true},
    {R"({"type": "array"})", "[1, \"a\", null]", true},
    // nested objects: closed when they list properties
    {R"({"type": "object", "properties": {"p": {"type": "number", "maximum": 1, "default": 0.5}}})", "{}", true},
    {R"({"type": "object", "properties": {"p": {"type": "number", "maximum": 1, "default": 0.5}}})",
     "{\"p\": 0.25}", true},
    {R"({"type": "object", "properties": {"p": {"type": "number", "maximum": 1, "default": 0.5}}})",
     "{\"p\": 3}", false},
    {R"({"type": "object", "properties": {"p": {"type": "number", "maximum": 1, "default": 0.5}}})",
     "{\"q\": 1}", false},
    {R"({"type": "object", "properties": {"p": {"type": "number"}}, "required": ["p"]})", "{}", false},
    {R"({"type": "object", "properties": {"p": {"type": "number"}}, "required": ["p"]})", "{\"p\": 1}", true},
    {R"({"type": "object", "properties": {"p": {"type": "number"}}, "additionalProperties": true})",
     "{\"q\": \"x\"}", true},
    {R"({"type": "object"})", "{\"anything\": [1, 2]}", true},
    {R"({"type": "object"})", "[1]", false},
    // a nested map with an additionalProperties schema is open: the component checks
    // its values itself (dataset.kdef's class_map names the code it cannot map)
    {R"({"type": "object", "additionalProperties": {"type": ["string", "null"]}})", "{\"angry\": \"anger\"}", true},
    {R"({"type": "object", "additionalProperties": {"type": ["string", "null"]}})", "{\"contempt\": null}", true},
    {R"({"type": "object", "additionalProperties": {"type": ["string", "null"]}})", "{\"HA\": 3}", true},
    {R"({"type": "object", "additionalProperties": false, "properties": {}})", "{\"HA\": 3}", false},
};

json parameter_schema(const json& own) {
  return json{{"type", "object"}, {"properties", {{"v", own}}}, {"additionalProperties", false}};
}

// The host's verdict: each parameter written as the YAML `name: <JSON text>` and typed by
// type_params.
bool host_accepts(const json& schema, const json& params, json* typed, std::string* why) {
  Diagnostics diags;
  std::string yaml;
  for (const auto& [name, value] : params.items()) yaml += name + ": " + value.dump() + "\n";
  const graph::YamlNode root = graph::parse_yaml(yaml, "test.yaml", diags);
  EXPECT_FALSE(diags.has_errors()) << diags.to_string();
  NodeSpec spec;
  spec.name = "n";
  spec.use = "test.component";
  for (const auto& [name, value] : params.items()) {
    const graph::YamlNode* node = root.find(name);
    EXPECT_NE(node, nullptr) << name;
    if (node) spec.with[name] = NodeSpec::Param{graph::to_raw_json(*node), node->quoted, node->where};
  }
  ComponentEntry entry;
  entry.type_id = "test.component";
  entry.version = 1;
  entry.schema = schema;
  *typed = graph::type_params(spec, entry, diags);
  *why = diags.to_string();
  return !diags.has_errors();
}

// The SDK runner's verdict: the same value as JSON.
bool runner_accepts(const json& schema, const json& params, json* typed, std::string* why) {
  try {
    *typed = mien::testing::validate_params(schema, params);
    return true;
  } catch (const mien::testing::InvalidParams& e) {
    *why = e.what();
    return false;
  }
}

TEST(ParamSchemaAgreement, HostAndTestRunnerGiveTheSameVerdicts) {
  for (const Case& c : kCorpus) {
    const json schema = parameter_schema(json::parse(c.schema));
    const json value = json::parse(c.value);
    json host_params, runner_params;
    std::string host_why, runner_why;
    const bool host = host_accepts(schema, json{{"v", value}}, &host_params, &host_why);
    const bool runner = runner_accepts(schema, json{{"v", value}}, &runner_params, &runner_why);
    SCOPED_TRACE(std::string("schema ") + c.schema + ", value " + c.value);
    EXPECT_EQ(host, c.valid) << "host: " << host_why;
    EXPECT_EQ(runner, c.valid) << "runner: " << runner_why;
    if (host && runner) EXPECT_EQ(host_params, runner_params);
  }
}

// At the top level an additionalProperties schema types every parameter the schema does
// not list.
TEST(ParamSchemaAgreement, TopLevelAdditionalPropertiesTypeTheExtraParameters) {
  const json schema = json::parse(R"({"type": "object", "properties": {"n": {"type": "integer", "default": 1}},
                                      "additionalProperties": {"type": "number", "maximum": 1}})");
  const std::vector<std::pair<json, bool>> cases = {
      {json::parse(R"({"n": 3, "a": 0.5})"), true},  {json::parse(R"({"a": 2})"), false},
      {json::parse(R"({"a": "x"})"), false},          {json::parse(R"({"n": "x"})"), false},
      {json::parse(R"({"a": 0.5, "b": 1})"), true},
  };
  for (const auto& [params, valid] : cases) {
    json host_params, runner_params;
    std::string host_why, runner_why;
    SCOPED_TRACE(params.dump());
    const bool host = host_accepts(schema, params, &host_params, &host_why);
    const bool runner = runner_accepts(schema, params, &runner_params, &runner_why);
    EXPECT_EQ(host, valid) << "host: " << host_why;
    EXPECT_EQ(runner, valid) << "runner: " << runner_why;
    if (host && runner) EXPECT_EQ(host_params, runner_params);
  }
}

TEST(ParamSchemaAgreement, DefaultsAreFilledTheSameWay) {
  const json schema = parameter_schema(json::parse(
      R"({"type": "object", "properties": {"p": {"type": "number", "default": 0.5}}, "default": {}})"));
  const json runner = mien::testing::validate_params(schema, json::object());
  Diagnostics diags;
  NodeSpec spec;
  spec.name = "n";
  ComponentEntry entry;
  entry.type_id = "test.component";
  entry.schema = schema;
  const json host = graph::type_params(spec, entry, diags);
  EXPECT_FALSE(diags.has_errors()) << diags.to_string();
  EXPECT_EQ(host, runner);
  EXPECT_EQ(host, json::parse(R"({"v": {"p": 0.5}})"));
}

}  // namespace
}  // namespace mien::host
