// mien-survey, the tool behind `mien survey summarize`: reads the response files that
// report.survey's page downloads (schema "mien-survey-response" version 1,
// plugins/report/README.md), validates them, and
// computes per-question distributions, means with t-based 95 % confidence intervals, and a
// paired Wilcoxon signed-rank test between two systems per statement and overall.
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

namespace mien::report::survey {

// A problem with one response file (the message starts with the file name).
class SurveyError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// ---- statistics ----
struct MeanCI {
  int n = 0;
  double mean = 0, sd = 0, lo = 0, hi = 0;  // lo/hi NaN when n < 2
};
// Mean, sample standard deviation and the t-based confidence interval.
MeanCI mean_ci(const std::vector<double>& v, double confidence = 0.95);
// Quantile of Student's t with df degrees of freedom (p in (0, 1); Boost.Math).
double t_quantile(double p, double df);

struct Wilcoxon {
  int n_pairs = 0;     // pairs given
  int n_nonzero = 0;   // pairs with a non-zero difference (zeros are dropped: scipy's "wilcox")
  double r_plus = 0, r_minus = 0;
  double statistic = 0;  // min(r_plus, r_minus), as scipy reports for two-sided tests
  double z = 0;          // NaN for the exact method
  double p = 0;          // two-sided; scipy.stats.wilcoxon's defaults (no continuity correction)
  double p_continuity = 0;  // the normal approximation with continuity correction (= p when exact)
  std::string method;    // "exact", "normal", or "none" (no non-zero difference: p is NaN)
};
// Paired two-sided Wilcoxon signed-rank test of x - y. Exact null distribution when there
// are at most 50 non-zero differences, no zeros and no tied |differences|; otherwise the
// normal approximation with the tie correction of the variance (scipy.stats.wilcoxon,
// zero_method="wilcox", method="auto").
Wilcoxon wilcoxon(const std::vector<double>& x, const std::vector<double>& y);

// ---- responses ----
struct Rating {
  std::string system, statement;
  int value = 0;
};
struct Response {
  std::string file, participant, survey_id, title;
  std::vector<std::string> levels;
  std::vector<std::pair<std::string, std::string>> systems;                 // id, name
  std::vector<std::tuple<std::string, std::string, bool>> statements;      // id, text, reverse
  std::vector<std::pair<std::string, std::string>> comparisons_asked;      // id, text
  std::map<std::pair<std::string, std::string>, int> ratings;              // (system, statement) -> 1..L
  std::map<std::string, std::string> comparisons;                          // question -> system id or "none"
  int attention_items = 0, attention_failed = 0;
};
// Reads and validates one file; throws SurveyError naming the file and what is wrong.
Response read_response(const std::string& path);
Response parse_response(const nlohmann::json& j, const std::string& file);

struct StatementStats {
  std::string id, text;
  bool reverse = false;
  std::string system;
  std::vector<int> counts;  // per level 1..L (empty for "overall")
  MeanCI stats;
};
struct PairTest {
  std::string id, text, system_a, system_b;
  double mean_a = 0, mean_b = 0, median_difference = 0;
  Wilcoxon test;
};
struct ComparisonStats {
  std::string id, text;
  int n = 0;
  std::vector<std::pair<std::string, int>> counts;  // choice (system id or "none") -> count
};
struct Summary {
  std::string survey_id, title;
  std::vector<std::string> levels;
  std::vector<std::pair<std::string, std::string>> systems;
  std::vector<std::tuple<std::string, std::string, std::string>> participants;  // file, participant, "" or exclusion reason
  int included = 0;
  std::vector<StatementStats> statements;  // per statement and system, then "overall" per system
  std::vector<PairTest> tests;             // per statement, then "overall" (first two systems)
  std::vector<ComparisonStats> comparisons;
};
// All files must answer the same questionnaire (survey id) and name distinct participants.
// Participants who failed an attention check are excluded (and listed).
Summary summarize(const std::vector<Response>& responses);

// summary.csv, wilcoxon.csv, comparisons.csv, participants.csv and summary.html in dir.
void write_summary(const Summary& s, const std::string& dir);
// The short table printed on the terminal.
std::string summary_table(const Summary& s);

// `mien survey ...` (args after "survey"); returns the exit code.
int survey_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace mien::report::survey
