// A feature table (SDK TableView) as the matrix and label codes that fit_logreg / rfe take.
#pragma once

#include <mien/plugin.hpp>
#include <mien_logreg/logreg.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace mien::logreg {

// The FEATURE matrix, the label codes and the class count of a table; rows with an
// unknown label (-1) are dropped (kept_rows lists the table rows used). Errors name the
// component and what was expected: no FEATURE column, no LABEL, NaN/inf features.
struct Labelled {
  std::vector<std::string> names;
  Matrix x;
  std::vector<int64_t> y;
  int64_t classes = 0;
  std::vector<int64_t> kept_rows;
};
Labelled read_labelled(const TableView& t, const std::string& component, bool need_label = true);

}  // namespace mien::logreg
