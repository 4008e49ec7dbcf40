// mien-compare: report.compare_explainers and report.aggregate.
#include "components.hpp"

MIEN_PLUGIN("mien-compare", "0.1.0", "MIT", mien::compare::CompareExplainers, mien::compare::Aggregate)
