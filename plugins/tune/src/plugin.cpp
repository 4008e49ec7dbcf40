// The mien-tune plugin library: its one exported symbol.
#include "components.hpp"

MIEN_PLUGIN("mien-tune", "0.1.0", "MIT", mien::tune::TuneHyperband)
