// transform.filter: keep the rows whose column has one of the given values.
#include <cstring>
#include <optional>
#include <set>

#include "components.hpp"
#include "table_access.hpp"

namespace mien::tabular {

ComponentInfo Filter::info() {
  return ComponentInfo("transform.filter", 1, MIEN_KIND_TRANSFORM,
                       "Keeps the rows whose column (e.g. pose) has one of the given values, with their images")
      .params(kColumn, kValues, kExclude)
      .ports(kTableIn, kImagesIn, kKeep, kTableOut, kImagesOut);
}

Filter::Filter(const Setup& s)
    : column_(kColumn.read(s.params())), values_(kValues.read(s.params())), exclude_(kExclude.read(s.params())) {
  if (!column_.empty() && values_.empty())
    throw Error("values: give at least one value of column '" + column_ + "' to keep (or to drop, with exclude: true)");
}

void Filter::process(Context& ctx) {
  const TableView in = ctx.table(kTableIn);
  std::vector<std::string> names;
  for (uint32_t c = 0; c < in.num_columns(); ++c) names.emplace_back(in.column(c).name());
  std::optional<ColumnView> col;
  if (!column_.empty()) {
    col = in.find(column_);
    if (!col) throw Error("column: the table has no column '" + column_ + "'" + did_you_mean(column_, names));
  }
  if (!col && !ctx.connected(kKeep)) throw Error("column: name a column to test, or connect `keep`");
  // Ids to keep, from the `keep` table's ID column.
  std::set<std::string> keep_ids;
  std::optional<ColumnView> ids;
  if (ctx.connected(kKeep)) {
    const auto keep_id = ctx.table(kKeep).with_role(MIEN_ROLE_ID);
    const auto own_id = in.with_role(MIEN_ROLE_ID);
    if (keep_id.empty() || own_id.empty()) throw Error("keep: both tables need an ID column to match rows");
    for (const auto& id : keep_id.front().texts()) keep_ids.insert(id);
    ids = own_id.front();
  }
  const std::set<std::string> wanted(values_.begin(), values_.end());
  std::vector<int64_t> rows;
  std::set<std::string> seen;
  for (int64_t i = 0; i < in.num_rows(); ++i) {
    if (ids && keep_ids.count(ids->text(i)) == 0) continue;
    if (col) {
      const std::string v = col->text(i);
      seen.insert(v);
      if ((wanted.count(v) > 0) == exclude_) continue;
    }
    rows.push_back(i);
  }
  if (rows.empty() && !col) throw Error("keep: none of the table's ids is in `keep`");
  if (rows.empty()) {
    std::vector<std::string> present(seen.begin(), seen.end());
    std::string list;
    for (const auto& p : present) list += (list.empty() ? "" : ", ") + p;
    throw Error("values: no row of column '" + column_ + "' " + (exclude_ ? "is outside" : "has one of") +
                " the given values; the column holds: " + list);
  }
  Table out(static_cast<int64_t>(rows.size()));
  for (uint32_t c = 0; c < in.num_columns(); ++c) out.add_copy(in.column(c), &rows);
  out.meta(in.meta());
  ctx.set(kTableOut, std::move(out));

  if (!ctx.connected(kImagesIn)) {
    ctx.set(kImagesOut, Tensor::zeros<uint8_t>({0, 1, 1, 1}));
    return;
  }
  const mien_value& v = ctx.value(kImagesIn);
  const TensorView img = ctx.tensor(kImagesIn);
  if (img.ndim() < 1 || img.dim(0) != in.num_rows())
    throw Error("images: " + std::to_string(img.ndim() ? img.dim(0) : 0) + " images for " +
                std::to_string(in.num_rows()) + " table rows; the rows must be aligned");
  if (!img.contiguous()) throw Error("images: a contiguous tensor is expected");
  std::vector<int64_t> shape = img.shape();
  const size_t row_bytes = static_cast<size_t>(img.numel() / std::max<int64_t>(1, shape[0])) * dtype_size(img.dtype());
  shape[0] = static_cast<int64_t>(rows.size());
  Tensor sel;
  switch (img.dtype()) {
    case MIEN_DTYPE_U8: sel = Tensor::zeros<uint8_t>(shape); break;
    case MIEN_DTYPE_F32: sel = Tensor::zeros<float>(shape); break;
    default: throw Error("images: uint8 or float32 images are expected");
  }
  auto* dst = static_cast<unsigned char*>(const_cast<void*>(sel.raw()->data));
  const auto* src = static_cast<const unsigned char*>(img.raw()->data);
  for (size_t k = 0; k < rows.size(); ++k)
    std::memcpy(dst + k * row_bytes, src + static_cast<size_t>(rows[k]) * row_bytes, row_bytes);
  ctx.set(kImagesOut, std::move(sel), v.pixel_format);
}

}  // namespace mien::tabular
