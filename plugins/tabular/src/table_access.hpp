// What the tabular components share: name suggestions, required columns, row subsets,
// row ids and groupings of a column.
#pragma once

#include <mien/plugin.hpp>
#include <mien/random.hpp>
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
