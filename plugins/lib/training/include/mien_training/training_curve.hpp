// The training curve every trainable model outputs (`curve`: epoch, train_loss,
// train_accuracy, val_loss, val_accuracy), from the per-epoch history the artifact keeps.
// Header-only, shared by model.mlp and model.cnn (each library compiles its own copy).
#pragma once

#include <mien/plugin.hpp>

#include <cmath>
#include <limits>
#include <vector>

namespace mien::training {

// NaN is not JSON: written as null.
inline Json number_or_null(double v) { return std::isfinite(v) ? Json(v) : Json(); }

// history: [{"epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy"}, ...];
// a missing or null value becomes NaN.
inline Table training_curve_table(const Json& history) {
  std::vector<int64_t> epoch;
  std::vector<double> tl, ta, vl, va;
  auto num = [](const Json& v) { return v.is_number() ? v.get<double>() : std::numeric_limits<double>::quiet_NaN(); };
  for (const auto& h : history) {
    epoch.push_back(h.value("epoch", int64_t{0}));
    tl.push_back(num(h.value("train_loss", Json())));
    ta.push_back(num(h.value("train_accuracy", Json())));
    vl.push_back(num(h.value("val_loss", Json())));
    va.push_back(num(h.value("val_accuracy", Json())));
  }
  Table t(static_cast<int64_t>(history.size()));
  t.add_codes("epoch", MIEN_ROLE_VALUE, epoch);
  t.add_numbers("train_loss", MIEN_ROLE_VALUE, tl);
  t.add_numbers("train_accuracy", MIEN_ROLE_VALUE, ta);
  t.add_numbers("val_loss", MIEN_ROLE_VALUE, vl);
  t.add_numbers("val_accuracy", MIEN_ROLE_VALUE, va);
  return t;
}

}  // namespace mien::training
