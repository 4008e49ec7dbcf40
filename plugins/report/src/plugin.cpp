// The mien-report plugin library: its one exported symbol.
#include "components.hpp"

MIEN_PLUGIN("mien-report", "0.1.0", "MIT", mien::report::GeometricReport, mien::report::HeatmapReport,
            mien::report::SheetReport, mien::report::HtmlReport,
            mien::report::LandmarksReport, mien::report::SurveyReport)
