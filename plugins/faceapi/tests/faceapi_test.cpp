// Tests of model.faceapi_expression (see ../README.md).
#include <gtest/gtest.h>
#include <mien/testing.hpp>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "model_faceapi.hpp"
#include "weights_blob.hpp"

namespace fs = std::filesystem;
using namespace mien::faceapi;
using mien::Json;
using Runner = mien::testing::ComponentRunner<ModelFaceApiExpression>;

namespace {

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Image {
  std::vector<float> px;
  int64_t h = 0, w = 0;
  Batch batch() const { return Batch{px.data(), 1, h, w, 3}; }
};

Image raw_image(const std::string& file, int64_t h, int64_t w) {
  const std::string bytes = read_file(fs::path(MIEN_FACEAPI_TEST_DATA) / file);
  EXPECT_EQ(static_cast<int64_t>(bytes.size()), h * w * 3) << file;
  Image im;
  im.h = h;
  im.w = w;
  for (char c : bytes) im.px.push_back(static_cast<float>(static_cast<unsigned char>(c)));
  return im;
}

// The astronaut's face (box about (179,83)-(266,170)) with a small margin, RGB.
cv::Mat astronaut_face() {
  cv::Mat bgr = cv::imread(MIEN_FACEAPI_ASTRONAUT, cv::IMREAD_COLOR);
  EXPECT_FALSE(bgr.empty());
  cv::Mat rgb;
  cv::cvtColor(bgr(cv::Rect(170, 72, 106, 118)), rgb, cv::COLOR_BGR2RGB);
  return rgb.clone();
}

mien::Tensor u8_tensor(const std::vector<cv::Mat>& imgs) {
  const int h = imgs[0].rows, w = imgs[0].cols, c = imgs[0].channels();
  mien::Tensor t = mien::Tensor::zeros<uint8_t>({static_cast<int64_t>(imgs.size()), h, w, c});
  for (size_t i = 0; i < imgs.size(); ++i)
    std::memcpy(t.data<uint8_t>() + i * static_cast<size_t>(h * w * c), imgs[i].data, static_cast<size_t>(h * w * c));
  return t;
}

std::vector<float> values(const mien::Tensor& t) { return t.view().to_vector<float>(); }

class NullHost {
 public:
  mien::Host host() const { return mien::Host(nullptr, nullptr); }
};

// A small labelled toy set on which the frozen features separate the classes: the
// astronaut's face upright (0), upside down (1) and mirrored + darkened (2), each jittered.
struct Toy {
  std::vector<cv::Mat> images;
  std::vector<int64_t> labels;
};

Toy toy_set(int per_class, uint64_t seed) {
  const cv::Mat face = astronaut_face();
  std::mt19937_64 g(seed);
  Toy t;
  for (int i = 0; i < per_class; ++i)
    for (int c = 0; c < 3; ++c) {
      const int dx = static_cast<int>(g() % 9), dy = static_cast<int>(g() % 9);
      cv::Mat crop = face(cv::Rect(dx, dy, 96, 108)).clone();
      if (c == 1) cv::flip(crop, crop, 0);
      if (c == 2) {
        cv::flip(crop, crop, 1);
        crop.convertTo(crop, -1, 0.6, 0);
      }
      cv::Mat small;
      cv::resize(crop, small, cv::Size(64, 72), 0, 0, cv::INTER_AREA);
      t.images.push_back(small);
      t.labels.push_back(c);
    }
  return t;
}

mien::Table label_table(const std::vector<int64_t>& labels) {
  mien::Table t(static_cast<int64_t>(labels.size()));
  std::vector<std::string> ids;
  for (size_t i = 0; i < labels.size(); ++i) ids.push_back("t" + std::to_string(i));
  t.add_strings("id", MIEN_ROLE_ID, ids);
  t.add_codes("label", MIEN_ROLE_LABEL, labels, {"upright", "flipped", "mirrored"});
  return t;
}

}  // namespace

TEST(FaceApiWeights, EmbeddedCopyIsTheVendoredFile) {
  EXPECT_EQ(embedded_bin(), read_file(fs::path(MIEN_FACEAPI_WEIGHTS) / kBinFile));
  EXPECT_EQ(embedded_manifest(), read_file(fs::path(MIEN_FACEAPI_WEIGHTS) / kManifestFile));
}

TEST(FaceApiKnownAnswer, MatchesTheJavaScriptLibrary) {
  set_compute_threads(1);
  const Json v = Json::parse(read_file(fs::path(MIEN_FACEAPI_TEST_DATA) / "faceapi_vectors.json"));
  ASSERT_EQ(v.at("inputs").size(), 5u);
  const FaceApiNet net = shipped_net(kFaceApiClasses, "");  // face-api's own class order
  for (const auto& in : v.at("inputs")) {
    const Image im = raw_image(in.at("file"), in.at("height"), in.at("width"));
    const auto p = net.probabilities(im.batch());
    const auto l = net.logits(im.batch());
    const auto f = net.features(im.batch());
    const auto jp = in.at("probabilities").get<std::vector<double>>();
    const auto jl = in.at("logits").get<std::vector<double>>();
    const auto jf = in.at("features").get<std::vector<double>>();
    ASSERT_EQ(p.size(), 7u);
    ASSERT_EQ(f.size(), 256u);
    double dp = 0, dl = 0, df = 0;
    for (size_t k = 0; k < 7; ++k) dp = std::max(dp, std::abs(p[k] - jp[k]));
    for (size_t k = 0; k < 7; ++k) dl = std::max(dl, std::abs(l[k] - jl[k]));
    for (size_t k = 0; k < 256; ++k) df = std::max(df, std::abs(f[k] - jf[k]));
    EXPECT_LE(dp, 1e-4) << in.at("name");
    EXPECT_LE(dl, 1e-3) << in.at("name");
    EXPECT_LE(df, 1e-4) << in.at("name");
    RecordProperty(in.at("name").get<std::string>() + "_max_abs_diff_probabilities", std::to_string(dp));
    std::printf("%-16s max |diff|: probabilities %.2e, logits %.2e, features %.2e\n",
                in.at("name").get<std::string>().c_str(), dp, dl, df);
  }
}

TEST(FaceApiComponent, AsShippedArtifactClassifiesTheAstronautHappy) {
  Runner r({{"mode", "as_shipped"}}, 7);
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  EXPECT_EQ(r.table("curve").num_rows(), 0);
  auto m = FaceApiModel::open_dir(r.output_dir("model"), 1);
  const Json info = m->info();
  EXPECT_EQ(info.at("classes"), Json(kCanonicalOrder));
  EXPECT_EQ(info.at("default_cam_layer"), "block3");
  EXPECT_EQ(info.at("cam_layers").size(), 4u);
  const mien::Tensor in = u8_tensor({astronaut_face()});
  const auto p = values(m->predict(in.view(), NullHost().host()));
  ASSERT_EQ(p.size(), 7u);
  const size_t happy = std::find(kCanonicalOrder.begin(), kCanonicalOrder.end(), "happy") - kCanonicalOrder.begin();
  EXPECT_GE(p[happy], 0.9f);
  double sum = 0;
  for (float x : p) sum += x;
  EXPECT_NEAR(sum, 1.0, 1e-5);
  // Gray input of another size is accepted (replicated to RGB).
  cv::Mat gray;
  cv::cvtColor(astronaut_face(), gray, cv::COLOR_RGB2GRAY);
  const auto pg = values(m->predict(u8_tensor({gray}).view(), NullHost().host()));
  EXPECT_EQ(pg.size(), 7u);
}

TEST(FaceApiComponent, ClassSubsetRenormalises) {
  Runner r({{"classes", {"neutral", "happy"}}}, 7);
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  auto m = FaceApiModel::open_dir(r.output_dir("model"), 1);
  EXPECT_EQ(m->info().at("classes"), Json({"neutral", "happy"}));
  const auto p = values(m->predict(u8_tensor({astronaut_face()}).view(), NullHost().host()));
  ASSERT_EQ(p.size(), 2u);
  EXPECT_GT(p[1], 0.9f);
  Runner bad({{"classes", {"joy"}}}, 7);
  EXPECT_NE(bad.run(), MIEN_OK);
  EXPECT_NE(bad.error().find("'joy'"), std::string::npos) << bad.error();
}

TEST(FaceApiWeights, CorruptOrMismatchedWeightsAreNamed) {
  Runner r({{"mode", "as_shipped"}}, 7);
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const fs::path dir = r.output_dir("model");
  const fs::path bin = dir / kBinFile;
  std::string bytes = read_file(bin);
  bytes[1000] = static_cast<char>(bytes[1000] ^ 0x40);
  std::ofstream(bin, std::ios::binary | std::ios::trunc) << bytes;
  try {
    (void)FaceApiModel::open_dir(dir.string(), 1);
    FAIL() << "a corrupt weights file was accepted";
  } catch (const mien::Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(bin.string()), std::string::npos) << msg;
    EXPECT_NE(msg.find(kBinSha256), std::string::npos) << msg;
    EXPECT_NE(msg.find("sha256"), std::string::npos) << msg;
  }
  bytes.resize(1000);
  std::ofstream(bin, std::ios::binary | std::ios::trunc) << bytes;
  try {
    (void)FaceApiModel::open_dir(dir.string(), 1);
    FAIL() << "a truncated weights file was accepted";
  } catch (const mien::Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("1000 bytes, expected 329468"), std::string::npos) << msg;
  }
  // The 'weights' parameter pointing at a folder with a wrong file fails the node.
  Runner w({{"weights", dir.string()}}, 7);
  EXPECT_NE(w.run(), MIEN_OK);
  EXPECT_NE(w.error().find(bin.string()), std::string::npos) << w.error();
  Runner ok({{"weights", MIEN_FACEAPI_WEIGHTS}}, 7);
  EXPECT_EQ(ok.run(), MIEN_OK) << ok.error();
}

TEST(FaceApiModel, GradientsAndLayers) {
  set_compute_threads(1);
  const FaceApiNet net = shipped_net(kCanonicalOrder, "");
  const Image im = raw_image("noise_64x80.rgb", 64, 80);
  const int64_t cls = 5;
  std::vector<float> g, s;
  net.input_gradient(im.batch(), &cls, g, s);
  ASSERT_EQ(g.size(), im.px.size());
  const auto l0 = net.logits(im.batch());
  EXPECT_NEAR(s[0], l0[cls], 1e-4);
  // Directional derivative against a central difference.
  std::mt19937_64 rng(3);
  std::vector<float> d(im.px.size());
  for (float& x : d) x = (rng() % 2) ? 1.0f : -1.0f;
  const float eps = 0.05f;
  Image plus = im, minus = im;
  for (size_t i = 0; i < d.size(); ++i) {
    plus.px[i] += eps * d[i];
    minus.px[i] -= eps * d[i];
  }
  const double fd = (net.logits(plus.batch())[cls] - net.logits(minus.batch())[cls]) / (2.0 * eps);
  double an = 0;
  for (size_t i = 0; i < d.size(); ++i) an += static_cast<double>(g[i]) * d[i];
  EXPECT_NEAR(fd, an, 0.05 * std::abs(an) + 1e-3);
  // Layer gradients: shapes, and Grad-CAM's identity for the last block: the logit minus
  // the bias is sum(activation * gradient) (the head is linear in the pooled features).
  std::vector<float> a, lg, ls;
  std::vector<int64_t> shape;
  net.layer_gradient(3, im.batch(), &cls, a, lg, ls, shape);
  EXPECT_EQ(shape, (std::vector<int64_t>{1, 256, 7, 7}));
  double dot = 0;
  for (size_t i = 0; i < a.size(); ++i) dot += static_cast<double>(a[i]) * lg[i];
  const auto head = net.parameters_of(4);  // [K*256 weights, K biases]
  EXPECT_NEAR(dot + head[7 * 256 + cls], ls[0], 1e-3);
  net.layer_gradient(0, im.batch(), &cls, a, lg, ls, shape);
  EXPECT_EQ(shape, (std::vector<int64_t>{1, 32, 56, 56}));
}

TEST(FaceApiFineTune, ImprovesOverChanceAndKeepsFrozenBlocks) {
  const Toy toy = toy_set(8, 11);
  Runner r({{"mode", "fine_tune"}, {"unfreeze_blocks", 1}, {"epochs", 12}, {"learning_rate", 0.003},
            {"batch_size", 8}, {"validation_split", 0.25}},
           5);
  r.set_input("images", u8_tensor(toy.images), MIEN_PIXEL_RGB);
  r.set_input("table", label_table(toy.labels));
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const auto curve = r.table("curve");
  ASSERT_EQ(curve.num_rows(), 12);
  auto m = FaceApiModel::open_dir(r.output_dir("model"), 1);
  EXPECT_EQ(m->info().at("classes"), Json({"upright", "flipped", "mirrored"}));
  // Fresh images of the same kinds.
  const Toy test = toy_set(5, 99);
  const auto p = values(m->predict(u8_tensor(test.images).view(), NullHost().host()));
  int correct = 0;
  for (size_t i = 0; i < test.labels.size(); ++i) {
    const auto b = p.begin() + static_cast<std::ptrdiff_t>(3 * i);
    correct += (std::max_element(b, b + 3) - b) == test.labels[i];
  }
  EXPECT_GE(correct, 11) << "of 15 (chance: 5)";
  // Blocks 0..2 are bit-identical to the shipped network; block 3 trained.
  const FaceApiNet shipped = shipped_net(kFaceApiClasses, "");
  for (int k = 0; k < 3; ++k) EXPECT_EQ(m->net().parameters_of(k), shipped.parameters_of(k)) << "block " << k;
  EXPECT_NE(m->net().parameters_of(3), shipped.parameters_of(3));
}

TEST(FaceApiFineTune, SeedGivesBitIdenticalModels) {
  const Toy toy = toy_set(4, 1);
  auto train = [&](uint64_t seed) {
    Runner r({{"mode", "fine_tune"}, {"epochs", 3}, {"batch_size", 4}}, seed);
    r.set_input("images", u8_tensor(toy.images), MIEN_PIXEL_RGB);
    r.set_input("table", label_table(toy.labels));
    EXPECT_EQ(r.run(), MIEN_OK) << r.error();
    auto m = FaceApiModel::open_dir(r.output_dir("model"), 1);
    return values(m->predict(u8_tensor(toy.images).view(), NullHost().host()));
  };
  const auto a = train(3), b = train(3), c = train(4);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
}

TEST(FaceApiFineTune, SaveOpenPredictIdentical) {
  set_compute_threads(1);
  const Toy toy = toy_set(3, 2);
  std::vector<float> px;
  for (const auto& im : toy.images)
    for (int i = 0; i < im.rows * im.cols * 3; ++i) px.push_back(im.data[i]);
  const Batch b{px.data(), static_cast<int64_t>(toy.images.size()), 72, 64, 3};
  FaceApiNet net = shipped_net(kFaceApiClasses, "");
  net.new_head(3, 9);
  FineTuneOptions o;
  o.epochs = 2;
  o.batch_size = 4;
  o.unfreeze_blocks = 2;
  (void)net.fine_tune(b, toy.labels, Batch{nullptr, 0, 72, 64, 3}, {}, o, {});
  const fs::path p = fs::temp_directory_path() / ("faceapi_test_" + std::to_string(::getpid()) + ".pt");
  net.save(p.string());
  const FaceApiNet back = FaceApiNet::load(p.string());
  fs::remove(p);
  EXPECT_EQ(net.probabilities(b), back.probabilities(b));
  for (int k = 0; k <= 4; ++k) EXPECT_EQ(net.parameters_of(k), back.parameters_of(k));
}

TEST(FaceApiComponent, FineTuneNeedsImagesAndLabels) {
  Runner r({{"mode", "fine_tune"}}, 1);
  EXPECT_NE(r.run(), MIEN_OK);
  EXPECT_NE(r.error().find("'images'"), std::string::npos) << r.error();
}

TEST(FaceApiComponent, FineTuneIsCancellable) {
  const Toy toy = toy_set(4, 1);
  Runner r({{"mode", "fine_tune"}, {"epochs", 50}, {"batch_size", 2}}, 1);
  r.set_input("images", u8_tensor(toy.images), MIEN_PIXEL_RGB);
  r.set_input("table", label_table(toy.labels));
  r.cancel_after(5);
  EXPECT_EQ(r.run(), MIEN_ERR_CANCELLED);
}

// The model side through the C model vtable, as the host opens it.
TEST(FaceApiModel, ThroughTheModelVtable) {
  Runner r({{"mode", "as_shipped"}}, 7);
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const mien_model_vtable* vt = mien::detail::Adapter<ModelFaceApiExpression>::descriptor()->model;
  ASSERT_NE(vt, nullptr);
  EXPECT_EQ(vt->capabilities, MIEN_CAP_PREDICT | MIEN_CAP_INPUT_GRADIENT | MIEN_CAP_LAYER_GRADIENT);
  static std::string last_error;
  mien_host_api api{};
  api.struct_size = sizeof(api);
  api.set_error = [](mien_call_ctx*, const char* m) { last_error = m ? m : ""; };
  mien_model_handle* h = nullptr;
  ASSERT_EQ(vt->open(&api, nullptr, r.output_dir("model").c_str(), 1, &h), MIEN_OK) << last_error;
  const Json info = Json::parse(vt->info_json(h));
  EXPECT_EQ(info.at("input"), "image");
  const mien::Tensor in = u8_tensor({astronaut_face(), astronaut_face()});
  mien_tensor* probs = nullptr;
  ASSERT_EQ(vt->predict(h, nullptr, in.raw(), &probs), MIEN_OK) << last_error;
  const mien::Tensor p = mien::Tensor::adopt(probs);
  EXPECT_EQ(p.shape(), (std::vector<int64_t>{2, 7}));
  const int64_t cls[2] = {3, 4};
  mien_tensor *a = nullptr, *g = nullptr, *s = nullptr;
  ASSERT_EQ(vt->layer_gradient(h, nullptr, "block2", in.raw(), cls, &a, &g, &s), MIEN_OK) << last_error;
  EXPECT_EQ(mien::Tensor::adopt(a).shape(), (std::vector<int64_t>{2, 128, 14, 14}));
  EXPECT_EQ(mien::Tensor::adopt(g).shape(), (std::vector<int64_t>{2, 128, 14, 14}));
  EXPECT_EQ(mien::Tensor::adopt(s).shape(), (std::vector<int64_t>{2}));
  EXPECT_NE(vt->layer_gradient(h, nullptr, "fc", in.raw(), cls, &a, &g, &s), MIEN_OK);
  EXPECT_NE(last_error.find("block0"), std::string::npos) << last_error;
  mien_tensor *ig = nullptr, *is = nullptr;
  ASSERT_EQ(vt->input_gradient(h, nullptr, in.raw(), cls, &ig, &is), MIEN_OK) << last_error;
  const mien::Tensor grad = mien::Tensor::adopt(ig);
  EXPECT_EQ(grad.shape(), in.shape());
  EXPECT_EQ(grad.dtype(), MIEN_DTYPE_F32);
  mien::Tensor::adopt(is);
  const int64_t bad[2] = {0, 7};
  EXPECT_NE(vt->input_gradient(h, nullptr, in.raw(), bad, &ig, &is), MIEN_OK);
  vt->close(h);
}

TEST(FaceApiFineTune, BgrImagesAreSwappedToRgb) {
  const Toy toy = toy_set(3, 4);
  std::vector<cv::Mat> bgr;
  for (const auto& im : toy.images) {
    cv::Mat b;
    cv::cvtColor(im, b, cv::COLOR_RGB2BGR);
    bgr.push_back(b);
  }
  auto train = [&](const std::vector<cv::Mat>& imgs, mien_pixel_format fmt) {
    Runner r({{"mode", "fine_tune"}, {"epochs", 2}, {"batch_size", 4}}, 8);
    r.set_input("images", u8_tensor(imgs), fmt);
    r.set_input("table", label_table(toy.labels));
    EXPECT_EQ(r.run(), MIEN_OK) << r.error();
    auto m = FaceApiModel::open_dir(r.output_dir("model"), 1);
    return values(m->predict(u8_tensor(toy.images).view(), NullHost().host()));
  };
  EXPECT_EQ(train(toy.images, MIEN_PIXEL_RGB), train(bgr, MIEN_PIXEL_BGR));
}

TEST(FaceApiRandomize, CascadeResetsTheTopLayersOnlyAndTheArtifactReopens) {
  const FaceApiNet shipped = shipped_net(kCanonicalOrder, "");
  auto run = [](Json p) {
    auto r = std::make_unique<Runner>(std::move(p), 3);
    EXPECT_EQ(r->run(), MIEN_OK) << r->error();
    return r;
  };
  auto head_only = run({{"randomize", "cascade"}, {"randomize_layers", 1}});
  auto five = run({{"randomize", "cascade"}, {"randomize_layers", 5}});  // head + block 3
  auto all = run({{"randomize", "all"}});
  auto open = [](Runner& r) { return FaceApiModel::open_dir(r.output_dir("model"), 1); };
  const auto m1 = open(*head_only), m5 = open(*five), ma = open(*all);
  for (int k = 0; k < 4; ++k) EXPECT_EQ(m1->net().parameters_of(k), shipped.parameters_of(k)) << "block " << k;
  EXPECT_NE(m1->net().parameters_of(4), shipped.parameters_of(4));
  for (int k = 0; k < 3; ++k) EXPECT_EQ(m5->net().parameters_of(k), shipped.parameters_of(k)) << "block " << k;
  EXPECT_NE(m5->net().parameters_of(3), shipped.parameters_of(3));
  // Layer i's draw depends on (seed, i) only: the head is the same at every depth.
  EXPECT_EQ(m5->net().parameters_of(4), m1->net().parameters_of(4));
  for (int k = 0; k < 5; ++k) EXPECT_NE(ma->net().parameters_of(k), shipped.parameters_of(k)) << "layer group " << k;
  // Glorot bound of the head (fan_in 256, fan_out 7), zero biases.
  const auto head = ma->net().parameters_of(4);
  const double lim = std::sqrt(6.0 / (256.0 + 7.0));
  for (size_t i = 0; i < 7 * 256; ++i) EXPECT_LE(std::fabs(head[i]), lim + 1e-6);
  for (size_t i = 7 * 256; i < head.size(); ++i) EXPECT_EQ(head[i], 0.0f);
  const Json info = ma->info();
  EXPECT_EQ(info["randomized"]["layers"].size(), 17u);
  EXPECT_EQ(info["randomized"]["layers"][16], "block0.conv0");
  EXPECT_EQ(info["mode"], "as_shipped");
  // Through `source` (how a fine-tuned node's own weights are randomised): a copy of the
  // shipped artifact randomised with the same seed equals the in-node randomisation.
  {
    auto plain = run(Json::object());
    mien::testing::HostedModel src(mien::detail::Adapter<ModelFaceApiExpression>::descriptor(), plain->output_dir("model"));
    ASSERT_EQ(src.status(), MIEN_OK) << src.error();
    Runner r({{"randomize", "cascade"}, {"randomize_layers", 1}}, 3);
    r.set_input("source", src.ref());
    ASSERT_EQ(r.run(), MIEN_OK) << r.error();
    const auto ms = open(r);
    for (int k = 0; k <= 4; ++k) EXPECT_EQ(ms->net().parameters_of(k), m1->net().parameters_of(k)) << k;
    Runner none(Json::object(), 3);
    none.set_input("source", src.ref());
    EXPECT_NE(none.run(), MIEN_OK);
    EXPECT_NE(none.error().find("randomize"), std::string::npos) << none.error();
  }
  // Tampering with the randomised weights is caught like a fine-tuned model's.
  {
    std::ofstream f(std::filesystem::path(all->output_dir("model")) / "weights.pt", std::ios::app | std::ios::binary);
    f << "x";
  }
  EXPECT_THROW(FaceApiModel::open_dir(all->output_dir("model"), 1), mien::Error);
}

namespace {

TEST(FaceApiFineTune, ValidatesOnWholePeopleAndKeepsTheBestEpoch) {
  const Toy toy = toy_set(8, 11);  // 24 images; 6 people of 4 images each
  mien::Table t = label_table(toy.labels);
  std::vector<std::string> subjects;
  for (size_t i = 0; i < toy.labels.size(); ++i) subjects.push_back("p" + std::to_string(i / 4));
  t.add_strings("subject", MIEN_ROLE_GROUP, subjects);
  Runner r({{"mode", "fine_tune"}, {"epochs", 6}, {"batch_size", 8}, {"validation_split", 0.34}}, 5);
  r.set_input("images", u8_tensor(toy.images), MIEN_PIXEL_RGB);
  r.set_input("table", std::move(t));
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const Json meta = Json::parse(read_file(fs::path(r.output_dir("model")) / kArtifactJson));
  const Json& tr = meta.at("training");
  EXPECT_EQ(tr["validation_group"], "subject");
  const auto people = tr["validation_people"].get<std::vector<std::string>>();
  ASSERT_EQ(people.size(), 2u);  // round(0.34 * 6)
  // all 4 images of each held-out person, and only theirs, are validation images
  EXPECT_EQ(tr["validation_images"], 8);
  EXPECT_EQ(tr["train_images"], 16);
  // the kept epoch is the one with the lowest validation loss
  const auto curve = r.table("curve");
  const auto vl = curve.get("val_loss").numbers();
  const int64_t best = tr["best_epoch"];
  EXPECT_EQ(vl[static_cast<size_t>(best - 1)], *std::min_element(vl.begin(), vl.end()));
  EXPECT_EQ(r.json("model")["best_epoch"], best);
}

}  // namespace

// ---- the resize rule (tfjs = face-api.js's own, bilinear = OpenCV's INTER_LINEAR) ----

namespace {

// A gray image through the network's pad-and-resize; returns channel 0 (gray is replicated
// to RGB, so the three channels must agree).
std::vector<double> resized_gray(const std::vector<float>& px, int64_t side_in, int64_t side_out, ResizeRule rule) {
  const std::vector<float> out = pad_and_resize(Batch{px.data(), 1, side_in, side_in, 1}, side_out, rule);
  EXPECT_EQ(out.size(), static_cast<size_t>(side_out * side_out * 3));
  std::vector<double> gray;
  for (size_t i = 0; i < out.size(); i += 3) {
    EXPECT_EQ(out[i], out[i + 1]);
    EXPECT_EQ(out[i], out[i + 2]);
    gray.push_back(out[i]);
  }
  return gray;
}

void expect_pixels(const std::vector<double>& got, const std::vector<double>& want, const char* what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-4) << what << ", pixel " << i;
}

}  // namespace

TEST(FaceApiResize, KnownAnswersFourToTwo) {
  // v[y][x] = 10 y + x.
  std::vector<float> px;
  for (int y = 0; y < 4; ++y)
    for (int x = 0; x < 4; ++x) px.push_back(static_cast<float>(10 * y + x));
  // tfjs: output d samples input 2d (corners aligned): rows/columns 0 and 2, no blending.
  expect_pixels(resized_gray(px, 4, 2, ResizeRule::tfjs), {0, 2, 20, 22}, "tfjs 4->2");
  // bilinear: output d samples (d + 0.5) x 2 - 0.5 = 0.5, 2.5: the mean of each 2x2 block.
  expect_pixels(resized_gray(px, 4, 2, ResizeRule::bilinear), {5.5, 7.5, 25.5, 27.5}, "bilinear 4->2");
}

TEST(FaceApiResize, KnownAnswersTwoToThree) {
  // v[y][x] = 60 y + 30 x.
  const std::vector<float> px = {0, 30, 60, 90};
  // tfjs: positions d x 2/3 = 0, 2/3, 4/3 (clamped to the last pixel, 1).
  expect_pixels(resized_gray(px, 2, 3, ResizeRule::tfjs), {0, 20, 30, 40, 60, 70, 60, 80, 90}, "tfjs 2->3");
  // bilinear: (d + 0.5) x 2/3 - 0.5 = -1/6 (clamped to 0), 1/2, 7/6 (clamped to 1).
  expect_pixels(resized_gray(px, 2, 3, ResizeRule::bilinear), {0, 15, 30, 30, 45, 60, 60, 75, 90}, "bilinear 2->3");
}

TEST(FaceApiResize, BilinearIsOpenCvsInterLinear) {
  std::mt19937_64 g(5);
  for (int side : {37, 150}) {  // up- and downscale to 112
    cv::Mat img(side, side, CV_32FC1);
    for (int y = 0; y < side; ++y)
      for (int x = 0; x < side; ++x) img.at<float>(y, x) = static_cast<float>(g() % 256);
    std::vector<float> px(img.begin<float>(), img.end<float>());
    cv::Mat want;
    cv::resize(img, want, cv::Size(112, 112), 0, 0, cv::INTER_LINEAR);
    auto worst_diff = [&](ResizeRule rule) {
      const std::vector<double> got = resized_gray(px, side, 112, rule);
      double worst = 0;
      for (int y = 0; y < 112; ++y)
        for (int x = 0; x < 112; ++x)
          worst = std::max(worst, std::abs(got[static_cast<size_t>(y * 112 + x)] - want.at<float>(y, x)));
      return worst;
    };
    // OpenCV interpolates in float: agreement to its rounding, while the tfjs rule is off by
    // grey levels on this noise image.
    EXPECT_LE(worst_diff(ResizeRule::bilinear), 5e-3) << side << " -> 112";
    EXPECT_GT(worst_diff(ResizeRule::tfjs), 10.0) << side << " -> 112";
  }
}

TEST(FaceApiResize, ComponentRecordsTheRuleAndTheModelUsesIt) {
  Runner tfjs({{"mode", "as_shipped"}}, 7), bilinear({{"mode", "as_shipped"}, {"resize", "bilinear"}}, 7);
  ASSERT_EQ(tfjs.run(), MIEN_OK) << tfjs.error();
  ASSERT_EQ(bilinear.run(), MIEN_OK) << bilinear.error();
  EXPECT_EQ(tfjs.json("model")["resize"], "tfjs");  // the default: face-api.js's rule
  EXPECT_EQ(bilinear.json("model")["resize"], "bilinear");
  auto mt = FaceApiModel::open_dir(tfjs.output_dir("model"), 1);
  auto mb = FaceApiModel::open_dir(bilinear.output_dir("model"), 1);
  EXPECT_EQ(mt->info()["resize"], "tfjs");
  EXPECT_EQ(mb->info()["resize"], "bilinear");
  // The astronaut crop (106 x 118, padded to 118) is resized: the rules give other logits
  // (the probabilities are all but 1 for happy either way).
  cv::Mat face_f;
  astronaut_face().convertTo(face_f, CV_32FC3);
  // Every channel of every pixel (begin<float>() on a 3-channel Mat would step by pixel and
  // read only a third of them; the net would then read past the vector).
  const float* fp = face_f.ptr<float>();
  const std::vector<float> face_px(fp, fp + face_f.total() * face_f.channels());
  const Batch face{face_px.data(), 1, face_f.rows, face_f.cols, 3};
  const auto lt = mt->net().logits(face), lb = mb->net().logits(face);
  double diff = 0;
  for (size_t k = 0; k < lt.size(); ++k) diff = std::max(diff, static_cast<double>(std::abs(lt[k] - lb[k])));
  EXPECT_GT(diff, 1e-2);
  // A 112 x 112 face is not resized: both rules give the same output.
  cv::Mat face112;
  cv::resize(astronaut_face(), face112, cv::Size(112, 112), 0, 0, cv::INTER_AREA);
  EXPECT_EQ(values(mt->predict(u8_tensor({face112}).view(), NullHost().host())),
            values(mb->predict(u8_tensor({face112}).view(), NullHost().host())));

  try {
    Runner bad({{"resize", "nearest"}}, 7);
    ADD_FAILURE() << "resize: nearest was accepted";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("parameter 'resize' is \"nearest\", expected one of"), std::string::npos)
        << e.what();
  }
}
