// Properties on random ReLU MLPs evaluated in plain C++: efficiency, symmetry, dummy,
// convergence of the sampling estimators to the exact values, calibrated standard errors,
// Deep SHAP's exact efficiency on the paper's architectures, determinism.
#include "test_support.hpp"

using namespace explain_test;
using namespace mien::explain;

namespace {

Mlp::Spec small_spec(int64_t M = 6, uint64_t seed = 3) {
  Mlp::Spec s;
  s.inputs = M;
  s.hidden = {8};
  s.classes = 3;
  s.seed = seed;
  s.weight_scale = 2.0;
  return s;
}

template <typename C>
mien::TableView run_ok(std::unique_ptr<Runner<C>>& r) {
  EXPECT_EQ(r->run(), MIEN_OK) << r->error();
  return r->table("attributions");
}

// Per-element |a - b| statistics.
struct ErrStats {
  double max = 0, mean = 0;
};
ErrStats err(const std::vector<double>& a, const std::vector<double>& b) {
  ErrStats e;
  for (size_t i = 0; i < a.size(); ++i) {
    const double d = std::fabs(a[i] - b[i]);
    e.max = std::max(e.max, d);
    e.mean += d / static_cast<double>(a.size());
  }
  return e;
}

}  // namespace

TEST(Mlp, EveryMethodIsEfficient) {
  Mlp model(small_spec());
  const auto xs = random_rows(5, 6, 21), bg = random_rows(20, 6, 22);
  const Json all{{"target", "all"}};
  {
    auto r = run<ExactShapley>(all, model, xs, bg);
    EXPECT_LT(efficiency_error(run_ok(r)), 1e-6);
  }
  {
    auto r = run<KernelShap>(Json{{"target", "all"}, {"nsamples", 20}}, model, xs, bg);
    EXPECT_LT(efficiency_error(run_ok(r)), 1e-6);
  }
  {
    auto r = run<PermutationShap>(Json{{"target", "all"}, {"permutations", 2}}, model, xs, bg);
    EXPECT_LT(efficiency_error(run_ok(r)), 1e-6);
  }
  for (const char* out : {"probability", "logit"}) {
    auto r = run<DeepShap>(Json{{"target", "all"}, {"output", out}}, model, xs, bg);
    const auto t = run_ok(r);
    EXPECT_LT(efficiency_error(t), 1e-12) << out;
    EXPECT_LT(t.meta()["max_efficiency_error"].get<double>(), 1e-12);
  }
  {
    // IG explains the logit (the model's score); its convergence delta is the quadrature
    // error over the ReLU kinks and shrinks with the number of steps.
    auto r = run<IntegratedGradients>(Json{{"target", "all"}, {"steps", 256}, {"baseline", "rows"}}, model, xs, bg);
    const auto t = run_ok(r);
    for (double d : column(t, "convergence_delta")) EXPECT_LT(std::fabs(d), 5e-3);
    EXPECT_LT(efficiency_error(t), 5e-3);
  }
}

TEST(Mlp, KernelShapWithEveryCoalitionEqualsExact) {
  Mlp model(small_spec());
  const auto xs = random_rows(5, 6, 21), bg = random_rows(20, 6, 22);
  auto e = run<ExactShapley>(Json{{"target", "all"}}, model, xs, bg);
  auto k = run<KernelShap>(Json{{"target", "all"}}, model, xs, bg);  // auto budget >= 2^6 - 2
  const auto kt = run_ok(k);
  EXPECT_LT(max_abs_diff(features_of(run_ok(e)), features_of(kt)), 1e-9);
  for (double s : features_of(k->table("standard_errors"))) EXPECT_EQ(s, 0.0);
}

TEST(Mlp, SymmetricFeaturesGetEqualValues) {
  Mlp model(small_spec());
  for (int64_t o = 0; o < 8; ++o) model.weight(0, o, 1) = model.weight(0, o, 0);
  model.transpose();
  auto xs = random_rows(5, 6, 31), bg = random_rows(20, 6, 32);
  for (size_t i = 0; i < xs.size(); i += 6) xs[i + 1] = xs[i];
  for (size_t i = 0; i < bg.size(); i += 6) bg[i + 1] = bg[i];
  auto check = [](const mien::TableView& t, double tol, const char* what) {
    const auto f = features_of(t);
    for (int64_t i = 0; i < t.num_rows(); ++i) EXPECT_NEAR(f[i * 6], f[i * 6 + 1], tol) << what;
  };
  const Json all{{"target", "all"}};
  auto e = run<ExactShapley>(all, model, xs, bg);
  // Swapping the two features reorders the model's float32 sums: equal to float32 rounding.
  check(run_ok(e), 1e-6, "exact");
  auto k = run<KernelShap>(all, model, xs, bg);
  check(run_ok(k), 1e-6, "kernel");
  auto dp = run<DeepShap>(all, model, xs, bg);
  check(run_ok(dp), 1e-12, "deep");
  auto ig = run<IntegratedGradients>(all, model, xs, bg);
  check(run_ok(ig), 1e-9, "ig");
  auto oc = run<Occlusion>(Json{{"target", "all"}, {"baseline", "rows"}}, model, xs, bg);
  check(run_ok(oc), 1e-6, "occlusion");
}

TEST(Mlp, DummyFeatureGetsZero) {
  Mlp model(small_spec());
  for (int64_t o = 0; o < 8; ++o) model.weight(0, o, 2) = 0.0f;
  model.transpose();
  const auto xs = random_rows(5, 6, 41), bg = random_rows(20, 6, 42);
  auto check = [](const mien::TableView& t, double tol, const char* what) {
    const auto f = features_of(t);
    for (int64_t i = 0; i < t.num_rows(); ++i) EXPECT_LE(std::fabs(f[i * 6 + 2]), tol) << what;
  };
  const Json all{{"target", "all"}};
  auto e = run<ExactShapley>(all, model, xs, bg);
  check(run_ok(e), 0.0, "exact");
  auto p = run<PermutationShap>(all, model, xs, bg);
  check(run_ok(p), 0.0, "permutation");
  // Kernel SHAP: exact when every coalition is evaluated (sampled, only in expectation).
  auto k = run<KernelShap>(Json{{"target", "all"}}, model, xs, bg);
  check(run_ok(k), 1e-7, "kernel");
  auto dp = run<DeepShap>(all, model, xs, bg);
  check(run_ok(dp), 0.0, "deep");
  auto ig = run<IntegratedGradients>(all, model, xs, bg);
  check(run_ok(ig), 0.0, "ig");
  auto gs = run<GradientShap>(all, model, xs, bg);
  check(run_ok(gs), 0.0, "gradient_shap");
  auto oc = run<Occlusion>(all, model, xs, bg);
  check(run_ok(oc), 0.0, "occlusion");
  auto li = run<Lime>(Json{{"target", "all"}, {"num_samples", 500}}, model, xs, bg);
  check(run_ok(li), 0.05, "lime");
}

TEST(Mlp, SamplingEstimatorsConvergeToExact) {
  auto spec = small_spec(10, 5);
  spec.weight_scale = 1.0;
  Mlp model(spec);
  const auto xs = random_rows(4, 10, 51), bg = random_rows(10, 10, 52);
  auto e = run<ExactShapley>(Json::object(), model, xs, bg);
  const auto exact = features_of(run_ok(e));
  std::vector<ErrStats> ke, pe;
  for (int budget : {40, 200, 1000}) {
    auto k = run<KernelShap>(Json{{"nsamples", budget}}, model, xs, bg);
    ke.push_back(err(features_of(run_ok(k)), exact));
  }
  for (int pairs : {2, 20, 2000}) {
    auto p = run<PermutationShap>(Json{{"permutations", pairs}}, model, xs, bg);
    pe.push_back(err(features_of(run_ok(p)), exact));
  }
  EXPECT_GT(ke[0].mean, ke[1].mean);
  EXPECT_GT(ke[1].mean, ke[2].mean);
  EXPECT_LT(ke[2].max, 1e-3);
  EXPECT_GT(pe[0].mean, pe[1].mean);
  EXPECT_GT(pe[1].mean, pe[2].mean);
  EXPECT_LT(pe[2].max, 1e-3);
  std::cout << "kernel mean error at 40/200/1000 coalitions: " << ke[0].mean << " " << ke[1].mean << " "
            << ke[2].mean << " (max " << ke[2].max << ")\npermutation mean error at 2/20/2000 pairs: " << pe[0].mean
            << " " << pe[1].mean << " " << pe[2].mean << " (max " << pe[2].max << ")\n";
}

TEST(Mlp, StandardErrorsCoverTheTrueError) {
  Mlp model(small_spec(10, 7));
  const auto xs = random_rows(40, 10, 61), bg = random_rows(8, 10, 62);
  auto e = run<ExactShapley>(Json::object(), model, xs, bg);
  const auto exact = features_of(run_ok(e));
  auto coverage = [&](const mien::TableView& est, const mien::TableView& se) {
    const auto v = features_of(est), s = features_of(se);
    int in = 0;
    for (size_t i = 0; i < v.size(); ++i) in += std::fabs(v[i] - exact[i]) <= 2 * s[i];
    return static_cast<double>(in) / static_cast<double>(v.size());
  };
  auto k = run<KernelShap>(Json{{"nsamples", 120}}, model, xs, bg);
  const auto kt = run_ok(k);
  const double kc = coverage(kt, k->table("standard_errors"));
  auto p = run<PermutationShap>(Json{{"permutations", 10}}, model, xs, bg);
  const auto pt = run_ok(p);
  const double pc = coverage(pt, p->table("standard_errors"));
  std::cout << "share within 2 SE: kernel " << kc << ", permutation " << pc << " (400 values each)\n";
  EXPECT_GT(kc, 0.85);
  EXPECT_LT(kc, 0.995);
  EXPECT_GT(pc, 0.85);
  EXPECT_LT(pc, 0.995);
}

// LIME's coefficients estimate the weighted least-squares surrogate of the model around x;
// their sandwich standard errors must cover the distance to that surrogate (approximated by
// a run with 250x the samples) at about the 2-SE rate, over independent seeds. ridge 0: the
// penalty's shrinkage would otherwise differ between the two sample sizes.
TEST(Mlp, LimeStandardErrorsCoverTheTrueError) {
  Mlp model(small_spec(6, 11));
  const auto xs = random_rows(4, 6, 81), bg = random_rows(30, 6, 82);
  auto ref = run<Lime>(Json{{"target", "all"}, {"num_samples", 100000}, {"ridge", 0.0}}, model, xs, bg, 1000);
  const auto truth = features_of(run_ok(ref));
  int in = 0, total = 0;
  double se_sum = 0, err_sum = 0;
  for (uint64_t seed = 1; seed <= 12; ++seed) {
    auto r = run<Lime>(Json{{"target", "all"}, {"num_samples", 400}, {"ridge", 0.0}}, model, xs, bg, seed);
    const auto v = features_of(run_ok(r));
    const auto se = features_of(r->table("standard_errors"));
    ASSERT_EQ(v.size(), truth.size());
    for (size_t i = 0; i < v.size(); ++i) {
      in += std::fabs(v[i] - truth[i]) <= 2 * se[i];
      ++total;
      se_sum += se[i];
      err_sum += std::fabs(v[i] - truth[i]);
    }
  }
  const double share = static_cast<double>(in) / total;
  std::cout << "LIME: share within 2 SE " << share << " (" << total << " values), mean SE " << se_sum / total
            << ", mean |error| " << err_sum / total << "\n";
  EXPECT_GT(share, 0.88);
  EXPECT_LT(share, 0.995);  // SEs that are far too large would pass everything
}

// Gradient SHAP (expected gradients) is a Monte Carlo mean: its standard errors must cover
// the distance to the same estimator at 100x the draws about 95 % of the time.
TEST(Mlp, GradientShapStandardErrorsCoverTheTrueError) {
  Mlp model(small_spec(6, 13));
  const auto xs = random_rows(5, 6, 83), bg = random_rows(30, 6, 84);
  auto ref = run<GradientShap>(Json{{"target", "all"}, {"nsamples", 40000}}, model, xs, bg, 1000);
  const auto truth = features_of(run_ok(ref));
  int in = 0, total = 0;
  for (uint64_t seed = 1; seed <= 10; ++seed) {
    auto r = run<GradientShap>(Json{{"target", "all"}, {"nsamples", 400}}, model, xs, bg, seed);
    const auto v = features_of(run_ok(r));
    const auto se = features_of(r->table("standard_errors"));
    for (size_t i = 0; i < v.size(); ++i, ++total) in += std::fabs(v[i] - truth[i]) <= 2 * se[i];
  }
  const double share = static_cast<double>(in) / total;
  std::cout << "gradient SHAP: share within 2 SE " << share << " (" << total << " values)\n";
  EXPECT_GT(share, 0.88);
  EXPECT_LT(share, 0.995);
}

// Every explainer's meta data carries the wall time and the rows it sent to the model.
TEST(Mlp, EveryExplainerRecordsTimeAndModelRows) {
  Mlp model(small_spec());
  const auto xs = random_rows(3, 6, 91), bg = random_rows(10, 6, 92);
  auto check = [](const mien::TableView& t, int64_t min_rows, const char* who) {
    const Json m = t.meta();
    ASSERT_TRUE(m.contains("seconds")) << who;
    ASSERT_TRUE(m.contains("model_rows")) << who;
    EXPECT_GE(m["seconds"].get<double>(), 0.0) << who;
    EXPECT_LT(m["seconds"].get<double>(), 60.0) << who;
    EXPECT_GE(m["model_rows"].get<int64_t>(), min_rows) << who;
  };
  const int64_t n = 3, b = 10;
  { auto r = run<ExactShapley>(Json::object(), model, xs, bg); check(run_ok(r), n * 60 * b, "exact"); }
  { auto r = run<KernelShap>(Json{{"nsamples", 20}}, model, xs, bg); check(run_ok(r), n + b + n * 20 * b, "kernel"); }
  { auto r = run<PermutationShap>(Json{{"permutations", 2}}, model, xs, bg); check(run_ok(r), n + b, "permutation"); }
  { auto r = run<DeepShap>(Json::object(), model, xs, bg); check(run_ok(r), n, "deep"); }
  {
    auto r = run<IntegratedGradients>(Json{{"steps", 8}}, model, xs, bg);
    check(run_ok(r), n + 8 * n, "ig");
  }
  {
    auto r = run<GradientShap>(Json{{"nsamples", 10}}, model, xs, bg);
    check(run_ok(r), n + 10 * n, "gradient_shap");
    check(r->table("standard_errors"), n + 10 * n, "gradient_shap standard_errors");
  }
  {
    auto r = run<Lime>(Json{{"num_samples", 50}}, model, xs, bg);
    check(run_ok(r), n + 50 * n, "lime");
    check(r->table("standard_errors"), n + 50 * n, "lime standard_errors");
  }
  { auto r = run<Occlusion>(Json::object(), model, xs, bg); check(run_ok(r), n + 6 * n, "occlusion"); }
}

TEST(Mlp, DeepShapIsExactlyEfficientOnThePapersArchitectures) {
  struct Arch {
    std::vector<int64_t> hidden;
    std::vector<double> dropout;
  };
  for (const Arch& a : {Arch{{352, 256}, {0.3, 0.8}}, Arch{{64}, {}}, Arch{{352}, {0.6}}}) {
    Mlp::Spec s;
    s.inputs = 40;
    s.hidden = a.hidden;
    s.dropout = a.dropout;
    s.classes = 7;
    s.affine = true;
    s.seed = 99;
    Mlp model(s);
    const auto xs = random_rows(4, 40, 71, -2, 2), bg = random_rows(30, 40, 72, -2, 2);
    for (const char* out : {"probability", "logit"}) {
      auto r = run<DeepShap>(Json{{"target", "all"}, {"output", out}, {"background_size", 0}}, model, xs, bg);
      const auto t = run_ok(r);
      EXPECT_LT(efficiency_error(t), 1e-5) << out << " " << a.hidden.size();
      EXPECT_LT(efficiency_error(t), 1e-10) << out << " " << a.hidden.size();
      if (std::string(out) == "probability") {
        // output is f(x) from the layer description; it matches the model's float32 predict.
        std::vector<float> p(4 * 7);
        model.predict(xs.data(), 4, p.data());
        const auto o = column(t, "output");
        for (size_t i = 0; i < o.size(); ++i) EXPECT_NEAR(o[i], p[i], 1e-5);
      }
    }
  }
}

// precision: float32 (the backward products in float32) keeps efficiency to 1e-5 on the
// paper's architectures and stays within 1e-5 of the float64 attributions.
TEST(Mlp, DeepShapFloat32IsEfficientTo1e5) {
  Mlp::Spec s;
  s.inputs = 40;
  s.hidden = {352, 256};
  s.dropout = {0.3, 0.8};
  s.classes = 7;
  s.affine = true;
  s.seed = 99;
  Mlp model(s);
  const auto xs = random_rows(6, 40, 73, -2, 2), bg = random_rows(200, 40, 74, -2, 2);
  for (const char* out : {"probability", "logit"}) {
    auto r64 = run<DeepShap>(Json{{"target", "all"}, {"output", out}, {"background_size", 0}}, model, xs, bg);
    auto r32 = run<DeepShap>(
        Json{{"target", "all"}, {"output", out}, {"background_size", 0}, {"precision", "float32"}}, model, xs, bg, 7, 0,
        {}, 2);
    const auto t64 = run_ok(r64), t32 = run_ok(r32);
    EXPECT_LT(efficiency_error(t32), 1e-5) << out;
    EXPECT_LT(max_abs_diff(features_of(t32), features_of(t64)), 1e-5) << out;
    EXPECT_GT(max_abs_diff(features_of(t32), features_of(t64)), 0.0) << out;  // it did run in float32
    EXPECT_EQ(t32.meta()["precision"], "float32");
  }
}

TEST(Mlp, DeepShapDoesNotDependOnThreadsOrBatchSize) {
  Mlp::Spec s;
  s.inputs = 40;
  s.hidden = {352, 256};
  s.classes = 7;
  s.seed = 5;
  Mlp model(s);
  const auto xs = random_rows(6, 40, 81), bg = random_rows(25, 40, 82);
  auto a = run<DeepShap>(Json{{"target", "all"}}, model, xs, bg, 7, 0, {}, 1);
  auto b = run<DeepShap>(Json{{"target", "all"}, {"batch_size", 37}}, model, xs, bg, 7, 0, {}, 2);
  auto c = run<DeepShap>(Json{{"target", "all"}, {"batch_size", 100}}, model, xs, bg, 7, 0, {}, 3);
  const auto fa = features_of(run_ok(a));
  EXPECT_EQ(fa, features_of(run_ok(b)));
  EXPECT_EQ(fa, features_of(run_ok(c)));
}

TEST(Mlp, SamplingIsBitIdenticalAcrossRunsAndBatchSizes) {
  Mlp model(small_spec(8, 9));
  const auto xs = random_rows(5, 8, 91), bg = random_rows(12, 8, 92);
  auto k1 = run<KernelShap>(Json{{"nsamples", 60}}, model, xs, bg, 7);
  auto k2 = run<KernelShap>(Json{{"nsamples", 60}, {"batch_size", 7}}, model, xs, bg, 7, 0, {}, 2);
  auto k3 = run<KernelShap>(Json{{"nsamples", 60}}, model, xs, bg, 8);
  const auto f1 = features_of(run_ok(k1));
  EXPECT_EQ(f1, features_of(run_ok(k2)));
  EXPECT_EQ(features_of(k1->table("standard_errors")), features_of(k2->table("standard_errors")));
  EXPECT_NE(f1, features_of(run_ok(k3)));  // another seed samples other coalitions
  EXPECT_LE(model.max_batch.load(), 4096);
  auto p1 = run<PermutationShap>(Json::object(), model, xs, bg, 7);
  auto p2 = run<PermutationShap>(Json{{"batch_size", 5}}, model, xs, bg, 7);
  EXPECT_EQ(features_of(run_ok(p1)), features_of(run_ok(p2)));
  auto g1 = run<GradientShap>(Json::object(), model, xs, bg, 7);
  auto g2 = run<GradientShap>(Json{{"batch_size", 3}}, model, xs, bg, 7);
  EXPECT_EQ(features_of(run_ok(g1)), features_of(run_ok(g2)));
  auto l1 = run<Lime>(Json{{"num_samples", 300}}, model, xs, bg, 7);
  auto l2 = run<Lime>(Json{{"num_samples", 300}, {"batch_size", 11}}, model, xs, bg, 7);
  EXPECT_EQ(features_of(run_ok(l1)), features_of(run_ok(l2)));
  // Background reduction by k-means is seeded too.
  auto m1 = run<KernelShap>(Json{{"background", "kmeans"}, {"background_size", 4}}, model, xs, bg, 7);
  auto m2 = run<KernelShap>(Json{{"background", "kmeans"}, {"background_size", 4}}, model, xs, bg, 7);
  const auto t1 = run_ok(m1);
  EXPECT_EQ(features_of(t1), features_of(run_ok(m2)));
  EXPECT_EQ(t1.meta()["background_rows"].get<int>(), 4);
}

TEST(Mlp, BatchSizeBoundsEveryModelCall) {
  Mlp model(small_spec(8, 9));
  const auto xs = random_rows(5, 8, 91), bg = random_rows(12, 8, 92);
  auto k = run<KernelShap>(Json{{"nsamples", 60}, {"batch_size", 50}}, model, xs, bg);
  run_ok(k);
  EXPECT_LE(model.max_batch.load(), 50);
  EXPECT_GT(model.calls.load(), 60 * 5 * 12 / 50);
}

TEST(Mlp, GroupedAttributionsKeepTheTotal) {
  Mlp model(small_spec());
  const auto xs = random_rows(5, 6, 21), bg = random_rows(20, 6, 22);
  const Json groups{{"a", {"f0", "f3"}}, {"b", {"f1", "f2", "f5"}}};
  auto e = run<ExactShapley>(Json{{"target", "all"}}, model, xs, bg);
  const auto total = row_sums(run_ok(e));
  for (int kind = 0; kind < 4; ++kind) {
    std::vector<double> got;
    Json p{{"target", "all"}, {"groups", groups}};
    if (kind == 0) {
      auto r = run<ExactShapley>(p, model, xs, bg);
      got = row_sums(run_ok(r));
      EXPECT_EQ(r->table("attributions").feature_names(), (std::vector<std::string>{"a", "b", "f4"}));
    } else if (kind == 1) {
      auto r = run<KernelShap>(p, model, xs, bg);
      got = row_sums(run_ok(r));
    } else if (kind == 2) {
      auto r = run<PermutationShap>(p, model, xs, bg);
      got = row_sums(run_ok(r));
    } else {
      auto r = run<DeepShap>(p, model, xs, bg);
      got = row_sums(run_ok(r));
    }
    EXPECT_LT(max_abs_diff(got, total), 1e-6) << kind;
  }
}
