// Diagnostic helpers shared by the reader and the validator.
#pragma once

#include <string>
#include <vector>

#include "core/diagnostics.hpp"

namespace mien::host::graph {

// Adds d unless the same problem at the same place is already there. Matrix copies of
// a node share their YAML, so one mistake would otherwise be reported once per copy.
void report_once(Diagnostics& diags, Diagnostic d);
void error_once(Diagnostics& diags, SourceLocation where, std::string node, std::string message,
                std::string hint = {});

// True when an error was already reported at this exact file position. A scalar whose
// variable could not be substituted is not checked again (its text would only cause
// a second, confusing error there).
bool has_error_at(const Diagnostics& diags, const SourceLocation& where);

// did_you_mean() limited to the closest candidates: "dataset.tabel" suggests
// 'dataset.table' alone, not also every other plausible id.
std::vector<std::string> closest(const std::string& word, const std::vector<std::string>& candidates);
std::string closest_hint(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace mien::host::graph
