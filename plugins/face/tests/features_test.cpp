// features.geometric and features.landmarks through the C boundary (ComponentRunner).
#include <gtest/gtest.h>
#include <mien/testing.hpp>

#include <cmath>

#include "components.hpp"
#include "face_fixture.hpp"
#include "mien_face_geometry/alignment.hpp"
#include "mien_face_geometry/geometric.hpp"

using mien::Table;
using mien::TableView;
using mien::testing::ComponentRunner;
using namespace mien::face;

namespace {

// Three rows: the template face, a moved copy, and a degenerate all-coincident face.
Table landmark_table(const std::vector<std::vector<double>>& faces) {
  const int64_t n = static_cast<int64_t>(faces.size());
  Table t(n);
  std::vector<std::string> ids, subjects, paths;
  std::vector<int64_t> labels;
  for (int64_t i = 0; i < n; ++i) {
    ids.push_back("s" + std::to_string(i));
    subjects.push_back(i % 2 ? "F01" : "M02");
    paths.push_back("/nonexistent/" + std::to_string(i) + ".jpg");
    labels.push_back(i % 3);
  }
  t.add_strings("id", MIEN_ROLE_ID, ids);
  t.add_codes("label", MIEN_ROLE_LABEL, labels, {"fear", "anger", "disgust"});
  t.add_strings("subject", MIEN_ROLE_GROUP, subjects);
  t.add_strings("path", MIEN_ROLE_VALUE, paths);
  for (int d = 0; d < 2; ++d)
    for (int k = 0; k < 68; ++k) {
      std::vector<double> v;
      for (const auto& f : faces) v.push_back(f[static_cast<size_t>(2 * k + d)]);
      t.add_numbers((d ? "y" : "x") + std::to_string(k), MIEN_ROLE_VALUE, v);
    }
  return t;
}

std::vector<double> aligned(std::vector<double> p) {
  const auto t = eye_alignment(p.data(), AlignParams{});
  transform_landmarks(*t, p.data());
  return p;
}

}  // namespace

TEST(FeaturesGeometric, FortyFeatureColumnsPassThroughColumnsAndFeatureInfo) {
  const std::vector<double> face = face_test::template_face();
  ComponentRunner<FeaturesGeometric> r;
  r.set_input("table", landmark_table({face, face_test::similarity(face, 0, 2.0, 5, 5)}));
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const TableView out = r.table("table");
  ASSERT_EQ(out.num_rows(), 2);
  const auto names = out.feature_names();
  ASSERT_EQ(names.size(), 40u);
  for (size_t k = 0; k < 40; ++k) EXPECT_EQ(names[k], geometric_features()[k].name);
  // ID, LABEL and GROUP copied; path and landmarks not.
  EXPECT_EQ(out.get("id").text(1), "s1");
  EXPECT_EQ(out.get("label").role(), MIEN_ROLE_LABEL);
  EXPECT_EQ(out.get("label").categories(), (std::vector<std::string>{"fear", "anger", "disgust"}));
  EXPECT_EQ(out.get("subject").text(0), "M02");
  EXPECT_FALSE(out.find("path").has_value());
  EXPECT_FALSE(out.find("x0").has_value());
  // Values equal the library's.
  const std::vector<double> g = compute_geometric_features(face);
  for (size_t k = 0; k < 40; ++k) EXPECT_DOUBLE_EQ(out.get(names[k]).number(0), g[k]);
  EXPECT_NEAR(out.get("mouth_aspect_ratio").number(1), 2.0, 1e-12);

  const mien::Json info = r.json("feature_info");
  ASSERT_EQ(info["features"].size(), 40u);
  EXPECT_EQ(info["landmark_scheme"], "ibug68");
  EXPECT_EQ(info["features"][2]["name"], "mouth_aspect_ratio");
  EXPECT_EQ(info["features"][2]["kind"], "ratio");
  EXPECT_EQ(info["features"][2]["landmarks"], mien::Json::array({48, 54, 51, 57}));
  EXPECT_FALSE(info["features"][2]["description"].get<std::string>().empty());
  EXPECT_FALSE(r.logged("degenerate"));
}

TEST(FeaturesGeometric, SubsetsAndExplicitLists) {
  const std::vector<double> face = face_test::template_face();
  {
    ComponentRunner<FeaturesGeometric> r({{"subset", "HL"}});
    r.set_input("table", landmark_table({face}));
    ASSERT_EQ(r.run(), MIEN_OK) << r.error();
    EXPECT_EQ(r.table("table").feature_names(), feature_subset("HL"));
    EXPECT_EQ(r.json("feature_info")["features"].size(), 25u);
  }
  {
    ComponentRunner<FeaturesGeometric> r({{"features", {"mouth_width", "eyebrow_slope_l"}}, {"subset", "S"}});
    r.set_input("table", landmark_table({face}));
    ASSERT_EQ(r.run(), MIEN_OK) << r.error();
    EXPECT_EQ(r.table("table").feature_names(), (std::vector<std::string>{"mouth_width", "eyebrow_slope_l"}));
    EXPECT_NEAR(r.table("table").get("mouth_width").number(0), 40.0 / 37.0, 1e-12);
  }
  {
    ComponentRunner<FeaturesGeometric> r({{"features", {"mouth_widht"}}});
    r.set_input("table", landmark_table({face}));
    EXPECT_EQ(r.run(), MIEN_ERR_INVALID_ARGUMENT);
    EXPECT_NE(r.error().find("'mouth_widht'"), std::string::npos) << r.error();
    EXPECT_NE(r.error().find("did you mean 'mouth_width'"), std::string::npos) << r.error();
  }
  EXPECT_THROW(ComponentRunner<FeaturesGeometric>({{"subset", "FR"}}), mien::testing::InvalidParams);
}

TEST(FeaturesGeometric, DegenerateRowsAreKeptWithFiniteValuesAndWarned) {
  std::vector<double> coincident(136, 4.0);
  ComponentRunner<FeaturesGeometric> r;
  r.set_input("table", landmark_table({face_test::template_face(), coincident}));
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const TableView out = r.table("table");
  ASSERT_EQ(out.num_rows(), 2);
  for (const auto& c : out.with_role(MIEN_ROLE_FEATURE)) {
    EXPECT_TRUE(std::isfinite(c.number(1))) << c.name();
  }
  EXPECT_TRUE(r.logged("row 's1': mouth_aspect_ratio", MIEN_LOG_WARNING));
  EXPECT_TRUE(r.logged("1 of 2 rows had degenerate landmarks", MIEN_LOG_WARNING));
  EXPECT_FALSE(r.logged("row 's0'"));
}

TEST(FeaturesGeometric, MissingLandmarkColumnIsAnErrorNamingIt) {
  Table t(1);
  t.add_strings("id", MIEN_ROLE_ID, {"a"});
  t.add_numbers("x0", MIEN_ROLE_VALUE, {1.0});
  ComponentRunner<FeaturesGeometric> r;
  r.set_input("table", std::move(t));
  EXPECT_EQ(r.run(), MIEN_ERR_INVALID_ARGUMENT);
  EXPECT_NE(r.error().find("'y0'"), std::string::npos) << r.error();
}

TEST(FeaturesGeometric, AlignedMovedFacesGiveTheSameFeatures) {
  face_test::Rng rng(99);
  const std::vector<double> face = face_test::template_face();
  std::vector<std::vector<double>> faces;
  for (int i = 0; i < 5; ++i)
    faces.push_back(aligned(face_test::similarity(face, rng.between(-30, 30), rng.between(0.5, 3),
                                                  rng.between(-50, 50), rng.between(-50, 50))));
  ComponentRunner<FeaturesGeometric> r;
  r.set_input("table", landmark_table(faces));
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  for (const auto& c : r.table("table").with_role(MIEN_ROLE_FEATURE))
    for (int64_t i = 1; i < 5; ++i) EXPECT_NEAR(c.number(i), c.number(0), 1e-6) << c.name();
}

TEST(FeaturesLandmarks, NormalisedCoordinatesAreCentredAndInUnitsOfTheInterOcularDistance) {
  const std::vector<double> face = face_test::template_face();
  const std::vector<double> moved = face_test::similarity(face, 0, 2.5, 100, -40);
  ComponentRunner<FeaturesLandmarks> r;
  r.set_input("table", landmark_table({face, moved}));
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const TableView out = r.table("table");
  ASSERT_EQ(out.feature_names().size(), 136u);
  EXPECT_EQ(out.feature_names().front(), "x0");
  EXPECT_EQ(out.feature_names()[68], "y0");
  EXPECT_EQ(out.get("id").text(0), "s0");
  for (int64_t i = 0; i < 2; ++i) {
    double sx = 0, sy = 0;
    for (int k = 0; k < 68; ++k) {
      sx += out.get("x" + std::to_string(k)).number(i);
      sy += out.get("y" + std::to_string(k)).number(i);
    }
    EXPECT_NEAR(sx, 0, 1e-9);
    EXPECT_NEAR(sy, 0, 1e-9);
  }
  // Inter-ocular distance of the template is 45 px (eye centres at x = 37.5 and 82.5).
  EXPECT_NEAR(out.get("x45").number(0) - out.get("x36").number(0), 60.0 / 45.0, 1e-12);
  for (const auto& c : out.with_role(MIEN_ROLE_FEATURE)) EXPECT_NEAR(c.number(1), c.number(0), 1e-9) << c.name();

  ComponentRunner<FeaturesLandmarks> raw({{"normalize", false}});
  raw.set_input("table", landmark_table({moved}));
  ASSERT_EQ(raw.run(), MIEN_OK) << raw.error();
  EXPECT_DOUBLE_EQ(raw.table("table").get("x36").number(0), moved[72]);
  EXPECT_DOUBLE_EQ(raw.table("table").get("y36").number(0), moved[73]);
}
