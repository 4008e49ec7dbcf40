// The mien-faces-synth plugin library: its one exported symbol.
#include "component.hpp"

MIEN_PLUGIN("mien-faces-synth", "0.1.0", "MIT", mien::faces_synth::SyntheticFaces)
