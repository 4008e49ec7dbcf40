// mien-survey (`mien survey summarize`): see survey_summary.hpp.
#include "survey_summary.hpp"

#include <boost/math/distributions/students_t.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <numeric>
#include <set>
#include <sstream>

namespace mien::report::survey {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Writes through a temporary file and a rename, so a reader never sees half a file.
void write_file_atomic(const std::string& path, const std::string& content) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f << content;
    f.close();
    if (!f) throw std::runtime_error("cannot write " + path);
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp, ec);
    throw std::runtime_error("cannot write " + path);
  }
}

}  // namespace

// ================================================================= statistics
double t_quantile(double p, double df) {
  if (!(p > 0 && p < 1) || !(df > 0)) return kNaN;
  return boost::math::quantile(boost::math::students_t_distribution<double>(df), p);
}

MeanCI mean_ci(const std::vector<double>& v, double confidence) {
  MeanCI r;
  r.n = static_cast<int>(v.size());
  r.lo = r.hi = kNaN;
  if (v.empty()) {
    r.mean = r.sd = kNaN;
    return r;
  }
  r.mean = std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
  if (v.size() < 2) {
    r.sd = kNaN;
    return r;
  }
  double ss = 0;
  for (double x : v) ss += (x - r.mean) * (x - r.mean);
  r.sd = std::sqrt(ss / static_cast<double>(v.size() - 1));
  const double half = t_quantile(0.5 + confidence / 2, static_cast<double>(v.size() - 1)) * r.sd / std::sqrt(static_cast<double>(v.size()));
  r.lo = r.mean - half;
  r.hi = r.mean + half;
  return r;
}

Wilcoxon wilcoxon(const std::vector<double>& x, const std::vector<double>& y) {
  if (x.size() != y.size()) throw std::invalid_argument("wilcoxon: x and y differ in length");
  Wilcoxon w;
  w.n_pairs = static_cast<int>(x.size());
  std::vector<double> d;
  for (size_t i = 0; i < x.size(); ++i)
    if (x[i] - y[i] != 0) d.push_back(x[i] - y[i]);
  const int n = static_cast<int>(d.size());
  w.n_nonzero = n;
  w.z = kNaN;
  if (n == 0) {
    w.p = w.p_continuity = w.statistic = kNaN;
    w.method = "none";
    return w;
  }
  // Average ranks of |d|.
  std::vector<size_t> order(d.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return std::fabs(d[a]) < std::fabs(d[b]); });
  std::vector<double> rank(d.size());
  std::vector<int> ties;  // sizes of tie groups > 1
  for (size_t i = 0; i < order.size();) {
    size_t j = i;
    while (j + 1 < order.size() && std::fabs(d[order[j + 1]]) == std::fabs(d[order[i]])) ++j;
    const double r = 0.5 * static_cast<double>(i + j) + 1;
    for (size_t k = i; k <= j; ++k) rank[order[k]] = r;
    if (j > i) ties.push_back(static_cast<int>(j - i + 1));
    i = j + 1;
  }
  for (size_t i = 0; i < d.size(); ++i) (d[i] > 0 ? w.r_plus : w.r_minus) += rank[i];
  w.statistic = std::min(w.r_plus, w.r_minus);
  const bool zeros = n < w.n_pairs;
  const double nn = n;
  const double mean = nn * (nn + 1) / 4;
  // Normal approximation, tie-corrected variance (also the continuity-corrected p).
  double var = nn * (nn + 1) * (2 * nn + 1);
  for (int t : ties) var -= 0.5 * t * (static_cast<double>(t) * t - 1);
  const double se = std::sqrt(var / 24);
  auto normal_p = [&](bool continuity) {
    const double diff = w.statistic - mean;
    const double c = continuity ? 0.5 * ((diff > 0) - (diff < 0)) : 0.0;
    const double z = se > 0 ? (diff - c) / se : 0.0;
    return std::make_pair(z, std::min(1.0, std::erfc(std::fabs(z) / std::sqrt(2.0))));
  };
  if (n <= 50 && !zeros && ties.empty()) {
    // Exact: counts of subsets of {1..n} by rank sum.
    const int maxsum = n * (n + 1) / 2;
    std::vector<double> cnt(static_cast<size_t>(maxsum) + 1, 0.0);
    cnt[0] = 1;
    for (int k = 1; k <= n; ++k)
      for (int s = maxsum; s >= k; --s) cnt[static_cast<size_t>(s)] += cnt[static_cast<size_t>(s - k)];
    const double total = std::ldexp(1.0, n);
    const int rp = static_cast<int>(std::lround(w.r_plus));
    double below = 0, above = 0;
    for (int s = 0; s <= maxsum; ++s) {
      if (s <= rp) below += cnt[static_cast<size_t>(s)];
      if (s >= rp) above += cnt[static_cast<size_t>(s)];
    }
    w.p = std::min(1.0, 2 * std::min(below, above) / total);
    w.p_continuity = w.p;
    w.method = "exact";
  } else {
    const auto [z, p] = normal_p(false);
    w.z = z;
    w.p = p;
    w.p_continuity = normal_p(true).second;
    w.method = "normal";
  }
  return w;
}

// ================================================================= responses
namespace {

[[noreturn]] void fail(const std::string& file, const std::string& what) { throw SurveyError(file + ": " + what); }

const json& need(const json& j, const char* key, json::value_t type, const std::string& file, const std::string& where) {
  if (!j.is_object() || !j.contains(key)) fail(file, where + " has no '" + key + "'");
  const json& v = j.at(key);
  const bool ok = type == json::value_t::number_integer ? v.is_number_integer()
                  : type == json::value_t::boolean    ? v.is_boolean()
                  : type == json::value_t::string     ? v.is_string()
                  : type == json::value_t::array      ? v.is_array()
                  : type == json::value_t::object     ? v.is_object()
                                                      : true;
  if (!ok) fail(file, where + "'" + key + "' has the wrong type (" + v.type_name() + ")");
  return v;
}

}  // namespace

Response parse_response(const json& j, const std::string& file) {
  using vt = json::value_t;
  if (!j.is_object()) fail(file, "is not a JSON object (expected a survey response)");
  if (!j.contains("format") || j["format"] != "mien-survey-response")
    fail(file, "is not a survey response (\"format\": \"mien-survey-response\" missing); is it the questionnaire or another file?");
  const json& ver = need(j, "version", vt::number_integer, file, "the response");
  if (ver.get<int64_t>() != 1)
    fail(file, "has response schema version " + ver.dump() + "; this mien reads version 1");
  Response r;
  r.file = file;
  const json& sv = need(j, "survey", vt::object, file, "the response");
  r.survey_id = need(sv, "id", vt::string, file, "survey").get<std::string>();
  if (sv.contains("title") && sv["title"].is_string()) r.title = sv["title"].get<std::string>();
  r.participant = need(j, "participant", vt::string, file, "the response").get<std::string>();
  if (r.participant.empty()) fail(file, "has an empty participant id");
  const json& levels = need(j, "levels", vt::array, file, "the response");
  for (const auto& l : levels) {
    if (!l.is_string()) fail(file, "'levels' must be strings");
    r.levels.push_back(l.get<std::string>());
  }
  if (r.levels.size() < 2) fail(file, "'levels' has fewer than two Likert levels");
  const int L = static_cast<int>(r.levels.size());
  std::set<std::string> sys_ids, st_ids, cmp_ids;
  const json& systems = need(j, "systems", vt::array, file, "the response");
  for (size_t i = 0; i < systems.size(); ++i) {
    const std::string w = "systems[" + std::to_string(i) + "] ";
    const std::string id = need(systems[i], "id", vt::string, file, w).get<std::string>();
    const std::string name = systems[i].contains("name") && systems[i]["name"].is_string() ? systems[i]["name"].get<std::string>() : id;
    if (!sys_ids.insert(id).second || id == "none") fail(file, "system id '" + id + "' is repeated or reserved");
    r.systems.emplace_back(id, name);
  }
  const json& statements = need(j, "statements", vt::array, file, "the response");
  for (size_t i = 0; i < statements.size(); ++i) {
    const std::string w = "statements[" + std::to_string(i) + "] ";
    const std::string id = need(statements[i], "id", vt::string, file, w).get<std::string>();
    const std::string text = need(statements[i], "text", vt::string, file, w).get<std::string>();
    const bool reverse = statements[i].contains("reverse") && statements[i]["reverse"].is_boolean() && statements[i]["reverse"].get<bool>();
    if (!st_ids.insert(id).second) fail(file, "statement id '" + id + "' is repeated");
    r.statements.emplace_back(id, text, reverse);
  }
  if (j.contains("comparisons_asked") && j["comparisons_asked"].is_array()) {
    const json& asked = j["comparisons_asked"];
    for (size_t i = 0; i < asked.size(); ++i) {
      const std::string w = "comparisons_asked[" + std::to_string(i) + "] ";
      const std::string id = need(asked[i], "id", vt::string, file, w).get<std::string>();
      r.comparisons_asked.emplace_back(id, need(asked[i], "text", vt::string, file, w).get<std::string>());
      cmp_ids.insert(id);
    }
  }
  const json& ratings = need(j, "ratings", vt::array, file, "the response");
  for (size_t i = 0; i < ratings.size(); ++i) {
    const std::string w = "ratings[" + std::to_string(i) + "] ";
    const std::string s = need(ratings[i], "system", vt::string, file, w).get<std::string>();
    const std::string st = need(ratings[i], "statement", vt::string, file, w).get<std::string>();
    const json& v = need(ratings[i], "value", vt::number_integer, file, w);
    if (!sys_ids.count(s)) fail(file, w + "names system '" + s + "', which is not in 'systems'");
    if (!st_ids.count(st)) fail(file, w + "names statement '" + st + "', which is not in 'statements'");
    const int64_t value = v.get<int64_t>();
    if (value < 1 || value > L)
      fail(file, w + "has value " + std::to_string(value) + "; Likert values are 1.." + std::to_string(L));
    if (!r.ratings.emplace(std::make_pair(s, st), static_cast<int>(value)).second)
      fail(file, "rates statement '" + st + "' of system '" + s + "' twice");
  }
  if (j.contains("comparisons")) {
    const json& cmp = need(j, "comparisons", vt::array, file, "the response");
    for (size_t i = 0; i < cmp.size(); ++i) {
      const std::string w = "comparisons[" + std::to_string(i) + "] ";
      const std::string q = need(cmp[i], "question", vt::string, file, w).get<std::string>();
      const std::string c = need(cmp[i], "choice", vt::string, file, w).get<std::string>();
      if (!cmp_ids.empty() && !cmp_ids.count(q)) fail(file, w + "answers question '" + q + "', which is not in 'comparisons_asked'");
      if (c != "none" && !sys_ids.count(c)) fail(file, w + "chooses '" + c + "'; choices are the system ids or \"none\"");
      if (!r.comparisons.emplace(q, c).second) fail(file, "answers comparison '" + q + "' twice");
    }
  }
  if (j.contains("attention")) {
    const json& att = need(j, "attention", vt::array, file, "the response");
    for (size_t i = 0; i < att.size(); ++i) {
      const std::string w = "attention[" + std::to_string(i) + "] ";
      // The check is recomputed from expected and value rather than trusted.
      const int64_t expected = need(att[i], "expected", vt::number_integer, file, w).get<int64_t>();
      const json& v = att[i].contains("value") ? att[i]["value"] : json();
      ++r.attention_items;
      if (!v.is_number_integer() || v.get<int64_t>() != expected) ++r.attention_failed;
    }
  }
  return r;
}

Response read_response(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, "cannot be read (does it exist?)");
  std::stringstream ss;
  ss << in.rdbuf();
  json j;
  try {
    j = json::parse(ss.str());
  } catch (const std::exception& e) {
    fail(path, std::string("is not valid JSON: ") + e.what());
  }
  return parse_response(j, path);
}

// ================================================================= summary
Summary summarize(const std::vector<Response>& responses) {
  if (responses.empty()) throw SurveyError("no response files given");
  const Response& first = responses.front();
  Summary s;
  s.survey_id = first.survey_id;
  s.title = first.title;
  s.levels = first.levels;
  s.systems = first.systems;
  std::map<std::string, std::string> seen_participant;
  for (const auto& r : responses) {
    if (r.survey_id != first.survey_id)
      throw SurveyError(r.file + ": answers survey " + r.survey_id + ", but " + first.file + " answers survey " + first.survey_id +
                        "; summarise the responses to one questionnaire at a time");
    if (r.levels != first.levels) throw SurveyError(r.file + ": its Likert levels differ from " + first.file + "'s");
    if (r.statements != first.statements || r.systems != first.systems)
      throw SurveyError(r.file + ": its statements or systems differ from " + first.file + "'s (same survey id: edited by hand?)");
    auto [it, fresh] = seen_participant.emplace(r.participant, r.file);
    if (!fresh)
      throw SurveyError(r.file + ": participant '" + r.participant + "' also answered in " + it->second +
                        "; keep one file per participant");
  }
  std::vector<const Response*> in;
  for (const auto& r : responses) {
    std::string reason;
    if (r.attention_failed > 0)
      reason = "failed " + std::to_string(r.attention_failed) + " of " + std::to_string(r.attention_items) + " attention check(s)";
    s.participants.emplace_back(r.file, r.participant, reason);
    if (reason.empty()) in.push_back(&r);
  }
  s.included = static_cast<int>(in.size());
  const int L = static_cast<int>(s.levels.size());

  // Per statement and system; per participant overall score (reverse-keyed items flipped).
  std::map<std::string, std::map<std::string, double>> overall;  // system -> participant -> mean
  for (const auto& [sid, sname] : s.systems) {
    (void)sname;
    for (const auto& [id, text, reverse] : first.statements) {
      StatementStats st{id, text, reverse, sid, std::vector<int>(static_cast<size_t>(L), 0), {}};
      std::vector<double> v;
      for (const Response* r : in) {
        auto it = r->ratings.find({sid, id});
        if (it == r->ratings.end()) continue;
        v.push_back(it->second);
        ++st.counts[static_cast<size_t>(it->second - 1)];
      }
      st.stats = mean_ci(v);
      s.statements.push_back(st);
    }
    for (const Response* r : in) {
      double sum = 0;
      int n = 0;
      for (const auto& [id, text, reverse] : first.statements) {
        (void)text;
        auto it = r->ratings.find({sid, id});
        if (it == r->ratings.end()) continue;
        sum += reverse ? L + 1 - it->second : it->second;
        ++n;
      }
      if (n > 0) overall[sid][r->participant] = sum / n;
    }
  }
  for (const auto& [sid, sname] : s.systems) {
    (void)sname;
    std::vector<double> v;
    for (const auto& [p, m] : overall[sid]) v.push_back(m);
    s.statements.push_back({"overall", "mean over the statements (reverse-keyed items flipped)", false, sid, {}, mean_ci(v)});
  }

  // Paired tests between the first two systems.
  if (s.systems.size() >= 2) {
    const std::string a = s.systems[0].first, b = s.systems[1].first;
    auto pair_test = [&](const std::string& id, const std::string& text, const std::vector<double>& x, const std::vector<double>& y) {
      PairTest t{id, text, a, b, kNaN, kNaN, kNaN, wilcoxon(x, y)};
      if (!x.empty()) {
        t.mean_a = std::accumulate(x.begin(), x.end(), 0.0) / static_cast<double>(x.size());
        t.mean_b = std::accumulate(y.begin(), y.end(), 0.0) / static_cast<double>(y.size());
        std::vector<double> d;
        for (size_t i = 0; i < x.size(); ++i) d.push_back(x[i] - y[i]);
        std::sort(d.begin(), d.end());
        t.median_difference = d.size() % 2 ? d[d.size() / 2] : 0.5 * (d[d.size() / 2 - 1] + d[d.size() / 2]);
      }
      s.tests.push_back(t);
    };
    for (const auto& [id, text, reverse] : first.statements) {
      (void)reverse;
      std::vector<double> x, y;
      for (const Response* r : in) {
        auto ia = r->ratings.find({a, id}), ib = r->ratings.find({b, id});
        if (ia == r->ratings.end() || ib == r->ratings.end()) continue;
        x.push_back(ia->second);
        y.push_back(ib->second);
      }
      pair_test(id, text, x, y);
    }
    std::vector<double> x, y;
    for (const Response* r : in) {
      auto ia = overall[a].find(r->participant), ib = overall[b].find(r->participant);
      if (ia == overall[a].end() || ib == overall[b].end()) continue;
      x.push_back(ia->second);
      y.push_back(ib->second);
    }
    pair_test("overall", "mean over the statements (reverse-keyed items flipped)", x, y);
  }

  // Comparison questions.
  std::vector<std::pair<std::string, std::string>> asked = first.comparisons_asked;
  for (const auto& r : responses)
    for (const auto& [q, c] : r.comparisons) {
      (void)c;
      if (std::none_of(asked.begin(), asked.end(), [&](const auto& p) { return p.first == q; })) asked.emplace_back(q, q);
    }
  for (const auto& [q, text] : asked) {
    ComparisonStats c{q, text, 0, {}};
    for (const auto& [sid, sname] : s.systems) {
      (void)sname;
      c.counts.emplace_back(sid, 0);
    }
    c.counts.emplace_back("none", 0);
    for (const Response* r : in) {
      auto it = r->comparisons.find(q);
      if (it == r->comparisons.end()) continue;
      ++c.n;
      for (auto& [choice, n] : c.counts)
        if (choice == it->second) ++n;
    }
    s.comparisons.push_back(c);
  }
  return s;
}

// ================================================================= output
namespace {

std::string fmt(double v, int digits = 3) {
  if (!std::isfinite(v)) return "";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}
std::string fmtp(double p) {
  if (!std::isfinite(p)) return "";
  char buf[64];
  std::snprintf(buf, sizeof buf, p < 1e-4 ? "%.3g" : "%.4f", p);
  return buf;
}

std::string csv(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string o = "\"";
  for (char c : s) o += c == '"' ? std::string("\"\"") : std::string(1, c);
  return o + "\"";
}

std::string esc(const std::string& s) {
  std::string o;
  for (char c : s) {
    switch (c) {
      case '&': o += "&amp;"; break;
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '"': o += "&quot;"; break;
      default: o += c;
    }
  }
  return o;
}

std::string name_of(const Summary& s, const std::string& id) {
  for (const auto& [sid, name] : s.systems)
    if (sid == id) return name;
  return id == "none" ? "no difference" : id;
}

// A stacked horizontal bar of the level counts (inline SVG).
std::string stacked_bar(const std::vector<int>& counts, const std::vector<std::string>& levels) {
  static const char* colours[] = {"#b2182b", "#ef8a62", "#d9d9d9", "#67a9cf", "#2166ac", "#053061", "#67001f"};
  int total = 0;
  for (int c : counts) total += c;
  std::ostringstream o;
  o << "<svg width=\"240\" height=\"16\" viewBox=\"0 0 240 16\" role=\"img\">";
  double x = 0;
  for (size_t k = 0; k < counts.size(); ++k) {
    const double w = total ? 240.0 * counts[k] / total : 0;
    // Levels spread over the diverging palette, lowest red, highest blue.
    const size_t ci = counts.size() <= 1 ? 2 : static_cast<size_t>(std::lround(4.0 * k / (counts.size() - 1)));
    if (w > 0)
      o << "<rect x=\"" << fmt(x, 2) << "\" y=\"0\" width=\"" << fmt(w, 2) << "\" height=\"16\" fill=\"" << colours[ci]
        << "\"><title>" << esc(levels[k]) << ": " << counts[k] << "</title></rect>";
    x += w;
  }
  o << "</svg>";
  return o.str();
}

}  // namespace

void write_summary(const Summary& s, const std::string& dir) {
  fs::create_directories(dir);
  const int L = static_cast<int>(s.levels.size());
  {
    std::ostringstream o;
    o << "question,text,reverse,system,n";
    for (int k = 1; k <= L; ++k) o << ",count_" << k;
    o << ",mean,sd,ci95_low,ci95_high\n";
    for (const auto& st : s.statements) {
      o << csv(st.id) << "," << csv(st.text) << "," << (st.reverse ? "true" : "false") << "," << csv(st.system) << "," << st.stats.n;
      for (int k = 0; k < L; ++k) o << "," << (st.counts.empty() ? "" : std::to_string(st.counts[static_cast<size_t>(k)]));
      o << "," << fmt(st.stats.mean, 6) << "," << fmt(st.stats.sd, 6) << "," << fmt(st.stats.lo, 6) << "," << fmt(st.stats.hi, 6) << "\n";
    }
    write_file_atomic(dir + "/summary.csv", o.str());
  }
  {
    std::ostringstream o;
    o << "question,text,system_a,system_b,n_pairs,n_nonzero,mean_a,mean_b,median_difference,statistic,r_plus,r_minus,z,p,"
         "p_continuity,method\n";
    for (const auto& t : s.tests)
      o << csv(t.id) << "," << csv(t.text) << "," << csv(t.system_a) << "," << csv(t.system_b) << "," << t.test.n_pairs << ","
        << t.test.n_nonzero << "," << fmt(t.mean_a, 6) << "," << fmt(t.mean_b, 6) << "," << fmt(t.median_difference, 6) << ","
        << fmt(t.test.statistic, 1) << "," << fmt(t.test.r_plus, 1) << "," << fmt(t.test.r_minus, 1) << "," << fmt(t.test.z, 6)
        << "," << fmt(t.test.p, 8) << "," << fmt(t.test.p_continuity, 8) << "," << t.test.method << "\n";
    write_file_atomic(dir + "/wilcoxon.csv", o.str());
  }
  {
    std::ostringstream o;
    o << "question,text,choice,count,share,n\n";
    for (const auto& c : s.comparisons)
      for (const auto& [choice, n] : c.counts)
        o << csv(c.id) << "," << csv(c.text) << "," << csv(choice) << "," << n << "," << fmt(c.n ? double(n) / c.n : kNaN, 6) << ","
          << c.n << "\n";
    write_file_atomic(dir + "/comparisons.csv", o.str());
  }
  {
    std::ostringstream o;
    o << "file,participant,included,reason\n";
    for (const auto& [file, p, reason] : s.participants)
      o << csv(file) << "," << csv(p) << "," << (reason.empty() ? "true" : "false") << "," << csv(reason) << "\n";
    write_file_atomic(dir + "/participants.csv", o.str());
  }
  // ---- summary.html: self-contained (inline CSS and SVG, no script, no link)
  std::ostringstream h;
  h << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Survey summary: " << esc(s.title)
    << "</title>\n<style>body{font-family:system-ui,sans-serif;margin:24px;color:#222}table{border-collapse:collapse;font-size:13px;"
       "margin:8px 0 18px}td,th{border:1px solid #ddd;padding:3px 8px;text-align:right}th{background:#f2f2f2}td.l,th.l{text-align:"
       "left}.bad{color:#c62828}h2{font-size:18px;margin-top:26px}</style>\n</head>\n<body>\n<h1>Survey summary: "
    << esc(s.title) << "</h1>\n<p>Questionnaire " << esc(s.survey_id) << "; " << s.participants.size() << " response file(s), "
    << s.included << " participant(s) included. Likert levels 1.." << L << ": ";
  for (int k = 0; k < L; ++k) h << (k ? ", " : "") << (k + 1) << " = " << esc(s.levels[static_cast<size_t>(k)]);
  h << ".</p>\n<h2>Participants</h2>\n<table><tr><th class=\"l\">participant</th><th class=\"l\">file</th><th class=\"l\">included</th></tr>";
  for (const auto& [file, p, reason] : s.participants)
    h << "<tr><td class=\"l\">" << esc(p) << "</td><td class=\"l\">" << esc(fs::path(file).filename().string()) << "</td><td class=\"l"
      << (reason.empty() ? "\">yes" : " bad\">no: " + esc(reason)) << "</td></tr>";
  h << "</table>\n<h2>Statements per system</h2>\n<table><tr><th class=\"l\">statement</th><th class=\"l\">system</th><th>n</th>";
  for (int k = 1; k <= L; ++k) h << "<th title=\"" << esc(s.levels[static_cast<size_t>(k - 1)]) << "\">" << k << "</th>";
  h << "<th class=\"l\">distribution</th><th>mean [95% CI]</th></tr>\n";
  for (const auto& st : s.statements) {
    h << "<tr><td class=\"l\">" << esc(st.id == "overall" ? "Overall: " + st.text : st.id + ". " + st.text)
      << (st.reverse ? " <i>(reverse-keyed)</i>" : "") << "</td><td class=\"l\">" << esc(name_of(s, st.system)) << "</td><td>" << st.stats.n
      << "</td>";
    for (int k = 0; k < L; ++k) h << "<td>" << (st.counts.empty() ? "" : std::to_string(st.counts[static_cast<size_t>(k)])) << "</td>";
    h << "<td class=\"l\">" << (st.counts.empty() ? "" : stacked_bar(st.counts, s.levels)) << "</td><td>" << fmt(st.stats.mean, 2);
    if (std::isfinite(st.stats.lo)) h << " [" << fmt(st.stats.lo, 2) << ", " << fmt(st.stats.hi, 2) << "]";
    h << "</td></tr>\n";
  }
  h << "</table>\n";
  if (!s.tests.empty()) {
    h << "<h2>Wilcoxon signed-rank test: " << esc(name_of(s, s.tests[0].system_a)) << " vs " << esc(name_of(s, s.tests[0].system_b))
      << "</h2>\n<p>Paired by participant, two-sided; zero differences dropped; exact p without ties or zeros (n &le; 50), "
         "else the normal approximation with the tie correction (scipy.stats.wilcoxon's defaults; the last column adds the "
         "continuity correction).</p>\n<table><tr><th class=\"l\">statement</th><th>pairs</th><th>non-zero</th><th>mean A</th>"
         "<th>mean B</th><th>median A&minus;B</th><th>W</th><th>z</th><th>p</th><th class=\"l\">method</th><th>p (continuity)</th></tr>\n";
    for (const auto& t : s.tests)
      h << "<tr><td class=\"l\">" << esc(t.id == "overall" ? "Overall" : t.id + ". " + t.text) << "</td><td>" << t.test.n_pairs << "</td><td>"
        << t.test.n_nonzero << "</td><td>" << fmt(t.mean_a, 2) << "</td><td>" << fmt(t.mean_b, 2) << "</td><td>" << fmt(t.median_difference, 2)
        << "</td><td>" << fmt(t.test.statistic, 1) << "</td><td>" << fmt(t.test.z, 3) << "</td><td>" << fmtp(t.test.p)
        << "</td><td class=\"l\">" << t.test.method << "</td><td>" << fmtp(t.test.p_continuity) << "</td></tr>\n";
    h << "</table>\n";
  }
  if (!s.comparisons.empty()) {
    h << "<h2>Comparison questions</h2>\n<table><tr><th class=\"l\">question</th><th>n</th>";
    for (const auto& [choice, n] : s.comparisons[0].counts) {
      (void)n;
      h << "<th>" << esc(name_of(s, choice)) << "</th>";
    }
    h << "</tr>\n";
    for (const auto& c : s.comparisons) {
      h << "<tr><td class=\"l\">" << esc(c.text) << "</td><td>" << c.n << "</td>";
      for (const auto& [choice, n] : c.counts) {
        (void)choice;
        h << "<td>" << n << (c.n ? " (" + fmt(100.0 * n / c.n, 0) + "%)" : "") << "</td>";
      }
      h << "</tr>\n";
    }
    h << "</table>\n";
  }
  h << "<p style=\"color:#777;font-size:12px\">Written by mien survey summarize; also summary.csv, wilcoxon.csv, comparisons.csv, "
       "participants.csv.</p>\n</body>\n</html>\n";
  write_file_atomic(dir + "/summary.html", h.str());
}

std::string summary_table(const Summary& s) {
  std::ostringstream o;
  o << s.included << " of " << s.participants.size() << " participant(s) included";
  int excluded = 0;
  for (const auto& [file, p, reason] : s.participants)
    if (!reason.empty()) o << (excluded++ ? "; " : " (excluded: ") << p << ": " << reason;
  o << (excluded ? ")" : "") << "\n";
  std::vector<std::string> sys;
  for (const auto& [id, name] : s.systems) sys.push_back(id);
  char line[512];
  std::snprintf(line, sizeof line, "%-9s", "item");
  o << line;
  for (const auto& id : sys) {
    std::snprintf(line, sizeof line, "  %-22s", (id.size() > 22 ? id.substr(0, 22) : id).c_str());
    o << line;
  }
  o << (s.tests.empty() ? "" : "  Wilcoxon p") << "\n";
  for (const auto& st : s.statements) {
    if (st.system != sys.front()) continue;
    std::snprintf(line, sizeof line, "%-9s", st.id.c_str());
    o << line;
    for (const auto& id : sys)
      for (const auto& x : s.statements)
        if (x.id == st.id && x.system == id) {
          std::string cell = fmt(x.stats.mean, 2);
          if (std::isfinite(x.stats.lo)) cell += " [" + fmt(x.stats.lo, 2) + ", " + fmt(x.stats.hi, 2) + "]";
          std::snprintf(line, sizeof line, "  %-22s", cell.c_str());
          o << line;
        }
    for (const auto& t : s.tests)
      if (t.id == st.id) o << "  " << (std::isfinite(t.test.p) ? fmtp(t.test.p) + " (" + t.test.method + ")" : "-");
    o << "\n";
  }
  for (const auto& c : s.comparisons) {
    o << c.id << ":";
    for (const auto& [choice, n] : c.counts) o << " " << choice << " " << n;
    o << "  (" << c.text << ")\n";
  }
  return o.str();
}

// ================================================================= command line
namespace {
const char* kHelp = R"(Usage: mien survey summarize RESPONSES.json... [--out DIR]

Reads the response files that report.survey's page downloads (one per participant, schema
"mien-survey-response" version 1), drops participants who failed an attention check, and
writes to DIR (default: the current folder):
  summary.csv       per statement and system: counts per Likert level, mean, sd, 95% CI (t)
  wilcoxon.csv      paired Wilcoxon signed-rank test between the first two systems, per
                    statement and overall (exact or normal approximation, as scipy)
  comparisons.csv   the comparison questions: choices and shares
  participants.csv  who was included, and why not
  summary.html      all of it in one self-contained page
and prints a short table.
)";
}  // namespace

int survey_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    (args.empty() ? err : out) << kHelp;
    return args.empty() ? 2 : 0;
  }
  if (args[0] != "summarize") {
    err << "error: unknown survey command '" << args[0] << "' (the one there is: summarize)\n\n" << kHelp;
    return 2;
  }
  std::vector<std::string> files;
  std::string dir = ".";
  for (size_t i = 1; i < args.size(); ++i) {
    if (args[i] == "--help" || args[i] == "-h") {
      out << kHelp;
      return 0;
    }
    if (args[i] == "--out" || args[i] == "-o") {
      if (i + 1 >= args.size()) {
        err << "error: --out needs a folder\n";
        return 2;
      }
      dir = args[++i];
    } else if (args[i].rfind("--out=", 0) == 0) {
      dir = args[i].substr(6);
    } else if (args[i].rfind("-", 0) == 0) {
      err << "error: unknown option '" << args[i] << "' (see `mien survey summarize --help`)\n";
      return 2;
    } else {
      files.push_back(args[i]);
    }
  }
  if (files.empty()) {
    err << "error: no response files given\n\n" << kHelp;
    return 2;
  }
  try {
    std::vector<Response> responses;
    for (const auto& f : files) responses.push_back(read_response(f));
    const Summary s = summarize(responses);
    write_summary(s, dir);
    out << summary_table(s) << "written: " << (fs::path(dir) / "summary.html").string() << " (+ summary.csv, wilcoxon.csv, comparisons.csv, participants.csv)\n";
    return 0;
  } catch (const SurveyError& e) {
    err << "error: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace mien::report::survey
