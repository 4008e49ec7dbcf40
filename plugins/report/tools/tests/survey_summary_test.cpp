// mien survey summarize: statistics against scipy 1.10 reference values, validation of
// response files, and the written summary.
#include "survey_summary.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <unistd.h>

using namespace mien::report::survey;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream f(p);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// A response: two systems (geo, cam), three statements (s2 reverse-keyed), one comparison.
json response(const std::string& participant, std::vector<int> geo, std::vector<int> cam, const std::string& choice = "geo",
              int attention_value = 4) {
  json r = {{"format", "mien-survey-response"}, {"version", 1}, {"survey", {{"id", "abc123"}, {"title", "unit study"}}},
            {"participant", participant}, {"levels", {"SD", "D", "N", "A", "SA"}},
            {"systems", {{{"id", "geo"}, {"name", "Geometric"}}, {{"id", "cam"}, {"name", "Grad-CAM"}}}},
            {"statements", {{{"id", "s1"}, {"text", "Helps."}, {"reverse", false}},
                            {{"id", "s2"}, {"text", "Too complex."}, {"reverse", true}},
                            {{"id", "s3"}, {"text", "Trust."}, {"reverse", false}}}},
            {"comparisons_asked", {{{"id", "c1"}, {"text", "Which is clearer?"}}}},
            {"ratings", json::array()}, {"comparisons", {{{"question", "c1"}, {"choice", choice}}}},
            {"attention", {{{"system", "geo"}, {"item", 0}, {"expected", 4}, {"value", attention_value}, {"passed", attention_value == 4}}}}};
  for (int k = 0; k < 3; ++k) {
    r["ratings"].push_back({{"system", "geo"}, {"statement", "s" + std::to_string(k + 1)}, {"value", geo[static_cast<size_t>(k)]}});
    r["ratings"].push_back({{"system", "cam"}, {"statement", "s" + std::to_string(k + 1)}, {"value", cam[static_cast<size_t>(k)]}});
  }
  return r;
}

std::string error_of(const json& j, const std::string& file = "p1.json") {
  try {
    parse_response(j, file);
  } catch (const SurveyError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

// Reference values: scipy 1.10.1, scipy.stats.wilcoxon and scipy.stats.t.
TEST(SurveyStats, WilcoxonExactWithoutTies) {
  const std::vector<double> x = {1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30};
  const std::vector<double> y = {0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29};
  const Wilcoxon w = wilcoxon(x, y);
  EXPECT_EQ(w.method, "exact");
  EXPECT_DOUBLE_EQ(w.statistic, 5.0);
  EXPECT_NEAR(w.p, 0.0390625, 1e-12);
  const std::vector<double> d = {6, 8, 14, 16, 23, 24, 28, 29, 41, -48, 49, 56, 60, -67, 75};
  const Wilcoxon w2 = wilcoxon(d, std::vector<double>(d.size(), 0.0));
  EXPECT_EQ(w2.method, "exact");
  EXPECT_DOUBLE_EQ(w2.statistic, 24.0);
  EXPECT_DOUBLE_EQ(w2.r_minus, 24.0);
  EXPECT_DOUBLE_EQ(w2.r_plus, 96.0);
  EXPECT_NEAR(w2.p, 0.041259765625, 1e-12);
  // Symmetric: swapping x and y changes nothing two-sided.
  EXPECT_NEAR(wilcoxon(y, x).p, w.p, 1e-15);
}

TEST(SurveyStats, WilcoxonNormalApproximationWithTiesAndZeros) {
  // Likert data: zeros (dropped) and ties (variance corrected).
  const std::vector<double> a = {4, 5, 3, 4, 4, 5, 2, 4, 5, 3, 4, 4}, b = {3, 3, 3, 2, 4, 4, 2, 2, 3, 3, 1, 4};
  const Wilcoxon w = wilcoxon(a, b);
  EXPECT_EQ(w.method, "normal");
  EXPECT_EQ(w.n_pairs, 12);
  EXPECT_EQ(w.n_nonzero, 7);
  EXPECT_DOUBLE_EQ(w.statistic, 0.0);
  EXPECT_NEAR(w.p, 0.0157641152996124, 1e-12);             // wilcoxon(a, b)
  EXPECT_NEAR(w.p_continuity, 0.019906512248927786, 1e-12);  // wilcoxon(a, b, correction=True)
  // Ties without zeros: the normal approximation (scipy's method="approx"; scipy 1.10's
  // "auto" would use the exact table on the truncated rank sum, 0.6875).
  const Wilcoxon t = wilcoxon({5, 5, 4, 4, 1, 2}, {4, 3, 3, 2, 2, 5});
  EXPECT_EQ(t.method, "normal");
  EXPECT_DOUBLE_EQ(t.statistic, 8.0);
  EXPECT_NEAR(t.p, 0.5950764956239487, 1e-12);
}

TEST(SurveyStats, WilcoxonLargeSampleUsesTheNormalApproximation) {
  const std::vector<double> d = {59, 26, -45, 25, 32, 28, 17, -29, 4, 7, 16, -34, 24, -54, -36, 15, 31, 46, 10, -41,
                                 -53, 21, 1, 57, -8, -23, 58, 40, 18, -20, 56, 38, 5, 22, -30, 2, 12, 48, 44, 51,
                                 -49, 60, -27, 50, -35, 3, -43, -13, -11, 37, -6, -9, -33, -42, 47, -19, 55, -14, 39, 52};
  const Wilcoxon w = wilcoxon(d, std::vector<double>(d.size(), 0.0));
  EXPECT_EQ(w.method, "normal");
  EXPECT_DOUBLE_EQ(w.statistic, 674.0);
  EXPECT_NEAR(w.p, 0.07603895013142359, 1e-12);
}

TEST(SurveyStats, WilcoxonAllEqualHasNoTest) {
  const Wilcoxon w = wilcoxon({3, 4}, {3, 4});
  EXPECT_EQ(w.method, "none");
  EXPECT_TRUE(std::isnan(w.p));
}

TEST(SurveyStats, TQuantilesAndMeanCI) {
  EXPECT_NEAR(t_quantile(0.975, 1), 12.706204736432095, 1e-9);
  EXPECT_NEAR(t_quantile(0.975, 4), 2.7764451051977987, 1e-10);
  EXPECT_NEAR(t_quantile(0.975, 29), 2.045229642132703, 1e-10);
  EXPECT_NEAR(t_quantile(0.975, 200), 1.9718962236316089, 1e-10);
  EXPECT_NEAR(t_quantile(0.025, 4), -2.7764451051977987, 1e-10);
  const MeanCI m = mean_ci({4, 5, 3, 4, 4, 5, 2, 4, 5, 3, 4, 4});
  EXPECT_EQ(m.n, 12);
  EXPECT_NEAR(m.mean, 3.9166666666666665, 1e-12);
  EXPECT_NEAR(m.sd, 0.90033663737852, 1e-12);
  EXPECT_NEAR(m.lo, 3.3446200588854156, 1e-9);
  EXPECT_NEAR(m.hi, 4.4887132744479175, 1e-9);
  EXPECT_TRUE(std::isnan(mean_ci({3}).lo));
}

TEST(SurveyResponses, ValidationNamesTheFileAndTheProblem) {
  EXPECT_EQ(error_of(response("p1", {4, 2, 4}, {3, 3, 3})), "");
  json j = response("p1", {4, 2, 4}, {3, 3, 3});
  j["version"] = 2;
  EXPECT_NE(error_of(j).find("p1.json: has response schema version 2; this mien reads version 1"), std::string::npos);
  j = response("p1", {4, 2, 4}, {3, 3, 3});
  j["ratings"][0]["value"] = 6;
  EXPECT_NE(error_of(j).find("p1.json: ratings[0] has value 6; Likert values are 1..5"), std::string::npos) << error_of(j);
  j = response("p1", {4, 2, 4}, {3, 3, 3});
  j["ratings"][1]["system"] = "lime";
  EXPECT_NE(error_of(j).find("system 'lime'"), std::string::npos);
  j = response("p1", {4, 2, 4}, {3, 3, 3});
  j["comparisons"][0]["choice"] = "both";
  EXPECT_NE(error_of(j).find("chooses 'both'"), std::string::npos);
  j = response("p1", {4, 2, 4}, {3, 3, 3});
  j.erase("participant");
  EXPECT_NE(error_of(j).find("no 'participant'"), std::string::npos);
  EXPECT_NE(error_of(json{{"format", "mien-survey"}}).find("not a survey response"), std::string::npos);
  const fs::path dir = fs::temp_directory_path() / ("mien_survey_bad_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  { std::ofstream(dir / "broken.json") << "{\"format\": "; }
  try {
    read_response((dir / "broken.json").string());
    ADD_FAILURE() << "no error";
  } catch (const SurveyError& e) {
    EXPECT_NE(std::string(e.what()).find("broken.json: is not valid JSON"), std::string::npos) << e.what();
  }
  fs::remove_all(dir);
}

TEST(SurveySummary, DistributionsTestsAttentionAndFiles) {
  std::vector<Response> rs;
  // Five attentive participants prefer geo; one fails the attention check (and would pull
  // the other way).
  rs.push_back(parse_response(response("p1", {5, 1, 5}, {3, 3, 2}), "p1.json"));
  rs.push_back(parse_response(response("p2", {4, 2, 4}, {2, 4, 3}), "p2.json"));
  rs.push_back(parse_response(response("p3", {5, 2, 4}, {4, 2, 3}, "none"), "p3.json"));
  rs.push_back(parse_response(response("p4", {4, 1, 5}, {1, 5, 2}), "p4.json"));
  rs.push_back(parse_response(response("p5", {3, 3, 3}, {3, 4, 1}, "cam"), "p5.json"));
  rs.push_back(parse_response(response("bad", {1, 5, 1}, {5, 1, 5}, "cam", 2), "bad.json"));
  const Summary s = summarize(rs);
  EXPECT_EQ(s.included, 5);
  ASSERT_EQ(s.participants.size(), 6u);
  EXPECT_EQ(std::get<2>(s.participants[5]), "failed 1 of 1 attention check(s)");
  // s1 / geo: values 5 4 5 4 3 -> counts [0 0 1 2 2], mean 4.2.
  const StatementStats& g1 = s.statements[0];
  EXPECT_EQ(g1.id, "s1");
  EXPECT_EQ(g1.system, "geo");
  EXPECT_EQ(g1.counts, (std::vector<int>{0, 0, 1, 2, 2}));
  EXPECT_NEAR(g1.stats.mean, 4.2, 1e-12);
  // scipy: t.interval(0.95, 4, loc=4.2, scale=sd/sqrt(5)), sd = 0.8366600265340756
  EXPECT_NEAR(g1.stats.lo, 4.2 - 2.7764451051977987 * 0.8366600265340756 / std::sqrt(5.0), 1e-9);
  // Overall per participant, s2 reversed (6 - v): p1 geo (5+5+5)/3 = 5.
  const StatementStats* overall_geo = nullptr;
  for (const auto& st : s.statements)
    if (st.id == "overall" && st.system == "geo") overall_geo = &st;
  ASSERT_NE(overall_geo, nullptr);
  // geo overall: p1 5, p2 4, p3 (5+4+4)/3, p4 (4+5+5)/3, p5 3
  EXPECT_NEAR(overall_geo->stats.mean, (5 + 4 + 13.0 / 3 + 14.0 / 3 + 3) / 5, 1e-12);
  // s1 geo vs cam: differences 2 2 1 3 0 -> zero dropped, ties -> normal approximation.
  ASSERT_EQ(s.tests.size(), 4u);
  EXPECT_EQ(s.tests[0].id, "s1");
  EXPECT_EQ(s.tests[0].test.n_pairs, 5);
  EXPECT_EQ(s.tests[0].test.n_nonzero, 4);
  EXPECT_EQ(s.tests[0].test.method, "normal");
  EXPECT_NEAR(s.tests[0].test.p, wilcoxon({5, 4, 5, 4, 3}, {3, 2, 4, 1, 3}).p, 1e-15);
  EXPECT_EQ(s.tests[3].id, "overall");
  // Comparisons: geo 2, cam 1, none 1 among the 5 included... p1 p2 p4 geo, p3 none, p5 cam.
  ASSERT_EQ(s.comparisons.size(), 1u);
  EXPECT_EQ(s.comparisons[0].n, 5);
  EXPECT_EQ(s.comparisons[0].counts, (std::vector<std::pair<std::string, int>>{{"geo", 3}, {"cam", 1}, {"none", 1}}));

  const fs::path dir = fs::temp_directory_path() / ("mien_survey_out_" + std::to_string(::getpid()));
  write_summary(s, dir.string());
  const std::string csv = slurp(dir / "summary.csv");
  EXPECT_EQ(csv.substr(0, csv.find('\n')), "question,text,reverse,system,n,count_1,count_2,count_3,count_4,count_5,mean,sd,ci95_low,ci95_high");
  EXPECT_NE(csv.find("s1,Helps.,false,geo,5,0,0,1,2,2,4.200000,0.836660,"), std::string::npos) << csv;
  const std::string wc = slurp(dir / "wilcoxon.csv");
  EXPECT_NE(wc.find("s1,Helps.,geo,cam,5,4,"), std::string::npos) << wc;
  EXPECT_NE(slurp(dir / "participants.csv").find("bad.json,bad,false,failed 1 of 1 attention check(s)"), std::string::npos);
  EXPECT_NE(slurp(dir / "comparisons.csv").find("c1,Which is clearer?,geo,3,0.600000,5"), std::string::npos);
  const std::string html = slurp(dir / "summary.html");
  for (const char* part : {"<h2>Participants</h2>", "<h2>Statements per system</h2>", "<h2>Wilcoxon signed-rank test: Geometric vs Grad-CAM",
                           "<h2>Comparison questions</h2>", "<svg", "failed 1 of 1 attention check(s)"})
    EXPECT_NE(html.find(part), std::string::npos) << part;
  EXPECT_EQ(html.find("http"), std::string::npos);
  EXPECT_NE(summary_table(s).find("5 of 6 participant(s) included"), std::string::npos);
  fs::remove_all(dir);
}

TEST(SurveySummary, RefusesMixedSurveysAndRepeatedParticipants) {
  std::vector<Response> rs = {parse_response(response("p1", {4, 2, 4}, {3, 3, 3}), "a.json"),
                              parse_response(response("p1", {4, 2, 4}, {3, 3, 3}), "b.json")};
  try {
    summarize(rs);
    ADD_FAILURE();
  } catch (const SurveyError& e) {
    EXPECT_NE(std::string(e.what()).find("b.json: participant 'p1' also answered in a.json"), std::string::npos) << e.what();
  }
  json other = response("p2", {4, 2, 4}, {3, 3, 3});
  other["survey"]["id"] = "zzz";
  rs[1] = parse_response(other, "b.json");
  try {
    summarize(rs);
    ADD_FAILURE();
  } catch (const SurveyError& e) {
    EXPECT_NE(std::string(e.what()).find("b.json: answers survey zzz, but a.json answers survey abc123"), std::string::npos) << e.what();
  }
}

TEST(SurveyCli, UsageAndExitCodes) {
  std::ostringstream out, err;
  EXPECT_EQ(survey_command({"summarize", "--help"}, out, err), 0);
  EXPECT_NE(out.str().find("mien survey summarize"), std::string::npos);
  EXPECT_EQ(survey_command({"summarise"}, out, err), 2);
  EXPECT_EQ(survey_command({"summarize"}, out, err), 2);
  std::ostringstream e2;
  EXPECT_EQ(survey_command({"summarize", "/nonexistent/r.json"}, out, e2), 1);
  EXPECT_NE(e2.str().find("/nonexistent/r.json: cannot be read"), std::string::npos);
}
