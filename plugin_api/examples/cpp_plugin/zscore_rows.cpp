// example.cpp_zscore_rows: a mien plugin written with the C++ SDK (<mien/plugin.hpp>).
//
// Example config:
//   zscore:
//     use: example.cpp_zscore_rows
//     with: { min_std: 1e-9 }
//     in: { table: clip.table }
//
// Standardises each row across its FEATURE columns: x -> (x - mean(row)) / std(row),
// the usual normalisation of a per-sample profile (a spectrum, a landmark vector, a
// gene-expression row). A row whose standard deviation is below `min_std` becomes
// all zeros, and is counted in the log. Every other column is copied as it is.
#include <mien/plugin.hpp>

#include <cmath>
#include <string>
#include <vector>

namespace {

class ZScoreRows {
 public:
  static inline const mien::Param<double> kMinStd =
      mien::Param<double>("min_std", 1e-12, "Rows with a smaller standard deviation become all zeros").min(0);
  static inline const mien::Param<bool> kSample{
      "sample_std", false, "Divide by n - 1 (sample standard deviation) instead of n"};
  static inline const mien::Input kIn{"table", MIEN_VALUE_TABLE, "a table with at least one FEATURE column"};
  static inline const mien::Output kOut{"table", MIEN_VALUE_TABLE,
                                        "the same table, each row's FEATURE values standardised (float64)"};

  static mien::ComponentInfo info() {
    return mien::ComponentInfo("example.cpp_zscore_rows", 1, MIEN_KIND_TRANSFORM,
                               "Standardises each row across its feature columns (C++ SDK example)")
        .params(kMinStd, kSample)
        .ports(kIn, kOut)
        .flags(MIEN_COMPONENT_THREAD_SAFE);
  }

  explicit ZScoreRows(const mien::Setup& s) : min_std_(kMinStd.read(s.params())), sample_(kSample.read(s.params())) {}

  void process(mien::Context& ctx) {
    const mien::TableView in = ctx.table(kIn);
    const std::vector<std::string> features = in.feature_names();
    if (features.empty()) throw mien::Error("the input table has no FEATURE column to standardise");
    const size_t rows = static_cast<size_t>(in.num_rows()), cols = features.size();
    if (sample_ && cols < 2) throw mien::Error("sample_std needs at least two FEATURE columns");

    std::vector<double> x = in.feature_matrix<double>();  // row-major [rows x cols]
    size_t flat_rows = 0;
    for (size_t i = 0; i < rows; ++i) {
      if (i % 4096 == 0) {
        ctx.host().check_cancelled();
        ctx.host().progress(i, rows);
      }
      double* row = &x[i * cols];
      double mean = 0;
      for (size_t j = 0; j < cols; ++j) mean += row[j];
      mean /= static_cast<double>(cols);
      double ss = 0;
      for (size_t j = 0; j < cols; ++j) ss += (row[j] - mean) * (row[j] - mean);
      const double sd = std::sqrt(ss / static_cast<double>(sample_ ? cols - 1 : cols));
      const bool flat = !(sd >= min_std_) || sd == 0;  // also catches NaN
      if (flat) ++flat_rows;
      for (size_t j = 0; j < cols; ++j) row[j] = flat ? 0.0 : (row[j] - mean) / sd;
    }
    if (flat_rows > 0)
      ctx.host().warn(std::to_string(flat_rows) + " of " + std::to_string(rows) +
                      " rows had (almost) no spread and were set to zero");

    // Same columns, same order: FEATURE columns replaced, the rest copied.
    mien::Table out(in.num_rows());
    size_t feature = 0;
    for (uint32_t c = 0; c < in.num_columns(); ++c) {
      const mien::ColumnView col = in.column(c);
      if (col.role() != MIEN_ROLE_FEATURE) {
        out.add_copy(col);
        continue;
      }
      std::vector<double> values(rows);
      for (size_t i = 0; i < rows; ++i) values[i] = x[i * cols + feature];
      out.add_numbers(col.name(), MIEN_ROLE_FEATURE, std::move(values));
      ++feature;
    }
    mien::Json meta = in.meta();
    meta["zscore_rows"] = {{"min_std", min_std_}, {"sample_std", sample_}, {"flat_rows", flat_rows}};
    out.meta(meta);
    ctx.set(kOut, std::move(out));
  }

 private:
  double min_std_;
  bool sample_;
};

}  // namespace

MIEN_PLUGIN("mien-example-cpp", "1.0.0", "MIT", ZScoreRows)
