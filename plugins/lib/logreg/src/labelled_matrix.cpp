// A feature table as the matrix and label codes the logistic regression trains on.
#include <mien_logreg/labelled_matrix.hpp>

#include <algorithm>
#include <cmath>
#include <string>

namespace mien::logreg {

Labelled read_labelled(const TableView& t, const std::string& component, bool need_label) {
  Labelled d;
  const auto feats = t.with_role(MIEN_ROLE_FEATURE);
  if (feats.empty())
    throw Error(component + ": input 'table' has no FEATURE columns; expected numeric feature columns (role FEATURE)");
  for (const auto& c : feats) {
    if (c.is_string()) throw Error(component + ": FEATURE column '" + std::string(c.name()) + "' is not numeric");
    d.names.emplace_back(c.name());
  }
  const auto label = t.label();
  if (!label && need_label)
    throw Error(component + ": input 'table' has no LABEL column; expected class labels to select features for");
  std::vector<int64_t> codes;
  if (label) {
    codes = label->codes();
    d.classes = static_cast<int64_t>(label->categories().size());
    for (int64_t c : codes) d.classes = std::max(d.classes, c + 1);
  }
  const int64_t n = t.num_rows();
  for (int64_t i = 0; i < n; ++i)
    if (!label || codes[static_cast<size_t>(i)] >= 0) d.kept_rows.push_back(i);
  d.x.rows = static_cast<int64_t>(d.kept_rows.size());
  d.x.cols = static_cast<int64_t>(feats.size());
  d.x.v.resize(static_cast<size_t>(d.x.rows * d.x.cols));
  for (size_t j = 0; j < feats.size(); ++j)
    for (size_t r = 0; r < d.kept_rows.size(); ++r) {
      const double v = feats[j].number(d.kept_rows[r]);
      if (!std::isfinite(v))
        throw Error(component + ": FEATURE column '" + d.names[j] + "' holds a non-finite value (" + std::to_string(v) +
                    ") in row " + std::to_string(d.kept_rows[r]) +
                    "; expected finite numbers (impute or drop such rows first)");
      d.x.v[r * feats.size() + j] = v;
    }
  if (label) {
    for (int64_t i : d.kept_rows) d.y.push_back(codes[static_cast<size_t>(i)]);
    if (d.kept_rows.empty())
      throw Error(component + ": every row of input 'table' has an unknown label (-1); expected labelled rows");
  }
  return d;
}

}  // namespace mien::logreg
