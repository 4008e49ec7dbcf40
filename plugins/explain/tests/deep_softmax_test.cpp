// Deep SHAP's softmax rule (README "Deep SHAP on softmax outputs"): for each reference, the
// multipliers of p_c with respect to the logits are the softmax gradient averaged along the
// straight line from the reference's logits to the sample's (plus a correction that makes
// the sum exact), so p_c's change is shared among ALL logits. On a linear -> softmax model
// with one reference this is integrated gradients in logit space, and a feature that only
// raises a competing logit gets a negative attribution (shap's element-wise rule, which uses
// only logit c, would give it exactly zero).
#include "test_support.hpp"

using namespace explain_test;
using namespace mien::explain;

namespace {

std::vector<double> softmax(const std::vector<double>& z) {
  double m = -1e300, s = 0;
  for (double v : z) m = std::max(m, v);
  std::vector<double> p(z.size());
  for (size_t k = 0; k < z.size(); ++k) s += (p[k] = std::exp(z[k] - m));
  for (double& v : p) v /= s;
  return p;
}

}  // namespace

TEST(DeepSoftmax, SharesTheClassProbabilityAmongAllLogitsLikeIntegratedGradients) {
  Mlp::Spec spec;
  spec.inputs = 3;
  spec.hidden = {};  // one linear layer, then softmax
  spec.classes = 3;
  spec.seed = 4;
  Mlp model(spec);
  // feature k moves logit k only
  const double wdiag[3] = {1.5, 2.0, -1.0};
  for (int64_t o = 0; o < 3; ++o)
    for (int64_t i = 0; i < 3; ++i) model.weight(0, o, i) = o == i ? static_cast<float>(wdiag[i]) : 0.0f;
  model.transpose();
  const std::vector<float> xs = {0.8f, 0.6f, 0.5f}, bg = {-0.2f, -0.3f, 0.1f};
  auto r = run<DeepShap>(Json{{"target", "class"}, {"class", "c0"}}, model, xs, bg);
  ASSERT_EQ(r->run(), MIEN_OK) << r->error();
  const auto phi = features_of(r->table("attributions"));
  ASSERT_EQ(phi.size(), 3u);

  // Reference: integrated gradients of p_0 along z(t) = z_b + t (z_x - z_b), midpoint rule.
  // The float32 weights and inputs, widened, as the model's layer description gives them.
  std::vector<double> zx(3), zb(3), dz(3);
  const auto& info = model.ref()->info_json;
  const Json layers = Json::parse(info)["layers"];
  const auto b = layers[0]["bias"].get<std::vector<double>>();
  for (int k = 0; k < 3; ++k) {
    const double w = static_cast<float>(wdiag[k]);
    zx[k] = b[k] + w * static_cast<double>(xs[k]);
    zb[k] = b[k] + w * static_cast<double>(bg[k]);
    dz[k] = zx[k] - zb[k];
  }
  std::vector<double> ig(3, 0.0);
  const int steps = 20000;
  for (int s = 0; s < steps; ++s) {
    const double t = (s + 0.5) / steps;
    std::vector<double> z(3);
    for (int k = 0; k < 3; ++k) z[k] = zb[k] + t * dz[k];
    const auto p = softmax(z);
    for (int k = 0; k < 3; ++k) ig[k] += p[0] * ((k == 0 ? 1.0 : 0.0) - p[k]) * dz[k] / steps;
  }
  for (int k = 0; k < 3; ++k) EXPECT_NEAR(phi[k], ig[k], 1e-7) << "feature " << k;
  // Coupling: raising the competing logit 1 (w > 0, x above the reference) lowers p_0;
  // lowering logit 2 raises it. The element-wise rule would give both exactly 0.
  EXPECT_LT(phi[1], -1e-3);
  EXPECT_GT(phi[2], 1e-3);
  // Efficiency: the three shares add up to p_0(x) - p_0(b).
  EXPECT_NEAR(phi[0] + phi[1] + phi[2], softmax(zx)[0] - softmax(zb)[0], 1e-12);
}
