// Helpers for the explain tests: run a component on a model and tables, read the results.
#pragma once

#include <gtest/gtest.h>
#include <mien/testing.hpp>

#include <memory>
#include <optional>

#include "components.hpp"
#include <mien_explain_core/test_models.hpp>

namespace explain_test {

using mien::Json;

template <typename C>
using Runner = mien::testing::ComponentRunner<C>;

// Runs component C; background may be empty (then the input is left unconnected).
template <typename C>
std::unique_ptr<Runner<C>> run(Json params, TestModel& model, const std::vector<float>& xs,
                               const std::vector<float>& bg, uint64_t seed = 7, uint64_t caps = 0,
                               const std::vector<int64_t>& labels = {}, uint32_t threads = 1) {
  auto r = std::make_unique<Runner<C>>(std::move(params), seed);
  r->set_num_threads(threads);
  const int64_t M = model.num_features();
  r->set_input("model", caps ? model.ref(caps) : model.ref());
  r->set_input("samples", make_table(xs, M, model.class_names(), labels));
  if (!bg.empty()) r->set_input("background", make_table(bg, M, model.class_names(), {}, "b"));
  return r;
}

// Values of a numeric column.
inline std::vector<double> column(const mien::TableView& t, const std::string& name) { return t.get(name).numbers(); }

// Sum of the FEATURE columns per row.
inline std::vector<double> row_sums(const mien::TableView& t) {
  const auto f = t.with_role(MIEN_ROLE_FEATURE);
  std::vector<double> s(static_cast<size_t>(t.num_rows()), 0.0);
  for (const auto& c : f)
    for (int64_t i = 0; i < t.num_rows(); ++i) s[i] += c.number(i);
  return s;
}

inline double max_abs_diff(const std::vector<double>& a, const std::vector<double>& b) {
  EXPECT_EQ(a.size(), b.size());
  double m = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) m = std::max(m, std::fabs(a[i] - b[i]));
  return m;
}

// Efficiency: sum of attributions == output - base_value, per row.
inline double efficiency_error(const mien::TableView& t) {
  const auto s = row_sums(t);
  const auto out = column(t, "output"), base = column(t, "base_value");
  double m = 0;
  for (size_t i = 0; i < s.size(); ++i) m = std::max(m, std::fabs(s[i] - (out[i] - base[i])));
  return m;
}

}  // namespace explain_test
