// mien testing SDK: run one component in a unit test, without the host.
//
//   #include <mien/testing.hpp>
//
//   mien::testing::ComponentRunner<Scale> runner({{"factor", 3.0}}, /*seed=*/7);
//   runner.set_input("values", mien::Tensor::from<float>({2}, {1.f, 2.f}));
//   ASSERT_EQ(runner.run(), MIEN_OK) << runner.error();
//   EXPECT_EQ(runner.tensor("scaled").at(1), 6.0);
//
// What it does, like the host would:
//  * validates the parameters against C::info().schema() with the host's own rules
//    (mien/param_schema.hpp) and fills the defaults (an unknown or ill-typed
//    parameter, a value outside minimum/maximum/enum, a missing required one or a
//    default its own schema rejects throws mien::testing::InvalidParams);
//  * calls create(), process() and destroy() through the component's C vtable
//    (mien::detail::Adapter<C>), so the real C boundary is exercised;
//  * offers a fake mien_host_api that records log lines, the error message and
//    progress calls, has a cancel flag, and hands out output folders inside a fresh
//    temporary folder (removed when the runner dies unless MIEN_KEEP_TEST_OUTPUT is set
//    or keep_files() was called);
//  * checks the outputs the way the host does (every slot filled, with the port's kind)
//    and owns them: their deleters run when the runner dies or runs again.
//
// A plain-C component is run from its descriptor: mien::testing::Runner r(&my_desc, params).
//
// Mistakes in the test itself (an unknown port, a required input left unset) throw
// mien::testing::UsageError; what the component does is reported by run()'s status.
// Header-only; needs only plugin.hpp (and so nlohmann_json) and the C++17 library.
#pragma once

#include <mien/param_schema.hpp>
#include <mien/plugin.hpp>
#include <mien/suggest.hpp>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace mien {
namespace testing {

// Parameters a host would reject.
class InvalidParams : public Error {
 public:
  explicit InvalidParams(const std::string& message) : Error(message, MIEN_ERR_INVALID_ARGUMENT) {}
};

// The test used the runner wrongly (unknown port, wrong value kind, missing input...).
class UsageError : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

struct LogLine {
  mien_log_level level;
  std::string message;
};

struct ProgressCall {
  uint64_t done;
  uint64_t total;
  std::string note;  // "" when the component passed NULL
};

namespace detail {

inline std::string json_type_name(const Json& v) {
  if (v.is_null()) return "null";
  if (v.is_boolean()) return "boolean";
  if (v.is_number_integer()) return "integer";
  if (v.is_number()) return "number";
  if (v.is_string()) return "string";
  if (v.is_array()) return "array";
  return "object";
}

// A parameter-schema violation in the runner's words (the rules are mien/param_schema.hpp's,
// the host's own). `where` names the value: "k", "opt.p", "hidden[1]".
inline std::string describe_violation(const param_schema::Violation& v, const std::string& where) {
  using Rule = param_schema::Violation::Rule;
  switch (v.rule) {
    case Rule::kType: {
      std::string expected;
      for (const auto& t : v.types) expected += (expected.empty() ? "" : " or ") + t;
      return "parameter '" + where + "' must be " + expected + ", got " + json_type_name(v.value) + " " +
             v.value.dump();
    }
    case Rule::kEnum:
      return "parameter '" + where + "' is " + v.value.dump() + ", expected one of " + v.limit.dump();
    case Rule::kMinimum:
      return "parameter '" + where + "' is " + v.value.dump() + ", below the minimum " + v.limit.dump();
    case Rule::kMaximum:
      return "parameter '" + where + "' is " + v.value.dump() + ", above the maximum " + v.limit.dump();
    case Rule::kUnknown:
      return "unknown parameter '" + where + "'" + mien::did_you_mean(v.key, v.known);
    case Rule::kRequired:
      return "parameter '" + where + "' is required";
    case Rule::kNone:
      break;
  }
  return "";
}

// "hidden[1]" from the violation path ".hidden[1]" below the parameter object.
inline std::string violation_where(const std::string& prefix, const std::string& path) {
  std::string where = prefix + path;
  if (!where.empty() && where[0] == '.') where.erase(0, 1);
  return where;
}

struct TableDeleter {
  void operator()(mien_table* t) const {
    if (t && t->deleter) t->deleter(t);
  }
};
struct TensorDeleter {
  void operator()(mien_tensor* t) const {
    if (t && t->deleter) t->deleter(t);
  }
};

}  // namespace detail

// Validates parameters against a component's parameter schema (the JSON Schema subset
// of plugin_abi.h) and returns them with every default filled in. Throws InvalidParams.
inline Json validate_params(const Json& schema, const Json& params) {
  if (!params.is_null() && !params.is_object()) throw InvalidParams("parameters must be a JSON object");
  // The host rejects a library whose default its own schema refuses, given or not; so
  // does the runner.
  if (const auto bad = param_schema::check_defaults(schema); bad)
    throw InvalidParams(std::string("the component's own default is invalid (mien would not load it): ") +
                        detail::describe_violation(bad.violation, bad.parameter + bad.violation.path));
  Json out = params.is_null() ? Json::object() : params;
  param_schema::normalise_integers(schema, out, /*top_level=*/true);
  if (const auto v = param_schema::check(schema, out, /*top_level=*/true); v)
    throw InvalidParams(detail::describe_violation(v, detail::violation_where("", v.path)));
  param_schema::fill_defaults(schema, out);
  return out;
}

// A deep copy of a table (e.g. to feed one runner's output into another runner).
inline Table copy_table(const TableView& src) {
  Table t(src.num_rows());
  for (uint32_t i = 0; i < src.num_columns(); ++i) {
    const ColumnView c = src.column(i);
    if (c.dtype() == MIEN_DTYPE_F32) {
      // add_copy would widen to float64; keep the values, note the widening in nothing else.
      t.add_numbers(c.name(), c.role(), c.numbers());
    } else {
      t.add_copy(c);
    }
  }
  if (src.raw()->meta_json && *src.raw()->meta_json) t.meta(src.meta());
  return t;
}

// Runs one component, given its descriptor (C or C++).
class Runner {
 public:
  explicit Runner(const mien_component_desc* desc, Json params = Json::object(), uint64_t seed = 0)
      : desc_(desc), seed_(seed) {
    if (desc_ == nullptr) throw UsageError("Runner: the component descriptor is NULL");
    if (desc_->struct_size < offsetof(mien_component_desc, model))
      throw UsageError("Runner: the component descriptor is too small (struct_size " +
                       std::to_string(desc_->struct_size) + ")");
    if (desc_->vtable == nullptr || desc_->vtable->create == nullptr || desc_->vtable->destroy == nullptr ||
        desc_->vtable->process == nullptr)
      throw UsageError("Runner: the component has no complete vtable (create, destroy, process)");
    type_id_ = desc_->type_id ? desc_->type_id : "";
    node_name_ = type_id_;
    for (uint32_t i = 0; i < desc_->num_ports; ++i) {
      const mien_port_desc& p = desc_->ports[i];
      (p.dir == MIEN_PORT_IN ? in_ports_ : out_ports_).push_back(&p);
    }
    inputs_.resize(in_ports_.size());
    Json schema = Json::object();
    try {
      schema = Json::parse(desc_->params_schema_json ? desc_->params_schema_json : "{}");
    } catch (const std::exception& e) {
      throw UsageError("Runner: the component's parameter schema is not JSON: " + std::string(e.what()));
    }
    try {
      params_ = validate_params(schema, params);
    } catch (const InvalidParams& e) {
      throw InvalidParams(type_id_ + ": " + e.what());
    }
    api_.struct_size = sizeof(mien_host_api);
    api_.abi_major = MIEN_ABI_VERSION_MAJOR;
    api_.abi_minor = MIEN_ABI_VERSION_MINOR;
    api_.log = &cb_log;
    api_.set_error = &cb_set_error;
    api_.report_progress = &cb_progress;
    api_.is_cancelled = &cb_cancelled;
    api_.output_dir = &cb_output_dir;
    api_.run_dir = &cb_run_dir;
  }
  virtual ~Runner() {
    clear_outputs();
    if (!root_.empty() && !keep_ && std::getenv("MIEN_KEEP_TEST_OUTPUT") == nullptr) {
      std::error_code ec;
      std::filesystem::remove_all(root_, ec);
    }
  }
  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;

  // ---- what create() receives ----
  Runner& set_seed(uint64_t seed) { seed_ = seed; return *this; }
  Runner& set_num_threads(uint32_t n) { threads_ = n; return *this; }
  Runner& set_node_name(std::string name) { node_name_ = std::move(name); return *this; }
  // The experiment file's folder: Setup::resolve_path() resolves relative paths here.
  Runner& set_base_dir(std::string dir) { base_dir_ = std::move(dir); return *this; }
  const Json& params() const { return params_; }  // validated, defaults filled
  const mien_component_desc* descriptor() const { return desc_; }

  // ---- inputs: set_input replaces the port's values, add_input appends (MULTIPLE ports) ----
  Runner& set_input(const std::string& port, Table&& t) { return clear_input(port).add_input(port, std::move(t)); }
  Runner& set_input(const std::string& port, const TableView& t) { return set_input(port, copy_table(t)); }
  Runner& set_input(const std::string& port, Tensor&& t, mien_pixel_format fmt = MIEN_PIXEL_UNSPECIFIED) {
    return clear_input(port).add_input(port, std::move(t), fmt);
  }
  Runner& set_input(const std::string& port, const std::string& text) { return clear_input(port).add_input(port, text); }
  Runner& set_input(const std::string& port, const char* text) { return set_input(port, std::string(text)); }
  Runner& set_input(const std::string& port, const Json& json) { return clear_input(port).add_input(port, json); }
  // A model reference, borrowed: it must outlive run().
  Runner& set_input(const std::string& port, const mien_model_ref* model) {
    return clear_input(port).add_input(port, model);
  }

  Runner& add_input(const std::string& port, Table&& t) {
    Slot s;
    s.kind = MIEN_VALUE_TABLE;
    s.table.reset(t.release());
    return push(port, std::move(s));
  }
  Runner& add_input(const std::string& port, const TableView& t) { return add_input(port, copy_table(t)); }
  Runner& add_input(const std::string& port, Tensor&& t, mien_pixel_format fmt = MIEN_PIXEL_UNSPECIFIED) {
    Slot s;
    const mien_port_desc* p = in_port(port);
    s.kind = (p->kind == MIEN_VALUE_IMAGE || fmt != MIEN_PIXEL_UNSPECIFIED) ? MIEN_VALUE_IMAGE : MIEN_VALUE_TENSOR;
    if (p->kind == MIEN_VALUE_TENSOR) s.kind = MIEN_VALUE_TENSOR;
    s.tensor.reset(t.release());
    if (!s.tensor) throw UsageError("Runner: input '" + port + "': the tensor is empty");
    s.tensor->flags |= MIEN_TENSOR_READ_ONLY;  // inputs are borrowed and read-only
    s.pixel_format = fmt;
    return push(port, std::move(s));
  }
  Runner& add_input(const std::string& port, const std::string& text) {
    Slot s;
    const mien_port_desc* p = in_port(port);
    s.kind = p->kind == MIEN_VALUE_JSON ? MIEN_VALUE_JSON : MIEN_VALUE_STRING;
    s.text = text;
    return push(port, std::move(s));
  }
  Runner& add_input(const std::string& port, const char* text) { return add_input(port, std::string(text)); }
  Runner& add_input(const std::string& port, const Json& json) {
    Slot s;
    const mien_port_desc* p = in_port(port);
    s.kind = p->kind == MIEN_VALUE_STRING ? MIEN_VALUE_STRING : MIEN_VALUE_JSON;
    s.text = json.dump();
    return push(port, std::move(s));
  }
  Runner& add_input(const std::string& port, const mien_model_ref* model) {
    Slot s;
    s.kind = MIEN_VALUE_MODEL;
    s.model = model;
    return push(port, std::move(s));
  }
  Runner& clear_input(const std::string& port) {
    inputs_[in_index(port)].clear();
    return *this;
  }
  // Ports may also be named by their SDK declarations: runner.set_input(Comp::kIn, ...).
  template <typename... A>
  Runner& set_input(const PortDecl& port, A&&... a) { return set_input(port.name, std::forward<A>(a)...); }
  template <typename... A>
  Runner& add_input(const PortDecl& port, A&&... a) { return add_input(port.name, std::forward<A>(a)...); }

  // ---- the fake host's switches ----
  // is_cancelled() answers non-zero from now on (or not, with false).
  Runner& cancel(bool on = true) { cancelled_ = on; return *this; }
  // is_cancelled() answers non-zero from its (n+1)-th call on: cancels inside a loop.
  Runner& cancel_after(uint64_t polls) { cancel_after_ = polls; return *this; }
  // Keep the temporary folder after the runner dies (its path: run_dir()).
  Runner& keep_files(bool on = true) { keep_ = on; return *this; }

  // ---- running ----
  // create() + process() + destroy() through the vtable. Outputs of an earlier run are
  // freed first; logs, progress and the error are reset. Returns the status (also
  // MIEN_ERR_INTERNAL when the component broke the output contract; error() says how).
  mien_status run() {
    // The inputs, as the host lays them out (checked before anything is reset).
    std::vector<std::vector<mien_value>> values(in_ports_.size());
    std::vector<mien_input> ins(in_ports_.size());
    for (size_t i = 0; i < in_ports_.size(); ++i) {
      const mien_port_desc& p = *in_ports_[i];
      if (inputs_[i].empty() && !(p.flags & MIEN_PORT_OPTIONAL))
        throw UsageError("Runner: required input '" + std::string(p.name) + "' of " + type_id_ + " is not set");
      if (inputs_[i].size() > 1 && !(p.flags & MIEN_PORT_MULTIPLE))
        throw UsageError("Runner: input '" + std::string(p.name) + "' takes one value, " +
                         std::to_string(inputs_[i].size()) + " were given");
      for (auto& s : inputs_[i]) values[i].push_back(s.value());
      ins[i].count = static_cast<uint32_t>(values[i].size());
      ins[i].values = values[i].empty() ? nullptr : values[i].data();
    }
    clear_outputs();
    logs_.clear();
    progress_.clear();
    error_.clear();
    polls_ = 0;
    ran_ = true;
    std::vector<mien_value> outs(out_ports_.size());  // zeroed
    const std::string params_text = params_.dump();
    mien_create_info ci{};
    ci.struct_size = sizeof(mien_create_info);
    ci.params_json = params_text.c_str();
    ci.seed = seed_;
    ci.num_threads = threads_;
    ci.node_name = node_name_.c_str();
    ci.base_dir = base_dir_.c_str();

    mien_instance* inst = nullptr;
    status_ = desc_->vtable->create(&api_, ctx(), &ci, &inst);
    if (status_ != MIEN_OK) {
      if (inst != nullptr) {
        desc_->vtable->destroy(inst);
        contract("create() failed but returned an instance (it must leave *out_instance NULL)");
      }
      return status_;
    }
    if (inst == nullptr) return contract("create() returned MIEN_OK but no instance");
    status_ = desc_->vtable->process(inst, ctx(), ins.empty() ? nullptr : ins.data(),
                                     static_cast<uint32_t>(ins.size()), outs.empty() ? nullptr : outs.data(),
                                     static_cast<uint32_t>(outs.size()));
    if (status_ == MIEN_OK) {
      // The host owns the outputs now; copy the text before the instance goes.
      outputs_ = outs;
      out_texts_.assign(outs.size(), std::string());
      for (size_t j = 0; j < outs.size(); ++j) {
        if (outs[j].text != nullptr) {
          out_texts_[j] = outs[j].text;
          outputs_[j].text = out_texts_[j].c_str();
        }
      }
    }
    desc_->vtable->destroy(inst);
    if (status_ == MIEN_OK) check_outputs();
    return status_;
  }

  mien_status status() const { return status_; }
  bool ok() const { return ran_ && status_ == MIEN_OK; }
  // The message the component attached with set_error (the last one), "" if none.
  const std::string& error() const { return error_; }
  const std::vector<LogLine>& logs() const { return logs_; }
  // The messages logged at `min_level` or above.
  std::vector<std::string> log_messages(mien_log_level min_level = MIEN_LOG_DEBUG) const {
    std::vector<std::string> out;
    for (const auto& l : logs_)
      if (l.level >= min_level) out.push_back(l.message);
    return out;
  }
  // True when some line (of exactly `level`, if given) contains `needle`.
  bool logged(const std::string& needle, std::optional<mien_log_level> level = std::nullopt) const {
    for (const auto& l : logs_)
      if ((!level || l.level == *level) && l.message.find(needle) != std::string::npos) return true;
    return false;
  }
  const std::vector<ProgressCall>& progress() const { return progress_; }
  uint64_t cancel_polls() const { return polls_; }

  // ---- outputs (valid until the runner runs again or dies) ----
  const mien_value& output(const std::string& port) const {
    if (!ran_) throw UsageError("Runner: output '" + port + "' asked for before run()");
    if (status_ != MIEN_OK)
      throw UsageError("Runner: output '" + port + "' asked for, but the run failed: " + error_);
    const size_t j = out_index(port);
    if (j >= outputs_.size()) throw UsageError("Runner: output '" + port + "' is not available");
    return outputs_[j];
  }
  TableView table(const std::string& port) const {
    const mien_value& v = output(port);
    if (v.kind != MIEN_VALUE_TABLE) throw UsageError("Runner: output '" + port + "' is not a table");
    return TableView(v.table);
  }
  TensorView tensor(const std::string& port) const {
    const mien_value& v = output(port);
    if (v.kind != MIEN_VALUE_TENSOR && v.kind != MIEN_VALUE_IMAGE)
      throw UsageError("Runner: output '" + port + "' is not a tensor");
    return TensorView(v.tensor);
  }
  std::string text(const std::string& port) const {
    const mien_value& v = output(port);
    return v.text ? v.text : "";
  }
  Json json(const std::string& port) const { return Json::parse(text(port)); }
  TableView table(const PortDecl& p) const { return table(p.name); }
  TensorView tensor(const PortDecl& p) const { return tensor(p.name); }
  std::string text(const PortDecl& p) const { return text(p.name); }
  Json json(const PortDecl& p) const { return json(p.name); }

  // ---- folders ----
  // The run folder (a fresh temporary folder, created on first use).
  std::string run_dir() { return root().string(); }
  // The folder output_dir(port) handed to the component ("" = the node's own folder).
  std::string output_dir(const std::string& port = "") { return folder(port.empty() ? nullptr : port.c_str()); }

 private:
  struct Slot {
    mien_value_kind kind = MIEN_VALUE_UNSPECIFIED;
    std::unique_ptr<mien_table, detail::TableDeleter> table;
    std::unique_ptr<mien_tensor, detail::TensorDeleter> tensor;
    mien_pixel_format pixel_format = MIEN_PIXEL_UNSPECIFIED;
    std::string text;
    const mien_model_ref* model = nullptr;
    mien_value value() const {
      mien_value v{};
      v.struct_size = sizeof(mien_value);
      v.kind = kind;
      v.table = table.get();
      v.tensor = tensor.get();
      v.pixel_format = pixel_format;
      v.text = (kind == MIEN_VALUE_STRING || kind == MIEN_VALUE_JSON) ? text.c_str() : nullptr;
      v.model = model;
      return v;
    }
  };

  mien_call_ctx* ctx() { return reinterpret_cast<mien_call_ctx*>(this); }
  static Runner* self(mien_call_ctx* c) { return reinterpret_cast<Runner*>(c); }

  static void cb_log(mien_call_ctx* c, mien_log_level level, const char* msg) {
    self(c)->logs_.push_back(LogLine{level, msg ? msg : ""});
  }
  static void cb_set_error(mien_call_ctx* c, const char* msg) {
    self(c)->error_ = msg ? msg : "";
  }
  static void cb_progress(mien_call_ctx* c, uint64_t done, uint64_t total, const char* note) {
    self(c)->progress_.push_back(ProgressCall{done, total, note ? note : ""});
  }
  static int cb_cancelled(mien_call_ctx* c) {
    Runner* r = self(c);
    ++r->polls_;
    if (r->cancelled_) return 1;
    return (r->cancel_after_ && r->polls_ > *r->cancel_after_) ? 1 : 0;
  }
  static const char* cb_output_dir(mien_call_ctx* c, const char* port) {
    try {
      return self(c)->folder_cstr(port);
    } catch (...) {
      return nullptr;
    }
  }
  static const char* cb_run_dir(mien_call_ctx* c) {
    try {
      Runner* r = self(c);
      r->root_text_ = r->root().string();
      return r->root_text_.c_str();
    } catch (...) {
      return nullptr;
    }
  }

  const std::filesystem::path& root() {
    if (root_.empty()) {
      namespace fs = std::filesystem;
      const fs::path base = fs::temp_directory_path();
      std::random_device rd;
      for (int attempt = 0; attempt < 100; ++attempt) {
        char name[64];
        std::snprintf(name, sizeof name, "mien-test-%08x%08x", rd(), rd());
        fs::path p = base / name;
        if (fs::create_directory(p)) {
          root_ = p;
          break;
        }
      }
      if (root_.empty()) throw std::runtime_error("Runner: cannot create a temporary folder in " + base.string());
    }
    return root_;
  }
  const char* folder_cstr(const char* port) {
    const std::string key = port ? port : "";
    auto it = dirs_.find(key);
    if (it == dirs_.end()) {
      std::filesystem::path p = root() / (node_name_.empty() ? std::string("node") : node_name_);
      if (port) p /= port;
      std::filesystem::create_directories(p);
      it = dirs_.emplace(key, p.string()).first;
    }
    return it->second.c_str();
  }
  std::string folder(const char* port) { return folder_cstr(port); }

  size_t in_index(const std::string& port) const {
    for (size_t i = 0; i < in_ports_.size(); ++i)
      if (port == in_ports_[i]->name) return i;
    std::vector<std::string> names;
    for (auto* p : in_ports_) names.emplace_back(p->name);
    throw UsageError("Runner: " + type_id_ + " has no input port '" + port + "'" + mien::did_you_mean(port, names));
  }
  const mien_port_desc* in_port(const std::string& port) const { return in_ports_[in_index(port)]; }
  size_t out_index(const std::string& port) const {
    for (size_t i = 0; i < out_ports_.size(); ++i)
      if (port == out_ports_[i]->name) return i;
    std::vector<std::string> names;
    for (auto* p : out_ports_) names.emplace_back(p->name);
    throw UsageError("Runner: " + type_id_ + " has no output port '" + port + "'" + mien::did_you_mean(port, names));
  }
  static const char* kind_text(mien_value_kind k) {
    switch (k) {
      case MIEN_VALUE_TENSOR: return "tensor";
      case MIEN_VALUE_IMAGE: return "image";
      case MIEN_VALUE_TABLE: return "table";
      case MIEN_VALUE_STRING: return "string";
      case MIEN_VALUE_JSON: return "json";
      case MIEN_VALUE_MODEL: return "model";
      case MIEN_VALUE_ANY: return "any";
      default: return "unset";
    }
  }
  Runner& push(const std::string& port, Slot s) {
    const size_t i = in_index(port);
    const mien_port_desc& p = *in_ports_[i];
    const bool fits = p.kind == MIEN_VALUE_ANY || p.kind == s.kind ||
                      (p.kind == MIEN_VALUE_IMAGE && s.kind == MIEN_VALUE_TENSOR);
    if (!fits)
      throw UsageError("Runner: input '" + port + "' takes a " + kind_text(p.kind) + ", not a " + kind_text(s.kind));
    if (p.kind == MIEN_VALUE_IMAGE) s.kind = MIEN_VALUE_IMAGE;
    inputs_[i].push_back(std::move(s));
    return *this;
  }

  mien_status contract(const std::string& what) {
    status_ = MIEN_ERR_INTERNAL;
    error_ = "Runner: " + type_id_ + " broke the ABI contract: " + what;
    return status_;
  }

  static std::string check_table(const mien_table* t) {
    if (t->num_rows < 0) return "negative num_rows";
    if (t->num_columns > 0 && t->columns == nullptr) return "columns is NULL";
    std::set<std::string> names;
    for (uint32_t i = 0; i < t->num_columns; ++i) {
      const mien_column& c = t->columns[i];
      if (c.name == nullptr || *c.name == 0) return "column " + std::to_string(i) + " has no name";
      const std::string name = c.name;
      if (!names.insert(name).second) return "column '" + name + "' appears twice";
      if (c.role == MIEN_ROLE_UNSPECIFIED || c.role > MIEN_ROLE_VALUE) return "column '" + name + "' has no valid role";
      if (c.dtype != MIEN_DTYPE_F64 && c.dtype != MIEN_DTYPE_F32 && c.dtype != MIEN_DTYPE_I64 &&
          c.dtype != MIEN_DTYPE_I32 && c.dtype != MIEN_DTYPE_STRING)
        return "column '" + name + "' has an invalid dtype";
      if (t->num_rows > 0 && c.data == nullptr) return "column '" + name + "' has no data";
      if (c.num_categories > 0 && c.categories == nullptr) return "column '" + name + "' has num_categories but no categories";
      if (c.role == MIEN_ROLE_FEATURE && c.dtype == MIEN_DTYPE_STRING) return "feature column '" + name + "' is not numeric";
      if (c.role == MIEN_ROLE_LABEL) {
        if (c.dtype != MIEN_DTYPE_I64 && c.dtype != MIEN_DTYPE_I32) return "label column '" + name + "' is not int64 codes";
        ColumnView v(&c, t->num_rows);
        for (int64_t r = 0; r < t->num_rows; ++r) {
          const int64_t k = v.code(r);
          if (k < -1 || k >= static_cast<int64_t>(c.num_categories))
            return "label column '" + name + "' row " + std::to_string(r) + " has code " + std::to_string(k) +
                   " outside [-1, " + std::to_string(c.num_categories) + ")";
        }
      }
      if (c.dtype == MIEN_DTYPE_STRING)
        for (int64_t r = 0; r < t->num_rows; ++r)
          if (static_cast<const char* const*>(c.data)[r] == nullptr)
            return "string column '" + name + "' row " + std::to_string(r) + " is NULL";
      if (c.role == MIEN_ROLE_ID) {
        ColumnView v(&c, t->num_rows);
        std::set<std::string> seen;
        for (int64_t r = 0; r < t->num_rows; ++r)
          if (!seen.insert(v.text(r)).second) return "id column '" + name + "' repeats '" + v.text(r) + "'";
      }
    }
    return "";
  }

  void check_outputs() {
    for (size_t j = 0; j < out_ports_.size(); ++j) {
      const mien_port_desc& p = *out_ports_[j];
      const mien_value& v = outputs_[j];
      const std::string name = p.name;
      if (v.kind == MIEN_VALUE_UNSPECIFIED) {
        contract("output '" + name + "' was left unset");
        return;
      }
      if (p.kind != MIEN_VALUE_ANY && v.kind != p.kind) {
        contract("output '" + name + "' is a " + kind_text(v.kind) + ", the port declares " + kind_text(p.kind));
        return;
      }
      if ((v.kind == MIEN_VALUE_TENSOR || v.kind == MIEN_VALUE_IMAGE) && v.tensor == nullptr) {
        contract("output '" + name + "' has no tensor");
        return;
      }
      if (v.kind == MIEN_VALUE_TABLE) {
        if (v.table == nullptr) {
          contract("output '" + name + "' has no table");
          return;
        }
        const std::string problem = check_table(v.table);
        if (!problem.empty()) {
          contract("output table '" + name + "': " + problem);
          return;
        }
      }
      if (v.kind == MIEN_VALUE_STRING && v.text == nullptr) {
        contract("output '" + name + "' has no text");
        return;
      }
      if (v.kind == MIEN_VALUE_JSON) {
        if (v.text == nullptr || !Json::accept(v.text)) {
          contract("output '" + name + "' is not valid JSON");
          return;
        }
      }
    }
  }

  void clear_outputs() {
    for (auto& v : outputs_) {
      if (v.tensor && v.tensor->deleter) v.tensor->deleter(v.tensor);
      if (v.table && v.table->deleter) v.table->deleter(v.table);
    }
    outputs_.clear();
    out_texts_.clear();
  }

  const mien_component_desc* desc_;
  std::string type_id_;
  std::vector<const mien_port_desc*> in_ports_, out_ports_;
  std::vector<std::vector<Slot>> inputs_;
  Json params_;
  uint64_t seed_;
  uint32_t threads_ = 1;
  std::string node_name_;
  std::string base_dir_;
  mien_host_api api_{};

  bool ran_ = false;
  mien_status status_ = MIEN_OK;
  std::vector<mien_value> outputs_;
  std::vector<std::string> out_texts_;
  std::string error_;
  std::vector<LogLine> logs_;
  std::vector<ProgressCall> progress_;
  bool cancelled_ = false;
  std::optional<uint64_t> cancel_after_;
  uint64_t polls_ = 0;
  bool keep_ = false;
  std::filesystem::path root_;
  std::string root_text_;
  std::map<std::string, std::string> dirs_;
};

// Runs a C++ SDK component class through its generated descriptor and vtable.
template <typename C>
class ComponentRunner : public Runner {
 public:
  explicit ComponentRunner(Json params = Json::object(), uint64_t seed = 0)
      : Runner(::mien::detail::Adapter<C>::descriptor(), std::move(params), seed) {}
  // Lets `ComponentRunner<C> r({{"name", value}})` pick the parameters, not the
  // (deleted) copy constructor: without it a one-pair list is ambiguous.
  ComponentRunner(Json::initializer_list_t params, uint64_t seed = 0) : ComponentRunner(Json(params), seed) {}
};


// A trained model opened through its component's model vtable, as the host does after
// reading the artifact folder: ref() is the mien_model_ref an explainer would receive.
// A fake host context records the error message of failed calls.
class HostedModel {
 public:
  HostedModel(const mien_component_desc* desc, const std::string& dir, uint32_t threads = 1) : desc_(desc) {
    api_.struct_size = sizeof(mien_host_api);
    api_.abi_major = MIEN_ABI_VERSION_MAJOR;
    api_.abi_minor = MIEN_ABI_VERSION_MINOR;
    api_.log = [](mien_call_ctx*, mien_log_level, const char*) {};
    api_.set_error = [](mien_call_ctx* c, const char* m) { reinterpret_cast<HostedModel*>(c)->error_ = m ? m : ""; };
    api_.report_progress = [](mien_call_ctx*, uint64_t, uint64_t, const char*) {};
    api_.is_cancelled = [](mien_call_ctx*) { return 0; };
    api_.output_dir = [](mien_call_ctx*, const char*) -> const char* { return nullptr; };
    api_.run_dir = [](mien_call_ctx*) -> const char* { return nullptr; };
    const mien_model_vtable* vt = desc->model;
    if (vt == nullptr) throw std::runtime_error("the component has no model vtable");
    status_ = vt->open(&api_, ctx(), dir.c_str(), threads, &handle_);
    if (status_ != MIEN_OK) return;
    info_ = vt->info_json(handle_);
    ref_.struct_size = sizeof(mien_model_ref);
    ref_.capabilities = vt->capabilities;
    ref_.info_json = info_.c_str();
    ref_.opaque = this;
    ref_.predict = [](const mien_model_ref* self, mien_call_ctx* c, const mien_tensor* in, mien_tensor** out) {
      auto* m = static_cast<HostedModel*>(self->opaque);
      return m->desc_->model->predict(m->handle_, c, in, out);
    };
    ref_.input_gradient = [](const mien_model_ref* self, mien_call_ctx* c, const mien_tensor* in,
                             const int64_t* classes, mien_tensor** g, mien_tensor** s) {
      auto* m = static_cast<HostedModel*>(self->opaque);
      return m->desc_->model->input_gradient(m->handle_, c, in, classes, g, s);
    };
    ref_.layer_gradient = [](const mien_model_ref* self, mien_call_ctx* c, const char* layer, const mien_tensor* in,
                             const int64_t* classes, mien_tensor** a, mien_tensor** g, mien_tensor** s) {
      auto* m = static_cast<HostedModel*>(self->opaque);
      return m->desc_->model->layer_gradient(m->handle_, c, layer, in, classes, a, g, s);
    };
  }
  ~HostedModel() {
    if (handle_ != nullptr) desc_->model->close(handle_);
  }
  HostedModel(const HostedModel&) = delete;
  HostedModel& operator=(const HostedModel&) = delete;

  mien_status status() const { return status_; }
  const std::string& error() const { return error_; }
  const mien_model_ref* ref() const { return &ref_; }
  mien::Json info() const { return mien::Json::parse(info_); }
  // Calls with this object's own context (its error() records failures).
  mien::ModelRef model() { return mien::ModelRef(&ref_, ctx()); }

  std::vector<float> predict(const std::vector<float>& x, int64_t rows, int64_t cols) {
    mien::Tensor in = mien::Tensor::from<float>({rows, cols}, x);
    mien::Tensor out = model().predict(in);
    return out.view().to_vector<float>();
  }

 private:
  mien_call_ctx* ctx() { return reinterpret_cast<mien_call_ctx*>(this); }
  const mien_component_desc* desc_;
  mien_host_api api_{};
  mien_model_handle* handle_ = nullptr;
  mien_status status_ = MIEN_ERR_INTERNAL;
  std::string info_, error_;
  mien_model_ref ref_{};
};

}  // namespace testing
}  // namespace mien
