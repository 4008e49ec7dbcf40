// The mien-tabular plugin library: its one exported symbol.
#include "components.hpp"

MIEN_PLUGIN("mien-tabular", "0.1.0", "MIT", mien::tabular::DatasetTable, mien::tabular::SplitHoldout,
            mien::tabular::SplitGroupKFold, mien::tabular::Standardize, mien::tabular::Filter,
            mien::tabular::SubjectBaseline)
