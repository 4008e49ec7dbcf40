// Values the host owns: copies of what plugins returned, loaded back from the cache,
// and lent to consumers as read-only mien_value views. Nodes exchange data only through
// these files, so a node could as well run on another machine (a cluster executor).
#pragma once

#include <mien/plugin_abi.h>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace mien::host {

struct TensorData {
  mien_dtype dtype = MIEN_DTYPE_UNSPECIFIED;
  std::vector<int64_t> shape;
  std::vector<unsigned char> bytes;  // C-contiguous
  int64_t numel() const;
};

struct ColumnData {
  std::string name;
  mien_column_role role = MIEN_ROLE_UNSPECIFIED;
  mien_dtype dtype = MIEN_DTYPE_UNSPECIFIED;  // F64, I64 or STRING once stored
  std::vector<double> f64;
  std::vector<int64_t> i64;
  std::vector<std::string> strings;
  std::vector<std::string> categories;
};

struct TableData {
  int64_t num_rows = 0;
  std::vector<ColumnData> columns;
  std::string meta_json;
};

struct ModelArtifact {
  std::string dir;          // folder the model component wrote
  std::string type_id;      // the component that can open it
  uint32_t type_version = 0;
  std::string description;  // JSON the component attached
};

class StoredValue {
 public:
  mien_value_kind kind = MIEN_VALUE_UNSPECIFIED;
  mien_pixel_format pixel_format = MIEN_PIXEL_UNSPECIFIED;
  TensorData tensor;
  TableData table;
  std::string text;
  ModelArtifact model;

  // Copies a plugin's output and releases it (calls its deleters). Throws
  // std::runtime_error with a sentence when the value is malformed.
  static StoredValue take(mien_value& v, mien_value_kind expected);

  // Writes the value as files named after `port` inside dir: .npy (tensor, image),
  // .csv + .columns.json (table), .txt / .json (string, json), .model.json (model;
  // the artifact itself is already the folder `port`/).
  void save(const std::string& dir, const std::string& port) const;
  static StoredValue load(const std::string& dir, const std::string& port, mien_value_kind kind);
  // Files save() writes, relative to dir.
  std::vector<std::string> files(const std::string& port) const;

  // A short human summary: "table 120 rows x 43 columns", "tensor float32 [10, 7]".
  std::string describe() const;
};

// A read-only view lent to a plugin; keeps the pointers mien_value needs alive.
class ValueView {
 public:
  explicit ValueView(const StoredValue& v, const mien_model_ref* model = nullptr);
  ValueView(const ValueView&) = delete;
  ValueView& operator=(const ValueView&) = delete;
  const mien_value& value() const { return value_; }

 private:
  mien_value value_{};
  mien_tensor tensor_{};
  mien_table table_{};
  std::vector<mien_column> columns_;
  std::vector<std::vector<const char*>> string_ptrs_;
  std::vector<std::vector<const char*>> category_ptrs_;
};

// .npy (NumPy format 1.0) for tensors.
std::string npy_encode(const TensorData& t);
TensorData npy_decode(const std::string& bytes, const std::string& name_for_errors);
// Shortest text that reads back to the same double.
std::string format_number(double v);

}  // namespace mien::host
