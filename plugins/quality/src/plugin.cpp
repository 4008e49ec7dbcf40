// The mien-quality plugin library: its one exported symbol.
#include "components.hpp"

MIEN_PLUGIN("mien-quality", "0.1.0", "MIT", mien::quality::Fidelity, mien::quality::ExplanationAccuracy,
            mien::quality::TopNWeight, mien::quality::Deletion, mien::quality::Insertion, mien::quality::Agreement,
            mien::quality::Stability, mien::quality::Jitter)
