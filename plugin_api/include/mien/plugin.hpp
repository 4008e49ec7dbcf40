// mien C++ SDK: a header-only layer over the C ABI in plugin_abi.h.
//
// A component is a small class:
//
//   class Scale {
//    public:
//     static inline const mien::Param<double> kFactor{"factor", 2.0, "Multiply every value by this"};
//     static inline const mien::Input kIn{"values", MIEN_VALUE_TENSOR, "float tensor"};
//     static inline const mien::Output kOut{"scaled", MIEN_VALUE_TENSOR, "same shape"};
//     static mien::ComponentInfo info() {
//       return mien::ComponentInfo("example.scale", 1, MIEN_KIND_TRANSFORM, "Multiplies a tensor")
//           .params(kFactor).ports(kIn, kOut);
//     }
//     explicit Scale(const mien::Setup& s) : factor_(kFactor.read(s.params())) {}
//     void process(mien::Context& ctx) { ... ctx.set(kOut, std::move(tensor)); }
//    private:
//     double factor_;
//   };
//   MIEN_PLUGIN("example", "1.0.0", "MIT", Scale)
//
// Every boundary call is noexcept and catches everything: a mien::Error carries its
// status, any other exception becomes MIEN_ERR_INTERNAL with its what() as the message.
#pragma once

#include <mien/plugin_abi.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace mien {

using Json = nlohmann::json;

// ------------------------------------------------------------------------------------
// Errors
// ------------------------------------------------------------------------------------
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message, mien_status status = MIEN_ERR_INVALID_ARGUMENT)
      : std::runtime_error(message), status_(status) {}
  mien_status status() const { return status_; }

 private:
  mien_status status_;
};

class Cancelled : public Error {
 public:
  Cancelled() : Error("cancelled", MIEN_ERR_CANCELLED) {}
};

// ------------------------------------------------------------------------------------
// Parameters: declared once; the JSON Schema and the typed read come from the same object.
// ------------------------------------------------------------------------------------
namespace detail {
template <typename T>
struct JsonType;
template <> struct JsonType<bool> { static constexpr const char* name = "boolean"; };
template <> struct JsonType<int> { static constexpr const char* name = "integer"; };
template <> struct JsonType<int64_t> { static constexpr const char* name = "integer"; };
template <> struct JsonType<uint64_t> { static constexpr const char* name = "integer"; };
template <> struct JsonType<double> { static constexpr const char* name = "number"; };
template <> struct JsonType<std::string> { static constexpr const char* name = "string"; };
template <> struct JsonType<std::vector<int>> { static constexpr const char* name = "array"; static constexpr const char* item = "integer"; };
template <> struct JsonType<std::vector<int64_t>> { static constexpr const char* name = "array"; static constexpr const char* item = "integer"; };
template <> struct JsonType<std::vector<double>> { static constexpr const char* name = "array"; static constexpr const char* item = "number"; };
template <> struct JsonType<std::vector<std::string>> { static constexpr const char* name = "array"; static constexpr const char* item = "string"; };
template <> struct JsonType<Json> { static constexpr const char* name = nullptr; };
}  // namespace detail

class Params;

// Type-erased view of a parameter declaration, used to build the schema.
class ParamBase {
 public:
  virtual ~ParamBase() = default;
  virtual const std::string& name() const = 0;
  virtual Json schema() const = 0;
  virtual bool required() const = 0;
};

template <typename T>
class Param : public ParamBase {
 public:
  // A parameter with a default.
  Param(std::string name, T default_value, std::string description)
      : name_(std::move(name)), default_(std::move(default_value)), description_(std::move(description)) {}
  // A required parameter (no default).
  Param(std::string name, std::string description) : name_(std::move(name)), description_(std::move(description)) {}

  Param& min(double v) { minimum_ = v; return *this; }
  Param& max(double v) { maximum_ = v; return *this; }
  Param& range(double lo, double hi) { minimum_ = lo; maximum_ = hi; return *this; }
  Param& one_of(std::vector<T> values) { enum_ = std::move(values); return *this; }
  Param& nullable() { nullable_ = true; return *this; }
  // For Json-typed params: the full schema fragment.
  Param& json_schema(Json s) { custom_schema_ = std::move(s); return *this; }

  const std::string& name() const override { return name_; }
  bool required() const override { return !default_.has_value() && !nullable_; }

  Json schema() const override {
    Json s = custom_schema_.is_null() ? Json::object() : custom_schema_;
    if constexpr (detail::JsonType<T>::name != nullptr) {
      if (nullable_) {
        s["type"] = Json::array({detail::JsonType<T>::name, "null"});
      } else {
        s["type"] = detail::JsonType<T>::name;
      }
      if constexpr (std::string_view(detail::JsonType<T>::name) == "array") {
        s["items"] = Json{{"type", detail::JsonType<T>::item}};
      }
    }
    s["description"] = description_;
    if (default_) s["default"] = Json(*default_);
    else if (nullable_) s["default"] = nullptr;
    if (minimum_) s["minimum"] = *minimum_;
    if (maximum_) s["maximum"] = *maximum_;
    if (!enum_.empty()) s["enum"] = Json(enum_);
    return s;
  }

  // Typed read from the validated parameters (the host filled in every default).
  T read(const Params& p) const;
  // For nullable params: empty when the value is null.
  std::optional<T> read_optional(const Params& p) const;

 private:
  std::string name_;
  std::optional<T> default_;
  std::string description_;
  std::optional<double> minimum_, maximum_;
  std::vector<T> enum_;
  bool nullable_ = false;
  Json custom_schema_;
};

class Params {
 public:
  Params() : json_(Json::object()) {}
  explicit Params(Json j) : json_(std::move(j)) {}
  static Params parse(const char* text) {
    if (text == nullptr || *text == 0) return Params();
    try {
      return Params(Json::parse(text));
    } catch (const std::exception& e) {
      throw Error(std::string("parameters are not valid JSON: ") + e.what());
    }
  }
  const Json& json() const { return json_; }
  bool has(const std::string& name) const { return json_.contains(name) && !json_.at(name).is_null(); }

 private:
  Json json_;
};

template <typename T>
T Param<T>::read(const Params& p) const {
  if (!p.json().contains(name_) || p.json().at(name_).is_null()) {
    if (default_) return *default_;
    throw Error("parameter '" + name_ + "' is required");
  }
  try {
    return p.json().at(name_).template get<T>();
  } catch (const std::exception& e) {
    throw Error("parameter '" + name_ + "' has the wrong type: " + e.what());
  }
}

template <typename T>
std::optional<T> Param<T>::read_optional(const Params& p) const {
  if (!p.has(name_)) return default_;
  return read(p);
}

// ------------------------------------------------------------------------------------
// Ports
// ------------------------------------------------------------------------------------
struct PortDecl {
  std::string name;
  mien_port_dir dir;
  mien_value_kind kind;
  uint32_t flags;
  uint64_t requires_caps;
  std::string doc;
};

class Input : public PortDecl {
 public:
  Input(std::string name, mien_value_kind kind, std::string doc, uint32_t flags = 0, uint64_t requires_caps = 0)
      : PortDecl{std::move(name), MIEN_PORT_IN, kind, flags, requires_caps, std::move(doc)} {}
};

class Output : public PortDecl {
 public:
  Output(std::string name, mien_value_kind kind, std::string doc)
      : PortDecl{std::move(name), MIEN_PORT_OUT, kind, 0, 0, std::move(doc)} {}
};

// ------------------------------------------------------------------------------------
// Component description (built once, kept in static storage by the entry macro).
// ------------------------------------------------------------------------------------
class ComponentInfo {
 public:
  ComponentInfo(std::string type_id, uint32_t version, mien_component_kind kind, std::string summary)
      : type_id_(std::move(type_id)), version_(version), kind_(kind), summary_(std::move(summary)) {}

  template <typename... Ps>
  ComponentInfo& params(const Ps&... ps) {
    (params_.push_back(&ps), ...);
    return *this;
  }
  template <typename... Ps>
  ComponentInfo& ports(const Ps&... ps) {
    (ports_.push_back(ps), ...);
    return *this;
  }
  ComponentInfo& flags(uint64_t f) { flags_ |= f; return *this; }
  ComponentInfo& model_capabilities(uint64_t caps) { model_caps_ = caps; return *this; }

  Json schema() const {
    Json props = Json::object();
    Json required = Json::array();
    for (const ParamBase* p : params_) {
      props[p->name()] = p->schema();
      if (p->required()) required.push_back(p->name());
    }
    Json s = {{"$schema", "https://json-schema.org/draft/2020-12/schema"},
              {"title", type_id_},
              {"type", "object"},
              {"properties", props},
              {"additionalProperties", false}};
    if (!required.empty()) s["required"] = required;
    return s;
  }

  const std::string& type_id() const { return type_id_; }
  uint32_t version() const { return version_; }
  mien_component_kind kind() const { return kind_; }
  const std::string& summary() const { return summary_; }
  const std::vector<PortDecl>& port_list() const { return ports_; }
  uint64_t flag_bits() const { return flags_; }
  uint64_t model_caps() const { return model_caps_; }

 private:
  std::string type_id_;
  uint32_t version_;
  mien_component_kind kind_;
  std::string summary_;
  std::vector<const ParamBase*> params_;
  std::vector<PortDecl> ports_;
  uint64_t flags_ = 0;
  uint64_t model_caps_ = 0;
};

// ------------------------------------------------------------------------------------
// Tensors
// ------------------------------------------------------------------------------------
template <typename T> struct DtypeOf;
template <> struct DtypeOf<float> { static constexpr mien_dtype value = MIEN_DTYPE_F32; };
template <> struct DtypeOf<double> { static constexpr mien_dtype value = MIEN_DTYPE_F64; };
template <> struct DtypeOf<int32_t> { static constexpr mien_dtype value = MIEN_DTYPE_I32; };
template <> struct DtypeOf<int64_t> { static constexpr mien_dtype value = MIEN_DTYPE_I64; };
template <> struct DtypeOf<uint8_t> { static constexpr mien_dtype value = MIEN_DTYPE_U8; };

inline size_t dtype_size(mien_dtype d) {
  switch (d) {
    case MIEN_DTYPE_F32: case MIEN_DTYPE_I32: return 4;
    case MIEN_DTYPE_F64: case MIEN_DTYPE_I64: return 8;
    case MIEN_DTYPE_U8: return 1;
    default: return 0;
  }
}

inline const char* dtype_name(mien_dtype d) {
  switch (d) {
    case MIEN_DTYPE_F32: return "float32";
    case MIEN_DTYPE_F64: return "float64";
    case MIEN_DTYPE_I32: return "int32";
    case MIEN_DTYPE_I64: return "int64";
    case MIEN_DTYPE_U8: return "uint8";
    case MIEN_DTYPE_STRING: return "string";
    default: return "unspecified";
  }
}

// A borrowed, read-only view of a tensor the host passed in.
class TensorView {
 public:
  TensorView() = default;
  explicit TensorView(const mien_tensor* t) : t_(t) {}
  bool valid() const { return t_ != nullptr; }
  const mien_tensor* raw() const { return t_; }
  mien_dtype dtype() const { return t_->dtype; }
  int ndim() const { return t_->ndim; }
  int64_t dim(int i) const { return t_->shape[i]; }
  std::vector<int64_t> shape() const { return std::vector<int64_t>(t_->shape, t_->shape + t_->ndim); }
  int64_t numel() const {
    int64_t n = 1;
    for (int i = 0; i < t_->ndim; ++i) n *= t_->shape[i];
    return n;
  }
  bool contiguous() const {
    if (t_->strides == nullptr) return true;
    int64_t expect = 1;
    for (int i = t_->ndim - 1; i >= 0; --i) {
      if (t_->shape[i] != 1 && t_->strides[i] != expect) return false;
      expect *= t_->shape[i];
    }
    return true;
  }
  // Element at a flat (row-major logical) index, converted to double; honours strides.
  double at(int64_t flat) const {
    int64_t offset = 0;
    if (t_->strides == nullptr) {
      offset = flat;
    } else {
      for (int i = t_->ndim - 1; i >= 0; --i) {
        offset += (flat % t_->shape[i]) * t_->strides[i];
        flat /= t_->shape[i];
      }
    }
    switch (t_->dtype) {
      case MIEN_DTYPE_F32: return static_cast<const float*>(t_->data)[offset];
      case MIEN_DTYPE_F64: return static_cast<const double*>(t_->data)[offset];
      case MIEN_DTYPE_I32: return static_cast<const int32_t*>(t_->data)[offset];
      case MIEN_DTYPE_I64: return static_cast<double>(static_cast<const int64_t*>(t_->data)[offset]);
      case MIEN_DTYPE_U8: return static_cast<const uint8_t*>(t_->data)[offset];
      default: throw Error("tensor has an unsupported dtype");
    }
  }
  // A contiguous copy converted to T.
  template <typename T>
  std::vector<T> to_vector() const {
    const int64_t n = numel();
    std::vector<T> out(static_cast<size_t>(n));
    if (contiguous() && t_->dtype == DtypeOf<T>::value) {
      std::memcpy(out.data(), t_->data, static_cast<size_t>(n) * sizeof(T));
    } else {
      for (int64_t i = 0; i < n; ++i) out[static_cast<size_t>(i)] = static_cast<T>(at(i));
    }
    return out;
  }
  // Direct pointer when the tensor is contiguous and of type T, else nullptr.
  template <typename T>
  const T* data_if() const {
    return (contiguous() && t_->dtype == DtypeOf<T>::value) ? static_cast<const T*>(t_->data) : nullptr;
  }

 private:
  const mien_tensor* t_ = nullptr;
};

// An owned tensor the plugin builds and hands to the host (or receives from a model).
class Tensor {
 public:
  Tensor() = default;
  template <typename T>
  static Tensor zeros(std::vector<int64_t> shape) {
    Tensor t;
    t.init(DtypeOf<T>::value, std::move(shape));
    return t;
  }
  template <typename T>
  static Tensor from(std::vector<int64_t> shape, const std::vector<T>& values) {
    Tensor t = zeros<T>(std::move(shape));
    if (static_cast<int64_t>(values.size()) != t.numel()) throw Error("tensor size does not match its shape", MIEN_ERR_INTERNAL);
    if (!values.empty()) std::memcpy(t.data<T>(), values.data(), values.size() * sizeof(T));
    return t;
  }
  // Take ownership of a tensor produced elsewhere (e.g. by a model reference).
  static Tensor adopt(mien_tensor* raw) {
    Tensor t;
    t.adopted_.reset(raw);
    return t;
  }

  mien_dtype dtype() const { return adopted_ ? adopted_->dtype : holder_ ? holder_->tensor.dtype : MIEN_DTYPE_UNSPECIFIED; }
  const mien_tensor* raw() const { return adopted_ ? adopted_.get() : holder_ ? &holder_->tensor : nullptr; }
  TensorView view() const { return TensorView(raw()); }
  std::vector<int64_t> shape() const { return view().shape(); }
  int64_t numel() const { return view().numel(); }
  template <typename T>
  T* data() {
    mien_tensor* t = adopted_ ? adopted_.get() : &holder_->tensor;
    if (t->dtype != DtypeOf<T>::value) throw Error("tensor dtype mismatch", MIEN_ERR_INTERNAL);
    return static_cast<T*>(t->data);
  }
  template <typename T>
  const T* data() const {
    return const_cast<Tensor*>(this)->data<T>();
  }
  // Hand the tensor to the host: the host calls the deleter.
  mien_tensor* release() {
    if (adopted_) return adopted_.release();
    Holder* h = holder_.release();
    return h ? &h->tensor : nullptr;
  }

 private:
  struct Holder {
    mien_tensor tensor{};
    std::vector<int64_t> shape;
    std::vector<unsigned char> bytes;
  };
  struct AdoptedDeleter {
    void operator()(mien_tensor* t) const {
      if (t && t->deleter) t->deleter(t);
    }
  };
  void init(mien_dtype dtype, std::vector<int64_t> shape) {
    holder_ = std::make_unique<Holder>();
    holder_->shape = std::move(shape);
    int64_t n = 1;
    for (int64_t d : holder_->shape) n *= d;
    holder_->bytes.assign(static_cast<size_t>(n) * dtype_size(dtype), 0);
    mien_tensor& t = holder_->tensor;
    t.struct_size = sizeof(mien_tensor);
    t.dtype = dtype;
    t.ndim = static_cast<int32_t>(holder_->shape.size());
    t.shape = holder_->shape.data();
    t.strides = nullptr;
    t.data = holder_->bytes.data();
    t.flags = 0;
    t.manager_ctx = holder_.get();
    t.deleter = [](mien_tensor* self) { delete static_cast<Holder*>(self->manager_ctx); };
  }
  std::unique_ptr<Holder> holder_;
  std::unique_ptr<mien_tensor, AdoptedDeleter> adopted_;
};

// ------------------------------------------------------------------------------------
// Tables
// ------------------------------------------------------------------------------------
class ColumnView {
 public:
  ColumnView(const mien_column* c, int64_t rows) : c_(c), rows_(rows) {}
  const char* name() const { return c_->name; }
  mien_column_role role() const { return c_->role; }
  mien_dtype dtype() const { return c_->dtype; }
  bool is_string() const { return c_->dtype == MIEN_DTYPE_STRING; }
  double number(int64_t i) const {
    switch (c_->dtype) {
      case MIEN_DTYPE_F64: return static_cast<const double*>(c_->data)[i];
      case MIEN_DTYPE_F32: return static_cast<const float*>(c_->data)[i];
      case MIEN_DTYPE_I64: return static_cast<double>(static_cast<const int64_t*>(c_->data)[i]);
      case MIEN_DTYPE_I32: return static_cast<const int32_t*>(c_->data)[i];
      default: throw Error(std::string("column '") + c_->name + "' is not numeric");
    }
  }
  int64_t code(int64_t i) const {
    switch (c_->dtype) {
      case MIEN_DTYPE_I64: return static_cast<const int64_t*>(c_->data)[i];
      case MIEN_DTYPE_I32: return static_cast<const int32_t*>(c_->data)[i];
      default: return static_cast<int64_t>(number(i));
    }
  }
  // Text of a cell: the string, the category name of a coded column, or the number.
  std::string text(int64_t i) const {
    if (is_string()) {
      const char* s = static_cast<const char* const*>(c_->data)[i];
      return s ? s : "";
    }
    if (c_->num_categories > 0) {
      const int64_t k = code(i);
      if (k >= 0 && k < static_cast<int64_t>(c_->num_categories)) return c_->categories[k];
      return "";
    }
    std::ostringstream os;
    os << number(i);
    return os.str();
  }
  std::vector<std::string> categories() const {
    std::vector<std::string> out;
    for (uint32_t k = 0; k < c_->num_categories; ++k) out.emplace_back(c_->categories[k]);
    return out;
  }
  std::vector<double> numbers() const {
    std::vector<double> out(static_cast<size_t>(rows_));
    for (int64_t i = 0; i < rows_; ++i) out[static_cast<size_t>(i)] = number(i);
    return out;
  }
  std::vector<int64_t> codes() const {
    std::vector<int64_t> out(static_cast<size_t>(rows_));
    for (int64_t i = 0; i < rows_; ++i) out[static_cast<size_t>(i)] = code(i);
    return out;
  }
  std::vector<std::string> texts() const {
    std::vector<std::string> out(static_cast<size_t>(rows_));
    for (int64_t i = 0; i < rows_; ++i) out[static_cast<size_t>(i)] = text(i);
    return out;
  }
  const mien_column* raw() const { return c_; }

 private:
  const mien_column* c_;
  int64_t rows_;
};

class TableView {
 public:
  TableView() = default;
  explicit TableView(const mien_table* t) : t_(t) {}
  bool valid() const { return t_ != nullptr; }
  const mien_table* raw() const { return t_; }
  int64_t num_rows() const { return t_->num_rows; }
  uint32_t num_columns() const { return t_->num_columns; }
  ColumnView column(uint32_t i) const { return ColumnView(&t_->columns[i], t_->num_rows); }
  // The first column called `name`. Wide tables (a 100,000-column CSV) get a name index on
  // the first lookup, so finding every column is linear, not quadratic, in the width.
  std::optional<ColumnView> find(const std::string& name) const {
    if (t_->num_columns < kIndexFrom) {
      for (uint32_t i = 0; i < t_->num_columns; ++i)
        if (name == t_->columns[i].name) return column(i);
      return std::nullopt;
    }
    std::shared_ptr<const NameIndex> index = std::atomic_load(&index_);
    if (!index) {  // two threads may both build it; either copy is right
      auto built = std::make_shared<NameIndex>();
      built->reserve(t_->num_columns);
      for (uint32_t i = 0; i < t_->num_columns; ++i) built->emplace(t_->columns[i].name, i);  // first wins
      index = built;
      std::atomic_store(&index_, index);
    }
    const auto it = index->find(name);
    if (it == index->end()) return std::nullopt;
    return column(it->second);
  }
  ColumnView get(const std::string& name) const {
    auto c = find(name);
    if (!c) throw Error("the table has no column '" + name + "'");
    return *c;
  }
  std::vector<ColumnView> with_role(mien_column_role role) const {
    std::vector<ColumnView> out;
    for (uint32_t i = 0; i < t_->num_columns; ++i)
      if (t_->columns[i].role == role) out.push_back(column(i));
    return out;
  }
  std::vector<std::string> feature_names() const {
    std::vector<std::string> out;
    for (const auto& c : with_role(MIEN_ROLE_FEATURE)) out.emplace_back(c.name());
    return out;
  }
  // The FEATURE columns as a row-major [rows x features] matrix.
  template <typename T = double>
  std::vector<T> feature_matrix() const {
    const auto cols = with_role(MIEN_ROLE_FEATURE);
    const int64_t rows = num_rows();
    std::vector<T> out(static_cast<size_t>(rows) * cols.size());
    for (size_t j = 0; j < cols.size(); ++j)
      for (int64_t i = 0; i < rows; ++i) out[static_cast<size_t>(i) * cols.size() + j] = static_cast<T>(cols[j].number(i));
    return out;
  }
  std::optional<ColumnView> label() const {
    auto cols = with_role(MIEN_ROLE_LABEL);
    if (cols.empty()) return std::nullopt;
    return cols.front();
  }
  Json meta() const {
    if (t_->meta_json == nullptr || *t_->meta_json == 0) return Json::object();
    return Json::parse(t_->meta_json);
  }

 private:
  using NameIndex = std::unordered_map<std::string_view, uint32_t>;
  static constexpr uint32_t kIndexFrom = 64;  // below this a scan is as fast
  const mien_table* t_ = nullptr;
  mutable std::shared_ptr<const NameIndex> index_;  // names point into the table's own strings
};

// Builds a table to hand to the host.
class Table {
 public:
  explicit Table(int64_t rows) : holder_(std::make_unique<Holder>()) { holder_->rows = rows; }

  Table& add_numbers(const std::string& name, mien_column_role role, std::vector<double> values) {
    check(name, values.size());
    Col c;
    c.name = name; c.role = role; c.dtype = MIEN_DTYPE_F64; c.f64 = std::move(values);
    holder_->cols.push_back(std::move(c));
    return *this;
  }
  Table& add_codes(const std::string& name, mien_column_role role, std::vector<int64_t> codes,
                   std::vector<std::string> categories = {}) {
    check(name, codes.size());
    Col c;
    c.name = name; c.role = role; c.dtype = MIEN_DTYPE_I64; c.i64 = std::move(codes);
    c.categories = std::move(categories);
    holder_->cols.push_back(std::move(c));
    return *this;
  }
  Table& add_strings(const std::string& name, mien_column_role role, std::vector<std::string> values) {
    check(name, values.size());
    Col c;
    c.name = name; c.role = role; c.dtype = MIEN_DTYPE_STRING; c.str = std::move(values);
    holder_->cols.push_back(std::move(c));
    return *this;
  }
  // Copy a column of another table, optionally only the given rows.
  Table& add_copy(const ColumnView& src, const std::vector<int64_t>* rows = nullptr) {
    const int64_t n = rows ? static_cast<int64_t>(rows->size()) : holder_->rows;
    auto row = [&](int64_t i) { return rows ? (*rows)[static_cast<size_t>(i)] : i; };
    if (src.is_string()) {
      std::vector<std::string> v(static_cast<size_t>(n));
      for (int64_t i = 0; i < n; ++i) v[static_cast<size_t>(i)] = src.text(row(i));
      return add_strings(src.name(), src.role(), std::move(v));
    }
    if (src.dtype() == MIEN_DTYPE_I64 || src.dtype() == MIEN_DTYPE_I32) {
      std::vector<int64_t> v(static_cast<size_t>(n));
      for (int64_t i = 0; i < n; ++i) v[static_cast<size_t>(i)] = src.code(row(i));
      return add_codes(src.name(), src.role(), std::move(v), src.categories());
    }
    std::vector<double> v(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) v[static_cast<size_t>(i)] = src.number(row(i));
    return add_numbers(src.name(), src.role(), std::move(v));
  }
  Table& meta(Json m) { holder_->meta = m.dump(); return *this; }
  int64_t num_rows() const { return holder_->rows; }

  // Hand the table to the host: the host calls the deleter.
  mien_table* release() {
    Holder* h = holder_.release();
    h->columns.resize(h->cols.size());
    for (size_t i = 0; i < h->cols.size(); ++i) {
      Col& c = h->cols[i];
      mien_column& m = h->columns[i];
      m = mien_column{};
      m.struct_size = sizeof(mien_column);
      m.name = c.name.c_str();
      m.role = c.role;
      m.dtype = c.dtype;
      if (c.dtype == MIEN_DTYPE_F64) m.data = c.f64.data();
      if (c.dtype == MIEN_DTYPE_I64) m.data = c.i64.data();
      if (c.dtype == MIEN_DTYPE_STRING) {
        c.ptrs.resize(c.str.size());
        for (size_t r = 0; r < c.str.size(); ++r) c.ptrs[r] = c.str[r].c_str();
        m.data = c.ptrs.data();
      }
      for (const auto& s : c.categories) c.cat_ptrs.push_back(s.c_str());
      m.categories = c.cat_ptrs.empty() ? nullptr : c.cat_ptrs.data();
      m.num_categories = static_cast<uint32_t>(c.cat_ptrs.size());
    }
    h->table = mien_table{};
    h->table.struct_size = sizeof(mien_table);
    h->table.num_rows = h->rows;
    h->table.num_columns = static_cast<uint32_t>(h->columns.size());
    h->table.columns = h->columns.data();
    h->table.meta_json = h->meta.empty() ? nullptr : h->meta.c_str();
    h->table.manager_ctx = h;
    h->table.deleter = [](mien_table* self) { delete static_cast<Holder*>(self->manager_ctx); };
    return &h->table;
  }

 private:
  struct Col {
    std::string name;
    mien_column_role role = MIEN_ROLE_UNSPECIFIED;
    mien_dtype dtype = MIEN_DTYPE_UNSPECIFIED;
    std::vector<double> f64;
    std::vector<int64_t> i64;
    std::vector<std::string> str;
    std::vector<const char*> ptrs;
    std::vector<std::string> categories;
    std::vector<const char*> cat_ptrs;
  };
  struct Holder {
    int64_t rows = 0;
    std::vector<Col> cols;
    std::unordered_set<std::string> names;  // of cols
    std::vector<mien_column> columns;
    std::string meta;
    mien_table table{};
  };
  // Called before each column is added: rows match, name not taken (a set, so adding the
  // columns of a very wide table stays linear).
  void check(const std::string& name, size_t n) const {
    if (static_cast<int64_t>(n) != holder_->rows)
      throw Error("column '" + name + "' has " + std::to_string(n) + " rows, the table " + std::to_string(holder_->rows),
                  MIEN_ERR_INTERNAL);
    if (!holder_->names.insert(name).second) throw Error("duplicate column '" + name + "'", MIEN_ERR_INTERNAL);
  }
  std::unique_ptr<Holder> holder_;
};

// ------------------------------------------------------------------------------------
// Host services
// ------------------------------------------------------------------------------------
class Host {
 public:
  Host(const mien_host_api* api, mien_call_ctx* ctx) : api_(api), ctx_(ctx) {}
  void log(mien_log_level level, const std::string& msg) const {
    if (api_ && api_->log) api_->log(ctx_, level, msg.c_str());
  }
  void info(const std::string& msg) const { log(MIEN_LOG_INFO, msg); }
  void warn(const std::string& msg) const { log(MIEN_LOG_WARNING, msg); }
  void debug(const std::string& msg) const { log(MIEN_LOG_DEBUG, msg); }
  void progress(uint64_t done, uint64_t total, const char* note = nullptr) const {
    if (api_ && api_->report_progress) api_->report_progress(ctx_, done, total, note);
  }
  bool cancelled() const { return api_ && api_->is_cancelled && api_->is_cancelled(ctx_) != 0; }
  // Throws mien::Cancelled when the user asked to stop.
  void check_cancelled() const {
    if (cancelled()) throw Cancelled();
  }
  std::string output_dir(const char* port = nullptr) const {
    if (!api_ || !api_->output_dir) throw Error("the host offers no output folder", MIEN_ERR_INTERNAL);
    const char* d = api_->output_dir(ctx_, port);
    if (!d) throw Error("the host gave no output folder", MIEN_ERR_INTERNAL);
    return d;
  }
  std::string run_dir() const {
    const char* d = (api_ && api_->run_dir) ? api_->run_dir(ctx_) : nullptr;
    return d ? d : "";
  }
  const mien_host_api* api() const { return api_; }
  mien_call_ctx* ctx() const { return ctx_; }

 private:
  const mien_host_api* api_;
  mien_call_ctx* ctx_;
};

// What a component's constructor receives.
class Setup {
 public:
  Setup(const mien_host_api* api, mien_call_ctx* ctx, const mien_create_info* info)
      : host_(api, ctx), params_(Params::parse(info->params_json)), info_(info) {}
  const Params& params() const { return params_; }
  uint64_t seed() const { return info_->seed; }
  uint32_t num_threads() const { return info_->num_threads == 0 ? 1 : info_->num_threads; }
  std::string node_name() const { return info_->node_name ? info_->node_name : ""; }
  std::string base_dir() const { return info_->base_dir ? info_->base_dir : ""; }
  // A path from the parameters, resolved against the experiment file's folder.
  std::string resolve_path(const std::string& p) const {
    if (p.empty() || p[0] == '/' || base_dir().empty()) return p;
    return base_dir() + "/" + p;
  }
  const Host& host() const { return host_; }

 private:
  Host host_;
  Params params_;
  const mien_create_info* info_;
};

// ------------------------------------------------------------------------------------
// Model references, as explainers and metrics see them.
// ------------------------------------------------------------------------------------
class ModelRef {
 public:
  ModelRef() = default;
  ModelRef(const mien_model_ref* ref, mien_call_ctx* ctx) : ref_(ref), ctx_(ctx) {}
  bool valid() const { return ref_ != nullptr; }
  uint64_t capabilities() const { return ref_->capabilities; }
  bool can(uint64_t cap) const { return (ref_->capabilities & cap) == cap; }
  Json info() const { return ref_->info_json ? Json::parse(ref_->info_json) : Json::object(); }

  Tensor predict(const mien_tensor* input) const {
    mien_tensor* out = nullptr;
    check(ref_->predict ? ref_->predict(ref_, ctx_, input, &out) : MIEN_ERR_UNSUPPORTED, "predict");
    return Tensor::adopt(out);
  }
  Tensor predict(const Tensor& input) const { return predict(input.raw()); }

  // Gradient of each row's class score with respect to that row.
  std::pair<Tensor, Tensor> input_gradient(const Tensor& input, const std::vector<int64_t>& classes) const {
    mien_tensor* g = nullptr;
    mien_tensor* s = nullptr;
    check(ref_->input_gradient ? ref_->input_gradient(ref_, ctx_, input.raw(), classes.data(), &g, &s)
                               : MIEN_ERR_UNSUPPORTED,
          "input_gradient");
    return {Tensor::adopt(g), s ? Tensor::adopt(s) : Tensor()};
  }

  struct LayerResult {
    Tensor activations, gradients, scores;
  };
  LayerResult layer_gradient(const std::string& layer, const Tensor& input, const std::vector<int64_t>& classes) const {
    mien_tensor *a = nullptr, *g = nullptr, *s = nullptr;
    check(ref_->layer_gradient
              ? ref_->layer_gradient(ref_, ctx_, layer.c_str(), input.raw(), classes.data(), &a, &g, &s)
              : MIEN_ERR_UNSUPPORTED,
          "layer_gradient");
    return {Tensor::adopt(a), Tensor::adopt(g), s ? Tensor::adopt(s) : Tensor()};
  }
  const mien_model_ref* raw() const { return ref_; }

 private:
  // The model already reported the detail through the shared call context.
  static void check(mien_status st, const char* what) {
    if (st == MIEN_ERR_CANCELLED) throw Cancelled();
    if (st != MIEN_OK) throw Error(std::string("the model's ") + what + " failed", st);
  }
  const mien_model_ref* ref_ = nullptr;
  mien_call_ctx* ctx_ = nullptr;
};

// ------------------------------------------------------------------------------------
// The per-call context a component's process() receives.
// ------------------------------------------------------------------------------------
class Context {
 public:
  // `text_store` keeps the text of STRING/JSON outputs alive after the Context is gone
  // (the host copies it after process() returns, before destroy(): ABI rule 5); the adapter
  // passes the instance's.
  Context(const mien_host_api* api, mien_call_ctx* ctx, const ComponentInfo& info, const mien_input* inputs,
          uint32_t num_inputs, mien_value* outputs, uint32_t num_outputs,
          std::vector<std::unique_ptr<std::string>>* text_store = nullptr)
      : host_(api, ctx), info_(info), inputs_(inputs), num_inputs_(num_inputs), outputs_(outputs),
        num_outputs_(num_outputs), text_store_(text_store) {}

  const Host& host() const { return host_; }

  // Number of values connected to an input port (0 for an unconnected optional port).
  uint32_t count(const Input& port) const { return slot(port).count; }
  bool connected(const Input& port) const { return count(port) > 0; }

  TensorView tensor(const Input& port, uint32_t i = 0) const {
    const mien_value& v = value(port, i);
    if (v.kind != MIEN_VALUE_TENSOR && v.kind != MIEN_VALUE_IMAGE) throw Error("input '" + port.name + "' is not a tensor");
    return TensorView(v.tensor);
  }
  TableView table(const Input& port, uint32_t i = 0) const {
    const mien_value& v = value(port, i);
    if (v.kind != MIEN_VALUE_TABLE) throw Error("input '" + port.name + "' is not a table");
    return TableView(v.table);
  }
  std::string text(const Input& port, uint32_t i = 0) const {
    const mien_value& v = value(port, i);
    return v.text ? v.text : "";
  }
  Json json(const Input& port, uint32_t i = 0) const { return Json::parse(text(port, i)); }
  ModelRef model(const Input& port, uint32_t i = 0) const {
    const mien_value& v = value(port, i);
    if (v.kind != MIEN_VALUE_MODEL || v.model == nullptr) throw Error("input '" + port.name + "' is not a model");
    return ModelRef(v.model, host_.ctx());
  }
  const mien_value& value(const Input& port, uint32_t i = 0) const {
    const mien_input& in = slot(port);
    if (i >= in.count) throw Error("input '" + port.name + "' is not connected");
    return in.values[i];
  }

  void set(const Output& port, Tensor t, mien_pixel_format format = MIEN_PIXEL_UNSPECIFIED) {
    mien_value& v = out(port);
    v.tensor = t.release();
    v.pixel_format = format;
  }
  void set(const Output& port, Table t) { out(port).table = t.release(); }
  void set(const Output& port, const Json& j) { set_text(port, j.dump(2)); }
  void set_text(const Output& port, std::string s) {
    auto& store = text_store_ ? *text_store_ : strings_;
    store.push_back(std::make_unique<std::string>(std::move(s)));
    out(port).text = store.back()->c_str();
  }
  // A model port: write the artifact into output_dir(port) first, then call this.
  void set_model(const Output& port, const Json& description = Json::object()) {
    set_text(port, description.dump(2));
  }
  std::string output_dir(const Output& port) const { return host_.output_dir(port.name.c_str()); }

  // Frees every tensor and table this context put into an output slot and clears the
  // slots. The adapter calls it when process() fails (the host ignores the slots then).
  void discard_outputs() noexcept {
    for (uint32_t idx : set_slots_) free_slot(outputs_[idx]);
    set_slots_.clear();
  }

 private:
  static void free_slot(mien_value& v) noexcept {
    if (v.tensor && v.tensor->deleter) v.tensor->deleter(v.tensor);
    if (v.table && v.table->deleter) v.table->deleter(v.table);
    v = mien_value{};
  }
  const mien_input& slot(const Input& port) const {
    uint32_t idx = 0;
    for (const auto& p : info_.port_list()) {
      if (p.dir != MIEN_PORT_IN) continue;
      if (p.name == port.name) {
        if (idx >= num_inputs_) break;
        return inputs_[idx];
      }
      ++idx;
    }
    throw Error("no input port '" + port.name + "'", MIEN_ERR_INTERNAL);
  }
  mien_value& out(const Output& port) {
    uint32_t idx = 0;
    for (const auto& p : info_.port_list()) {
      if (p.dir != MIEN_PORT_OUT) continue;
      if (p.name == port.name) {
        if (idx >= num_outputs_) break;
        mien_value& v = outputs_[idx];
        // Setting a port twice replaces (and frees) the first value.
        if (std::find(set_slots_.begin(), set_slots_.end(), idx) != set_slots_.end()) free_slot(v);
        else set_slots_.push_back(idx);
        v.struct_size = sizeof(mien_value);
        v.kind = p.kind;
        return v;
      }
      ++idx;
    }
    throw Error("no output port '" + port.name + "'", MIEN_ERR_INTERNAL);
  }
  Host host_;
  const ComponentInfo& info_;
  const mien_input* inputs_;
  uint32_t num_inputs_;
  mien_value* outputs_;
  uint32_t num_outputs_;
  std::vector<std::unique_ptr<std::string>>* text_store_ = nullptr;
  std::vector<std::unique_ptr<std::string>> strings_;
  std::vector<uint32_t> set_slots_;
};

// ------------------------------------------------------------------------------------
// Models: a model component also offers `static std::unique_ptr<mien::Model> open(const mien::ModelSetup&)`.
// ------------------------------------------------------------------------------------
class ModelSetup {
 public:
  ModelSetup(const mien_host_api* api, mien_call_ctx* ctx, const char* dir, uint32_t threads)
      : host_(api, ctx), dir_(dir ? dir : ""), threads_(threads == 0 ? 1 : threads) {}
  const std::string& artifact_dir() const { return dir_; }
  uint32_t num_threads() const { return threads_; }
  const Host& host() const { return host_; }

 private:
  Host host_;
  std::string dir_;
  uint32_t threads_;
};

class Model {
 public:
  virtual ~Model() = default;
  virtual Json info() const = 0;
  virtual Tensor predict(const TensorView& input, const Host& host) = 0;
  virtual std::pair<Tensor, Tensor> input_gradient(const TensorView&, const std::vector<int64_t>&, const Host&) {
    throw Error("this model does not offer input gradients", MIEN_ERR_UNSUPPORTED);
  }
  virtual ModelRef::LayerResult layer_gradient(const std::string&, const TensorView&, const std::vector<int64_t>&,
                                               const Host&) {
    throw Error("this model does not offer layer gradients", MIEN_ERR_UNSUPPORTED);
  }
  std::string info_text;  // kept alive for info_json()
};

// ------------------------------------------------------------------------------------
// Adapters from a component class to the C vtables (internal).
// ------------------------------------------------------------------------------------
namespace detail {

inline void report(const mien_host_api* api, mien_call_ctx* ctx, const std::string& msg) {
  if (api && api->set_error) api->set_error(ctx, msg.c_str());
}

template <typename F>
mien_status guarded(const mien_host_api* api, mien_call_ctx* ctx, F&& f) noexcept {
  try {
    f();
    return MIEN_OK;
  } catch (const Error& e) {
    report(api, ctx, e.what());
    return e.status();
  } catch (const std::bad_alloc&) {
    report(api, ctx, "out of memory");
    return MIEN_ERR_OUT_OF_MEMORY;
  } catch (const std::exception& e) {
    report(api, ctx, e.what());
    return MIEN_ERR_INTERNAL;
  } catch (...) {
    report(api, ctx, "unknown exception");
    return MIEN_ERR_INTERNAL;
  }
}

template <typename C, typename = void>
struct HasOpen : std::false_type {};
template <typename C>
struct HasOpen<C, std::void_t<decltype(C::open(std::declval<const ModelSetup&>()))>> : std::true_type {};

template <typename C>
struct Adapter {
  static_assert(std::is_same_v<decltype(C::info()), ComponentInfo>,
                "mien: a component needs `static mien::ComponentInfo info();`");
  static_assert(std::is_constructible_v<C, const Setup&>,
                "mien: a component needs a constructor `explicit C(const mien::Setup&)`");

  struct Instance {
    const mien_host_api* api;
    std::unique_ptr<C> component;
    std::vector<std::unique_ptr<std::string>> texts{};  // text outputs of the last process()
  };
  struct ModelInstance {
    const mien_host_api* api;
    std::unique_ptr<Model> model;
  };

  static const ComponentInfo& info() {
    static const ComponentInfo i = C::info();
    return i;
  }

  static mien_status create(const mien_host_api* api, mien_call_ctx* ctx, const mien_create_info* ci,
                            mien_instance** out) noexcept {
    *out = nullptr;
    return guarded(api, ctx, [&] {
      Setup setup(api, ctx, ci);
      auto inst = std::make_unique<Instance>(Instance{api, std::make_unique<C>(setup)});
      *out = reinterpret_cast<mien_instance*>(inst.release());
    });
  }
  static void destroy(mien_instance* inst) noexcept {
    try {
      delete reinterpret_cast<Instance*>(inst);
    } catch (...) {
    }
  }
  static mien_status process(mien_instance* inst, mien_call_ctx* ctx, const mien_input* in, uint32_t n_in,
                             mien_value* out, uint32_t n_out) noexcept {
    auto* self = reinterpret_cast<Instance*>(inst);
    self->texts.clear();
    return guarded(self->api, ctx, [&] {
      Context c(self->api, ctx, info(), in, n_in, out, n_out, &self->texts);
      try {
        self->component->process(c);
      } catch (...) {
        c.discard_outputs();  // rule 5: on failure the plugin frees what it allocated
        throw;
      }
    });
  }

  // Model vtable.
  static mien_status open(const mien_host_api* api, mien_call_ctx* ctx, const char* dir, uint32_t threads,
                          mien_model_handle** out) noexcept {
    *out = nullptr;
    if constexpr (HasOpen<C>::value) {
      return guarded(api, ctx, [&] {
        ModelSetup setup(api, ctx, dir, threads);
        auto m = std::make_unique<ModelInstance>(ModelInstance{api, C::open(setup)});
        if (!m->model) throw Error("open() returned no model", MIEN_ERR_INTERNAL);
        m->model->info_text = m->model->info().dump();
        *out = reinterpret_cast<mien_model_handle*>(m.release());
      });
    } else {
      return MIEN_ERR_UNSUPPORTED;
    }
  }
  static void close(mien_model_handle* m) noexcept {
    try {
      delete reinterpret_cast<ModelInstance*>(m);
    } catch (...) {
    }
  }
  static const char* model_info(mien_model_handle* m) noexcept {
    return reinterpret_cast<ModelInstance*>(m)->model->info_text.c_str();
  }
  static mien_status predict(mien_model_handle* h, mien_call_ctx* ctx, const mien_tensor* in,
                             mien_tensor** out) noexcept {
    auto* m = reinterpret_cast<ModelInstance*>(h);
    *out = nullptr;
    return guarded(m->api, ctx, [&] { *out = m->model->predict(TensorView(in), Host(m->api, ctx)).release(); });
  }
  static mien_status input_gradient(mien_model_handle* h, mien_call_ctx* ctx, const mien_tensor* in,
                                    const int64_t* classes, mien_tensor** out_grad, mien_tensor** out_scores) noexcept {
    auto* m = reinterpret_cast<ModelInstance*>(h);
    *out_grad = nullptr;
    if (out_scores) *out_scores = nullptr;
    return guarded(m->api, ctx, [&] {
      std::vector<int64_t> cls(classes, classes + (in->ndim > 0 ? in->shape[0] : 0));
      auto r = m->model->input_gradient(TensorView(in), cls, Host(m->api, ctx));
      *out_grad = r.first.release();
      if (out_scores) *out_scores = r.second.release();
    });
  }
  static mien_status layer_gradient(mien_model_handle* h, mien_call_ctx* ctx, const char* layer,
                                    const mien_tensor* in, const int64_t* classes, mien_tensor** out_act,
                                    mien_tensor** out_grad, mien_tensor** out_scores) noexcept {
    auto* m = reinterpret_cast<ModelInstance*>(h);
    *out_act = nullptr;
    *out_grad = nullptr;
    if (out_scores) *out_scores = nullptr;
    return guarded(m->api, ctx, [&] {
      std::vector<int64_t> cls(classes, classes + (in->ndim > 0 ? in->shape[0] : 0));
      auto r = m->model->layer_gradient(layer ? layer : "", TensorView(in), cls, Host(m->api, ctx));
      *out_act = r.activations.release();
      *out_grad = r.gradients.release();
      if (out_scores) *out_scores = r.scores.release();
    });
  }

  // The static descriptor, built once.
  static const mien_component_desc* descriptor() {
    static const Storage s;  // built in place: it holds pointers into itself
    return &s.desc;
  }

 private:
  struct Storage {
    std::string schema;
    std::vector<std::string> port_names, port_docs;
    std::vector<mien_port_desc> ports;
    mien_component_vtable vtable{};
    mien_model_vtable model{};
    mien_component_desc desc{};
    Storage() { build(*this); }
    Storage(const Storage&) = delete;
    Storage& operator=(const Storage&) = delete;
  };
  static void build(Storage& s) {
    const ComponentInfo& i = info();
    s.schema = i.schema().dump();
    const auto& decl = i.port_list();
    s.port_names.reserve(decl.size());
    s.port_docs.reserve(decl.size());
    for (const auto& p : decl) {
      s.port_names.push_back(p.name);
      s.port_docs.push_back(p.doc);
    }
    for (size_t k = 0; k < decl.size(); ++k) {
      mien_port_desc d{};
      d.struct_size = sizeof(mien_port_desc);
      d.name = s.port_names[k].c_str();
      d.dir = decl[k].dir;
      d.kind = decl[k].kind;
      d.flags = decl[k].flags;
      d.requires_caps = decl[k].requires_caps;
      d.doc = s.port_docs[k].c_str();
      s.ports.push_back(d);
    }
    s.vtable.struct_size = sizeof(mien_component_vtable);
    s.vtable.create = &create;
    s.vtable.destroy = &destroy;
    s.vtable.process = &process;
    s.model.struct_size = sizeof(mien_model_vtable);
    s.model.capabilities = i.model_caps();
    s.model.open = &open;
    s.model.close = &close;
    s.model.info_json = &model_info;
    s.model.predict = &predict;
    s.model.input_gradient = &input_gradient;
    s.model.layer_gradient = &layer_gradient;
    s.desc.struct_size = sizeof(mien_component_desc);
    s.desc.type_id = i.type_id().c_str();
    s.desc.type_version = i.version();
    s.desc.kind = i.kind();
    s.desc.summary = i.summary().c_str();
    s.desc.params_schema_json = s.schema.c_str();
    s.desc.ports = s.ports.data();
    s.desc.num_ports = static_cast<uint32_t>(s.ports.size());
    s.desc.flags = i.flag_bits();
    s.desc.vtable = &s.vtable;
    s.desc.model = HasOpen<C>::value ? &s.model : nullptr;
  }
};

template <typename... Cs>
const mien_plugin_desc* plugin_descriptor(const char* name, const char* version, const char* license,
                                          const char* build_info_json = nullptr) {
  // Built once; the static storage lives until the library is unloaded.
  static const mien_component_desc* const components[] = {Adapter<Cs>::descriptor()...};
  static const mien_plugin_desc desc = [&] {
    mien_plugin_desc d{};
    d.struct_size = sizeof(mien_plugin_desc);
    d.abi_major = MIEN_ABI_VERSION_MAJOR;
    d.abi_minor = MIEN_ABI_VERSION_MINOR;
    d.name = name;
    d.version = version;
    d.license = license;
    d.components = components;
    d.num_components = static_cast<uint32_t>(sizeof...(Cs));
    d.build_info_json = build_info_json;
    return d;
  }();
  return &desc;
}

}  // namespace detail
}  // namespace mien

// Emits the plugin's one exported symbol. List every component class once.
// MIEN_PLUGIN_WITH_BUILD_INFO also names the libraries the plugin was built with
// (a JSON object literal, e.g. "{\"opencv\": \"" CV_VERSION "\"}").
#define MIEN_PLUGIN(NAME, VERSION, LICENSE, ...)                                             \
  extern "C" MIEN_EXPORT const mien_plugin_desc* mien_plugin_entry_v1(void) {                \
    try {                                                                                    \
      return ::mien::detail::plugin_descriptor<__VA_ARGS__>(NAME, VERSION, LICENSE);         \
    } catch (...) {                                                                          \
      return nullptr;                                                                        \
    }                                                                                        \
  }

#define MIEN_PLUGIN_WITH_BUILD_INFO(NAME, VERSION, LICENSE, BUILD_INFO_JSON, ...)             \
  extern "C" MIEN_EXPORT const mien_plugin_desc* mien_plugin_entry_v1(void) {                \
    try {                                                                                    \
      return ::mien::detail::plugin_descriptor<__VA_ARGS__>(NAME, VERSION, LICENSE,          \
                                                            BUILD_INFO_JSON);                \
    } catch (...) {                                                                          \
      return nullptr;                                                                        \
    }                                                                                        \
  }
