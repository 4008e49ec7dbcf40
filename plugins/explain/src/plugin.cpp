// The mien-explain plugin library: its one exported symbol.
#include "components.hpp"

MIEN_PLUGIN("mien-explain", "0.1.0", "MIT", mien::explain::ExactShapley, mien::explain::KernelShap,
            mien::explain::PermutationShap, mien::explain::DeepShap, mien::explain::IntegratedGradients,
            mien::explain::GradientShap, mien::explain::Lime, mien::explain::Occlusion)
