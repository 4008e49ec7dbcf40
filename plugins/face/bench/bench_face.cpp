// bench_face: images per second of the face chain (detection -> landmarks -> alignment ->
// geometric features) on KDEF-sized photos (562 x 762), per stage and in total, with 1
// and 2 threads. Not run by CI.
//
//   build/bin/bench_face [images=40] [repeats=3]
//
// Two synthetic KDEF-sized JPEGs are made from the astronaut portrait
// (third_party/astronaut): "kdef" crops around the face and enlarges it so the face is
// ~195 px wide, like a KDEF straight-pose photo; "padded" pastes the 512 x 512 portrait
// unchanged into a 562 x 762 grey canvas (face 87 px wide). Every image is decoded from
// its file by each stage, as in a real run. The best of `repeats` runs is reported.
#include <mien/testing.hpp>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "components.hpp"

using mien::Table;
using mien::TableView;
using mien::testing::ComponentRunner;
using namespace mien::face;
namespace fs = std::filesystem;

namespace {

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

Table path_table(const std::vector<std::string>& paths) {
  Table t(static_cast<int64_t>(paths.size()));
  std::vector<std::string> ids;
  for (size_t i = 0; i < paths.size(); ++i) ids.push_back("img" + std::to_string(i));
  t.add_strings("id", MIEN_ROLE_ID, ids);
  t.add_strings("path", MIEN_ROLE_VALUE, paths);
  return t;
}

// Best wall time of `repeats` calls of f.
double best_of(int repeats, const std::function<void()>& f) {
  double best = 1e30;
  for (int r = 0; r < repeats; ++r) {
    const double t0 = now();
    f();
    best = std::min(best, now() - t0);
  }
  return best;
}

struct StageResult {
  double seconds;
  int64_t rows_out;
};

template <typename C>
StageResult run_stage(const mien::Json& params, unsigned threads, int repeats,
                      const std::function<void(mien::testing::Runner&)>& set_inputs,
                      std::function<void(mien::testing::Runner&)> keep = nullptr) {
  int64_t rows = 0;
  // Construction (model loading) is timed apart: a node pays it once per run.
  ComponentRunner<C> r(params);
  r.set_num_threads(threads);
  set_inputs(r);
  const double t = best_of(repeats, [&] {
    if (r.run() != MIEN_OK) {
      std::fprintf(stderr, "stage failed: %s\n", r.error().c_str());
      std::exit(1);
    }
  });
  rows = r.table("table").num_rows();
  if (keep) keep(r);
  return {t, rows};
}

}  // namespace

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 40;
  const int repeats = argc > 2 ? std::atoi(argv[2]) : 3;
  const fs::path dir = fs::temp_directory_path() / ("mien-bench-face-" + std::to_string(std::random_device{}()));
  fs::create_directories(dir);

  cv::Mat astro = cv::imread(MIEN_FACE_ASTRONAUT, cv::IMREAD_COLOR);
  if (astro.empty()) {
    std::fprintf(stderr, "cannot read %s\n", MIEN_FACE_ASTRONAUT);
    return 1;
  }
  // kdef: crop x 100..350, y 0..339 (250 x 339) and enlarge 2.248x -> 562 x 762.
  cv::Mat kdef;
  cv::resize(astro(cv::Rect(100, 0, 250, 339)), kdef, cv::Size(562, 762), 0, 0, cv::INTER_CUBIC);
  cv::Mat padded(762, 562, CV_8UC3, cv::Scalar(128, 128, 128));
  astro.copyTo(padded(cv::Rect(25, 125, 512, 512)));
  const std::vector<std::pair<std::string, cv::Mat>> kinds = {{"kdef", kdef}, {"padded", padded}};

  std::printf("bench_face: %d images of 562x762 per stage, best of %d; %u hardware threads\n", n, repeats,
              std::thread::hardware_concurrency());
  std::printf("%-8s %-44s %7s %10s %10s %6s\n", "image", "stage", "threads", "ms/image", "images/s", "rows");

  for (const auto& [kind, img] : kinds) {
    std::vector<std::string> paths;
    for (int i = 0; i < n; ++i) {
      const fs::path p = dir / (kind + std::to_string(i) + ".jpg");
      cv::imwrite(p.string(), img, {cv::IMWRITE_JPEG_QUALITY, 92});
      paths.push_back(p.string());
    }
    auto row = [&](const std::string& stage, unsigned threads, const StageResult& r) {
      std::printf("%-8s %-44s %7u %10.2f %10.1f %6lld\n", kind.c_str(), stage.c_str(), threads, 1000 * r.seconds / n,
                  n / r.seconds, static_cast<long long>(r.rows_out));
      std::fflush(stdout);
    };
    for (unsigned threads : {1u, 2u}) {
      // Detector settings: the pre-speed-up default (full resolution, upsample 1) and cheaper ones.
      struct Setting {
        std::string name;
        mien::Json params;
      };
      const std::vector<Setting> hog = {
          {"detect.dlib_hog upsample=1 max_side=0", {{"upsample", 1}, {"max_side", 0}}},
          {"detect.dlib_hog upsample=0 max_side=0", {{"upsample", 0}, {"max_side", 0}}},
          {"detect.dlib_hog upsample=0 max_side=400 *", {{"upsample", 0}, {"max_side", 400}}},
          {"detect.dlib_hog upsample=0 max_side=300", {{"upsample", 0}, {"max_side", 300}}},
      };
      double detect_default = 0;
      Table detected(0);
      for (const auto& s : hog) {
        const bool is_default = s.name.back() == '*';
        StageResult r = run_stage<DetectDlibHog>(
            s.params, threads, repeats, [&](mien::testing::Runner& x) { x.set_input("table", path_table(paths)); },
            [&](mien::testing::Runner& x) {
              if (is_default) detected = mien::testing::copy_table(x.table("table"));
            });
        if (is_default) detect_default = r.seconds;
        row(s.name, threads, r);
      }
      row("detect.opencv_haar max_side=400 *", threads,
          run_stage<DetectOpencvHaar>({}, threads, repeats,
                                      [&](mien::testing::Runner& x) { x.set_input("table", path_table(paths)); }));
      row("detect.opencv_haar max_side=0", threads,
          run_stage<DetectOpencvHaar>({{"max_side", 0}}, threads, repeats,
                                      [&](mien::testing::Runner& x) { x.set_input("table", path_table(paths)); }));
      if (detected.num_rows() == 0) {
        std::printf("%-8s no faces detected with the default; chain skipped\n", kind.c_str());
        continue;
      }
      // The rest of the chain on the default detection.
      Table det_copy = std::move(detected);
      ComponentRunner<LandmarksDlib68> lm;
      lm.set_num_threads(threads);
      lm.set_input("table", std::move(det_copy));
      const double t_lm = best_of(repeats, [&] { lm.run(); });
      row("landmarks.dlib68", threads, {t_lm, lm.table("table").num_rows()});
      ComponentRunner<AlignEyes> al;
      al.set_num_threads(threads);
      al.set_input("table", lm.table("table"));
      const double t_al = best_of(repeats, [&] { al.run(); });
      row("align.eyes size=128 gray", threads, {t_al, al.table("table").num_rows()});
      ComponentRunner<FeaturesGeometric> fe;
      fe.set_num_threads(threads);
      fe.set_input("table", al.table("table"));
      const double t_fe = best_of(repeats, [&] { fe.run(); });
      row("features.geometric", threads, {t_fe, fe.table("table").num_rows()});
      row("CHAIN (default hog + landmarks + align + features)", threads,
          {detect_default + t_lm + t_al + t_fe, fe.table("table").num_rows()});
    }
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
  return 0;
}
