#include "run/stored_value.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <stdexcept>

#include "core/files.hpp"

namespace fs = std::filesystem;

namespace mien::host {
namespace {

size_t dtype_bytes(mien_dtype d) {
  switch (d) {
    case MIEN_DTYPE_F32: case MIEN_DTYPE_I32: return 4;
    case MIEN_DTYPE_F64: case MIEN_DTYPE_I64: return 8;
    case MIEN_DTYPE_U8: return 1;
    default: return 0;
  }
}

const char* npy_descr(mien_dtype d) {
  switch (d) {
    case MIEN_DTYPE_F32: return "<f4";
    case MIEN_DTYPE_F64: return "<f8";
    case MIEN_DTYPE_I32: return "<i4";
    case MIEN_DTYPE_I64: return "<i8";
    case MIEN_DTYPE_U8: return "|u1";
    default: throw std::runtime_error("tensor dtype cannot be stored");
  }
}

mien_dtype dtype_from_descr(const std::string& d) {
  if (d == "<f4") return MIEN_DTYPE_F32;
  if (d == "<f8") return MIEN_DTYPE_F64;
  if (d == "<i4") return MIEN_DTYPE_I32;
  if (d == "<i8") return MIEN_DTYPE_I64;
  if (d == "|u1" || d == "<u1") return MIEN_DTYPE_U8;
  return MIEN_DTYPE_UNSPECIFIED;
}

TensorData copy_tensor(const mien_tensor* t, const std::string& what) {
  if (t == nullptr) throw std::runtime_error(what + " is missing its tensor");
  if (t->ndim < 0 || t->ndim > MIEN_MAX_NDIM) throw std::runtime_error(what + " has " + std::to_string(t->ndim) + " dimensions");
  const size_t es = dtype_bytes(t->dtype);
  if (es == 0) throw std::runtime_error(what + " has an unsupported dtype");
  TensorData out;
  out.dtype = t->dtype;
  out.shape.assign(t->shape, t->shape + t->ndim);
  int64_t n = 1;
  for (int64_t d : out.shape) {
    if (d < 0) throw std::runtime_error(what + " has a negative dimension");
    n *= d;
  }
  out.bytes.resize(static_cast<size_t>(n) * es);
  if (n == 0) return out;
  if (t->data == nullptr) throw std::runtime_error(what + " has no data");
  const auto* src = static_cast<const unsigned char*>(t->data);
  if (t->strides == nullptr) {
    std::memcpy(out.bytes.data(), src, out.bytes.size());
    return out;
  }
  for (int64_t flat = 0; flat < n; ++flat) {
    int64_t rem = flat, offset = 0;
    for (int i = t->ndim - 1; i >= 0; --i) {
      offset += (rem % out.shape[static_cast<size_t>(i)]) * t->strides[i];
      rem /= out.shape[static_cast<size_t>(i)];
    }
    std::memcpy(out.bytes.data() + static_cast<size_t>(flat) * es, src + offset * static_cast<int64_t>(es), es);
  }
  return out;
}

TableData copy_table(const mien_table* t, const std::string& what) {
  if (t == nullptr) throw std::runtime_error(what + " is missing its table");
  TableData out;
  out.num_rows = t->num_rows;
  if (t->num_rows < 0) throw std::runtime_error(what + " has a negative row count");
  out.meta_json = t->meta_json ? t->meta_json : "";
  for (uint32_t c = 0; c < t->num_columns; ++c) {
    const mien_column& col = t->columns[c];
    ColumnData cd;
    cd.name = col.name ? col.name : "";
    if (cd.name.empty()) throw std::runtime_error(what + ": column " + std::to_string(c) + " has no name");
    cd.role = col.role;
    const auto n = static_cast<size_t>(t->num_rows);
    if (n > 0 && col.data == nullptr) throw std::runtime_error(what + ": column '" + cd.name + "' has no data");
    switch (col.dtype) {
      case MIEN_DTYPE_F64: cd.dtype = MIEN_DTYPE_F64; cd.f64.assign(static_cast<const double*>(col.data), static_cast<const double*>(col.data) + n); break;
      case MIEN_DTYPE_F32: {
        cd.dtype = MIEN_DTYPE_F64;
        const auto* p = static_cast<const float*>(col.data);
        cd.f64.assign(p, p + n);
        break;
      }
      case MIEN_DTYPE_I64: cd.dtype = MIEN_DTYPE_I64; cd.i64.assign(static_cast<const int64_t*>(col.data), static_cast<const int64_t*>(col.data) + n); break;
      case MIEN_DTYPE_I32: {
        cd.dtype = MIEN_DTYPE_I64;
        const auto* p = static_cast<const int32_t*>(col.data);
        cd.i64.assign(p, p + n);
        break;
      }
      case MIEN_DTYPE_STRING: {
        cd.dtype = MIEN_DTYPE_STRING;
        const auto* p = static_cast<const char* const*>(col.data);
        cd.strings.reserve(n);
        for (size_t i = 0; i < n; ++i) cd.strings.emplace_back(p[i] ? p[i] : "");
        break;
      }
      default: throw std::runtime_error(what + ": column '" + cd.name + "' has an unsupported dtype");
    }
    for (uint32_t k = 0; k < col.num_categories; ++k) cd.categories.emplace_back(col.categories[k] ? col.categories[k] : "");
    out.columns.push_back(std::move(cd));
  }
  return out;
}

const char* role_name(mien_column_role r) {
  switch (r) {
    case MIEN_ROLE_FEATURE: return "feature";
    case MIEN_ROLE_LABEL: return "label";
    case MIEN_ROLE_ID: return "id";
    case MIEN_ROLE_GROUP: return "group";
    case MIEN_ROLE_VALUE: return "value";
    default: return "unspecified";
  }
}

mien_column_role role_from_name(const std::string& s) {
  if (s == "feature") return MIEN_ROLE_FEATURE;
  if (s == "label") return MIEN_ROLE_LABEL;
  if (s == "id") return MIEN_ROLE_ID;
  if (s == "group") return MIEN_ROLE_GROUP;
  if (s == "value") return MIEN_ROLE_VALUE;
  return MIEN_ROLE_UNSPECIFIED;
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

// Splits one CSV record (RFC 4180) starting at pos; advances pos past the line end.
std::vector<std::string> csv_record(const std::string& text, size_t& pos) {
  std::vector<std::string> fields;
  std::string cur;
  bool quoted = false;
  while (pos < text.size()) {
    const char c = text[pos++];
    if (quoted) {
      if (c == '"') {
        if (pos < text.size() && text[pos] == '"') {
          cur += '"';
          ++pos;
        } else {
          quoted = false;
        }
      } else {
        cur += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.push_back(std::move(cur));
      cur.clear();
    } else if (c == '\n') {
      break;
    } else if (c != '\r') {
      cur += c;
    }
  }
  fields.push_back(std::move(cur));
  return fields;
}

}  // namespace

int64_t TensorData::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::string format_number(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

StoredValue StoredValue::take(mien_value& v, mien_value_kind expected) {
  struct Release {  // the plugin's memory is released whatever happens
    mien_value& v;
    ~Release() {
      if (v.tensor && v.tensor->deleter) v.tensor->deleter(v.tensor);
      if (v.table && v.table->deleter) v.table->deleter(v.table);
      v.tensor = nullptr;
      v.table = nullptr;
    }
  } release{v};
  StoredValue out;
  const mien_value_kind kind = v.kind;
  if (kind == MIEN_VALUE_UNSPECIFIED) throw std::runtime_error("the output was not set");
  if (expected != MIEN_VALUE_ANY && kind != expected)
    throw std::runtime_error("the output has the wrong kind of value");
  out.kind = kind;
  switch (kind) {
    case MIEN_VALUE_TENSOR:
      out.tensor = copy_tensor(v.tensor, "the output");
      break;
    case MIEN_VALUE_IMAGE:
      out.tensor = copy_tensor(v.tensor, "the output");
      out.pixel_format = v.pixel_format;
      break;
    case MIEN_VALUE_TABLE:
      out.table = copy_table(v.table, "the output");
      break;
    case MIEN_VALUE_STRING:
    case MIEN_VALUE_JSON:
    case MIEN_VALUE_MODEL:
      out.text = v.text ? v.text : "";
      if (kind == MIEN_VALUE_JSON) {
        if (!nlohmann::json::accept(out.text)) throw std::runtime_error("the output is not valid JSON");
      }
      if (kind == MIEN_VALUE_MODEL) out.model.description = out.text;
      break;
    default:
      throw std::runtime_error("the output has an unknown value kind");
  }
  return out;
}

std::string npy_encode(const TensorData& t) {
  std::ostringstream shape;
  shape << "(";
  for (size_t i = 0; i < t.shape.size(); ++i) shape << t.shape[i] << (t.shape.size() == 1 || i + 1 < t.shape.size() ? "," : "");
  shape << ")";
  std::string header = std::string("{'descr': '") + npy_descr(t.dtype) + "', 'fortran_order': False, 'shape': " + shape.str() + ", }";
  const size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::string out = "\x93NUMPY";
  out += '\x01';
  out += '\x00';
  const auto len = static_cast<uint16_t>(header.size());
  out += static_cast<char>(len & 0xff);
  out += static_cast<char>(len >> 8);
  out += header;
  out.append(reinterpret_cast<const char*>(t.bytes.data()), t.bytes.size());
  return out;
}

TensorData npy_decode(const std::string& b, const std::string& name) {
  if (b.size() < 10 || b.compare(0, 6, "\x93NUMPY") != 0) throw std::runtime_error(name + " is not a .npy file");
  const auto major = static_cast<unsigned char>(b[6]);
  size_t header_len, offset;
  if (major == 1) {
    header_len = static_cast<unsigned char>(b[8]) | (static_cast<size_t>(static_cast<unsigned char>(b[9])) << 8);
    offset = 10;
  } else {
    if (b.size() < 12) throw std::runtime_error(name + " is truncated");
    header_len = 0;
    for (int i = 0; i < 4; ++i) header_len |= static_cast<size_t>(static_cast<unsigned char>(b[8 + i])) << (8 * i);
    offset = 12;
  }
  if (b.size() < offset + header_len) throw std::runtime_error(name + " is truncated");
  const std::string header = b.substr(offset, header_len);
  auto field = [&](const std::string& key) {
    const auto p = header.find("'" + key + "'");
    if (p == std::string::npos) throw std::runtime_error(name + ": .npy header has no " + key);
    return header.substr(header.find(':', p) + 1);
  };
  std::string descr = field("descr");
  descr = descr.substr(descr.find('\'') + 1);
  descr = descr.substr(0, descr.find('\''));
  TensorData t;
  t.dtype = dtype_from_descr(descr);
  if (t.dtype == MIEN_DTYPE_UNSPECIFIED) throw std::runtime_error(name + ": unsupported .npy dtype " + descr);
  if (field("fortran_order").find("True") < field("fortran_order").find(',')) throw std::runtime_error(name + ": Fortran-order .npy is not supported");
  std::string shape = field("shape");
  shape = shape.substr(shape.find('(') + 1, shape.find(')') - shape.find('(') - 1);
  std::istringstream ss(shape);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (item.find_first_not_of(' ') == std::string::npos) continue;
    t.shape.push_back(std::stoll(item));
  }
  const size_t bytes = static_cast<size_t>(t.numel()) * dtype_bytes(t.dtype);
  if (b.size() != offset + header_len + bytes) throw std::runtime_error(name + " is truncated or has trailing bytes");
  t.bytes.assign(b.begin() + static_cast<std::ptrdiff_t>(offset + header_len), b.end());
  return t;
}

std::vector<std::string> StoredValue::files(const std::string& port) const {
  switch (kind) {
    case MIEN_VALUE_TENSOR: case MIEN_VALUE_IMAGE: return {port + ".npy", port + ".meta.json"};
    case MIEN_VALUE_TABLE: return {port + ".csv", port + ".columns.json"};
    case MIEN_VALUE_STRING: return {port + ".txt"};
    case MIEN_VALUE_JSON: return {port + ".json"};
    case MIEN_VALUE_MODEL: return {port + ".model.json", port};
    default: return {};
  }
}

void StoredValue::save(const std::string& dir, const std::string& port) const {
  const fs::path d(dir);
  switch (kind) {
    case MIEN_VALUE_TENSOR:
    case MIEN_VALUE_IMAGE: {
      write_file_atomic((d / (port + ".npy")).string(), npy_encode(tensor));
      nlohmann::json meta = {{"kind", kind == MIEN_VALUE_IMAGE ? "image" : "tensor"}, {"pixel_format", static_cast<int>(pixel_format)}};
      write_file_atomic((d / (port + ".meta.json")).string(), meta.dump(2) + "\n");
      break;
    }
    case MIEN_VALUE_TABLE: {
      std::string csv;
      for (size_t c = 0; c < table.columns.size(); ++c) csv += (c ? "," : "") + csv_field(table.columns[c].name);
      csv += "\n";
      for (int64_t r = 0; r < table.num_rows; ++r) {
        for (size_t c = 0; c < table.columns.size(); ++c) {
          const ColumnData& col = table.columns[c];
          if (c) csv += ',';
          const auto i = static_cast<size_t>(r);
          if (col.dtype == MIEN_DTYPE_STRING) csv += csv_field(col.strings[i]);
          else if (col.dtype == MIEN_DTYPE_I64) {
            // Coded columns are written as their names, so the CSV reads well elsewhere.
            const int64_t k = col.i64[i];
            if (!col.categories.empty() && k >= 0 && k < static_cast<int64_t>(col.categories.size())) csv += csv_field(col.categories[static_cast<size_t>(k)]);
            else csv += std::to_string(k);
          } else csv += format_number(col.f64[i]);
        }
        csv += "\n";
      }
      nlohmann::json cols = nlohmann::json::array();
      for (const auto& col : table.columns) {
        nlohmann::json j = {{"name", col.name}, {"role", role_name(col.role)},
                            {"dtype", col.dtype == MIEN_DTYPE_STRING ? "string" : col.dtype == MIEN_DTYPE_I64 ? "int64" : "float64"}};
        if (!col.categories.empty()) j["categories"] = col.categories;
        cols.push_back(j);
      }
      nlohmann::json meta = {{"rows", table.num_rows}, {"columns", cols}};
      if (!table.meta_json.empty()) meta["meta"] = nlohmann::json::parse(table.meta_json);
      write_file_atomic((d / (port + ".csv")).string(), csv);
      write_file_atomic((d / (port + ".columns.json")).string(), meta.dump(2) + "\n");
      break;
    }
    case MIEN_VALUE_STRING: write_file_atomic((d / (port + ".txt")).string(), text); break;
    case MIEN_VALUE_JSON: write_file_atomic((d / (port + ".json")).string(), text + (text.empty() || text.back() != '\n' ? "\n" : "")); break;
    case MIEN_VALUE_MODEL: {
      nlohmann::json meta = {{"type_id", model.type_id}, {"type_version", model.type_version}, {"artifact", port}};
      try {
        meta["description"] = model.description.empty() ? nlohmann::json::object() : nlohmann::json::parse(model.description);
      } catch (...) {
        meta["description"] = model.description;
      }
      write_file_atomic((d / (port + ".model.json")).string(), meta.dump(2) + "\n");
      break;
    }
    default: throw std::runtime_error("cannot save a value of unknown kind");
  }
}

StoredValue StoredValue::load(const std::string& dir, const std::string& port, mien_value_kind kind) {
  const fs::path d(dir);
  StoredValue v;
  v.kind = kind;
  if (kind == MIEN_VALUE_TENSOR || kind == MIEN_VALUE_IMAGE) {
    const std::string path = (d / (port + ".npy")).string();
    v.tensor = npy_decode(read_file(path), path);
    const auto meta = nlohmann::json::parse(read_file((d / (port + ".meta.json")).string()));
    v.kind = meta.value("kind", "tensor") == "image" ? MIEN_VALUE_IMAGE : MIEN_VALUE_TENSOR;
    v.pixel_format = static_cast<mien_pixel_format>(meta.value("pixel_format", 0));
  } else if (kind == MIEN_VALUE_TABLE) {
    const std::string csv_path = (d / (port + ".csv")).string();
    const auto meta = nlohmann::json::parse(read_file((d / (port + ".columns.json")).string()));
    v.table.num_rows = meta.at("rows").get<int64_t>();
    if (meta.contains("meta")) v.table.meta_json = meta["meta"].dump();
    for (const auto& c : meta.at("columns")) {
      ColumnData col;
      col.name = c.at("name");
      col.role = role_from_name(c.at("role"));
      const std::string dt = c.at("dtype");
      col.dtype = dt == "string" ? MIEN_DTYPE_STRING : dt == "int64" ? MIEN_DTYPE_I64 : MIEN_DTYPE_F64;
      if (c.contains("categories")) col.categories = c["categories"].get<std::vector<std::string>>();
      v.table.columns.push_back(std::move(col));
    }
    const std::string text = read_file(csv_path);
    size_t pos = 0;
    (void)csv_record(text, pos);  // header
    for (int64_t r = 0; r < v.table.num_rows; ++r) {
      if (pos >= text.size()) throw std::runtime_error(csv_path + " is truncated");
      auto fields = csv_record(text, pos);
      if (fields.size() != v.table.columns.size()) throw std::runtime_error(csv_path + ": row " + std::to_string(r + 2) + " has the wrong number of fields");
      for (size_t c = 0; c < fields.size(); ++c) {
        ColumnData& col = v.table.columns[c];
        if (col.dtype == MIEN_DTYPE_STRING) {
          col.strings.push_back(std::move(fields[c]));
        } else if (col.dtype == MIEN_DTYPE_I64) {
          int64_t k = -1;
          auto it = std::find(col.categories.begin(), col.categories.end(), fields[c]);
          if (it != col.categories.end()) k = it - col.categories.begin();
          else k = std::stoll(fields[c]);
          col.i64.push_back(k);
        } else {
          const std::string& f = fields[c];
          double x;
          if (f == "nan") x = std::nan("");
          else if (f == "inf") x = INFINITY;
          else if (f == "-inf") x = -INFINITY;
          else {
            auto res = std::from_chars(f.data(), f.data() + f.size(), x);
            if (res.ec != std::errc()) throw std::runtime_error(csv_path + ": '" + f + "' is not a number");
          }
          col.f64.push_back(x);
        }
      }
    }
  } else if (kind == MIEN_VALUE_STRING) {
    v.text = read_file((d / (port + ".txt")).string());
  } else if (kind == MIEN_VALUE_JSON) {
    v.text = read_file((d / (port + ".json")).string());
    while (!v.text.empty() && v.text.back() == '\n') v.text.pop_back();
  } else if (kind == MIEN_VALUE_MODEL) {
    const auto meta = nlohmann::json::parse(read_file((d / (port + ".model.json")).string()));
    v.model.dir = (d / port).string();
    v.model.type_id = meta.at("type_id");
    v.model.type_version = meta.at("type_version");
    v.model.description = meta["description"].is_string() ? meta["description"].get<std::string>() : meta["description"].dump();
    v.text = v.model.description;
  } else {
    throw std::runtime_error("cannot load a value of unknown kind");
  }
  return v;
}

std::string StoredValue::describe() const {
  std::ostringstream os;
  switch (kind) {
    case MIEN_VALUE_TENSOR: case MIEN_VALUE_IMAGE: {
      os << (kind == MIEN_VALUE_IMAGE ? "image " : "tensor ") << (tensor.dtype == MIEN_DTYPE_F32 ? "float32" : tensor.dtype == MIEN_DTYPE_F64 ? "float64" : tensor.dtype == MIEN_DTYPE_U8 ? "uint8" : "int") << " [";
      for (size_t i = 0; i < tensor.shape.size(); ++i) os << (i ? ", " : "") << tensor.shape[i];
      os << "]";
      break;
    }
    case MIEN_VALUE_TABLE: os << "table " << table.num_rows << " rows x " << table.columns.size() << " columns"; break;
    case MIEN_VALUE_STRING: os << "text, " << text.size() << " bytes"; break;
    case MIEN_VALUE_JSON: os << "json, " << text.size() << " bytes"; break;
    case MIEN_VALUE_MODEL: os << "model (" << model.type_id << ")"; break;
    default: os << "nothing";
  }
  return os.str();
}

ValueView::ValueView(const StoredValue& v, const mien_model_ref* model) {
  value_.struct_size = sizeof(mien_value);
  value_.kind = v.kind;
  switch (v.kind) {
    case MIEN_VALUE_TENSOR:
    case MIEN_VALUE_IMAGE:
      tensor_.struct_size = sizeof(mien_tensor);
      tensor_.dtype = v.tensor.dtype;
      tensor_.ndim = static_cast<int32_t>(v.tensor.shape.size());
      tensor_.shape = v.tensor.shape.data();
      tensor_.strides = nullptr;
      tensor_.data = const_cast<unsigned char*>(v.tensor.bytes.data());
      tensor_.flags = MIEN_TENSOR_READ_ONLY;
      value_.tensor = &tensor_;
      value_.pixel_format = v.pixel_format;
      break;
    case MIEN_VALUE_TABLE: {
      columns_.resize(v.table.columns.size());
      string_ptrs_.resize(v.table.columns.size());
      category_ptrs_.resize(v.table.columns.size());
      for (size_t c = 0; c < v.table.columns.size(); ++c) {
        const ColumnData& cd = v.table.columns[c];
        mien_column& m = columns_[c];
        m.struct_size = sizeof(mien_column);
        m.name = cd.name.c_str();
        m.role = cd.role;
        m.dtype = cd.dtype;
        if (cd.dtype == MIEN_DTYPE_F64) m.data = cd.f64.data();
        else if (cd.dtype == MIEN_DTYPE_I64) m.data = cd.i64.data();
        else {
          for (const auto& s : cd.strings) string_ptrs_[c].push_back(s.c_str());
          m.data = string_ptrs_[c].data();
        }
        for (const auto& s : cd.categories) category_ptrs_[c].push_back(s.c_str());
        m.categories = category_ptrs_[c].empty() ? nullptr : category_ptrs_[c].data();
        m.num_categories = static_cast<uint32_t>(category_ptrs_[c].size());
      }
      table_.struct_size = sizeof(mien_table);
      table_.num_rows = v.table.num_rows;
      table_.num_columns = static_cast<uint32_t>(columns_.size());
      table_.columns = columns_.data();
      table_.meta_json = v.table.meta_json.empty() ? nullptr : v.table.meta_json.c_str();
      value_.table = &table_;
      break;
    }
    case MIEN_VALUE_STRING:
    case MIEN_VALUE_JSON:
      value_.text = v.text.c_str();
      break;
    case MIEN_VALUE_MODEL:
      value_.text = v.model.description.c_str();
      value_.model = model;
      break;
    default:
      break;
  }
}

}  // namespace mien::host
