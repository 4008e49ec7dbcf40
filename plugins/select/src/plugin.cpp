// The mien-select plugin library: its one exported symbol.
#include "components.hpp"

MIEN_PLUGIN("mien-select", "0.1.0", "MIT", mien::select::SelectRfe, mien::select::SelectSequential,
            mien::select::SelectImportanceTopK, mien::select::SelectColumns)
