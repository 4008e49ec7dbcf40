// Helpers shared by the tabular components: name suggestions, a portable shuffle,
// row subsets of tables and id columns.
#pragma once

#include <mien/plugin.hpp>
#include <mien/suggest.hpp>

#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace mien::tabular {

// "; did you mean 'emotion'?" when a close candidate exists (mien::closest_name), else
// " (columns: a, b, c)".
std::string did_you_mean(const std::string& name, const std::vector<std::string>& candidates);

// Deterministic random numbers. std::mt19937_64's raw output is fixed by the C++
// standard, but std::uniform_int_distribution and std::shuffle are not (libstdc++,
// libc++ and MSVC give different results), so bounded draws and the Fisher-Yates
// shuffle are done here.
class Rng {
 public:
  explicit Rng(uint64_t seed) : gen_(seed) {}
  // Uniform in [0, n), n > 0, by rejection sampling (no modulo bias).
  uint64_t below(uint64_t n) {
    const uint64_t threshold = (0 - n) % n;  // 2^64 mod n
    for (;;) {
      const uint64_t r = gen_();
      if (r >= threshold) return r % n;
    }
  }
  template <typename T>
  void shuffle(std::vector<T>& v) {
    for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[static_cast<size_t>(below(i))]);
  }

 private:
  std::mt19937_64 gen_;
};

// The rows `rows` (in the given order) of every column of `src`; meta is kept.
Table subset(const TableView& src, const std::vector<int64_t>& rows);

// The column called `name` (any role), or an Error that names the component, what the
// column is for and suggests a name.
ColumnView require_column(const TableView& t, const std::string& name, const std::string& component,
                          const std::string& param);

// "row0001", "row0002", ...: at least 4 digits, more when `total` needs them.
std::string generated_id(int64_t number, int64_t total);

// Each row's id: the ID column's text, else generated ids.
std::vector<std::string> row_ids(const TableView& t);
// The name of the ID column, or "id".
std::string id_column_name(const TableView& t);

// Values of a column as text per row, and the distinct values in order of first appearance.
struct Grouping {
  std::vector<std::string> names;  // distinct values, first appearance order
  std::vector<size_t> of_row;      // row -> index into names
};
Grouping group_rows(const ColumnView& col, int64_t rows);

}  // namespace mien::tabular
