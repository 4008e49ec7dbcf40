// The mien-evaluation plugin library: its one exported symbol.
#include "components.hpp"

MIEN_PLUGIN("mien-evaluation", "0.1.0", "MIT", mien::evaluation::EvalPredict, mien::evaluation::MetricClassification,
           mien::evaluation::HeldOutAccuracy)
