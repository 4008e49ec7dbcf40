// report.landmarks: the 68 landmarks (and the face box) drawn on each photo, to check a
// detector and landmark model by eye.
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <filesystem>
#include <set>

#include "components.hpp"

namespace mien::report {

ComponentInfo LandmarksReport::info() {
  return ComponentInfo("report.landmarks", 1, MIEN_KIND_REPORT,
                       "Draws the 68 landmarks and the face box on each image, as PNGs")
      .params(kSamples, kRadius)
      .ports(kTable, kImages, kIndex, Ports::kFiles);
}

LandmarksReport::LandmarksReport(const Setup& s)
    : samples_(kSamples.read(s.params())), radius_(kRadius.read(s.params())) {}

void LandmarksReport::process(Context& ctx) {
  const TableView t = ctx.table(kTable);
  const Samples s = read_samples(t, /*need_landmarks=*/true, "report.landmarks");
  const auto path = t.find("path");
  const bool have_images = ctx.connected(kImages);
  if (!have_images && !path) throw Error("report.landmarks: connect `images` or give the table a 'path' column");
  TensorView images;
  if (have_images) images = ctx.tensor(kImages);
  const auto index = t.find("image_index");
  auto box = [&](const char* name) { return t.find(name); };
  const auto fx = box("face_x"), fy = box("face_y"), fw = box("face_w"), fh = box("face_h");

  const std::string dir = ctx.host().output_dir();
  Json files = Json::array();
  std::set<std::string> used;  // ids "x 1" and "x_1" make one safe name: the second gets _2
  const int64_t n = std::min<int64_t>(s.n, samples_);
  for (int64_t i = 0; i < n; ++i) {
    ctx.host().check_cancelled();
    cv::Mat img;
    if (have_images) {
      const int64_t k = index ? index->code(i) : i;
      if (k < 0 || k >= images.dim(0)) throw Error("images: row " + std::to_string(i) + " has no image");
      const int h = static_cast<int>(images.dim(1)), w = static_cast<int>(images.dim(2));
      const int c = images.ndim() > 3 ? static_cast<int>(images.dim(3)) : 1;
      if (images.dtype() != MIEN_DTYPE_U8 || !images.contiguous()) throw Error("images: uint8 contiguous images expected");
      const auto* p = static_cast<const uint8_t*>(images.raw()->data) + k * h * w * c;
      img = cv::Mat(h, w, c == 1 ? CV_8UC1 : CV_8UC3, const_cast<uint8_t*>(p)).clone();
    } else {
      img = cv::imread(path->text(i), cv::IMREAD_COLOR);
      if (img.empty()) {
        ctx.host().warn("report.landmarks: cannot read " + path->text(i) + "; skipped");
        continue;
      }
    }
    if (img.channels() == 1) cv::cvtColor(img, img, cv::COLOR_GRAY2BGR);
    if (fx && fy && fw && fh)
      cv::rectangle(img, cv::Rect2d(fx->number(i), fy->number(i), fw->number(i), fh->number(i)), cv::Scalar(255, 160, 0),
                    2, cv::LINE_AA);
    const int r = radius_ > 0 ? radius_ : std::max(1, std::min(img.cols, img.rows) / 200);
    for (const auto& pt : s.landmarks[static_cast<size_t>(i)])
      cv::circle(img, pt, r, cv::Scalar(0, 220, 255), cv::FILLED, cv::LINE_AA);
    const std::string stem = safe_name(s.ids[static_cast<size_t>(i)]);
    std::string safe = stem + "_landmarks.png";
    for (int k = 2; used.count(safe); ++k) safe = stem + "_" + std::to_string(k) + "_landmarks.png";
    used.insert(safe);
    if (!cv::imwrite((std::filesystem::path(dir) / safe).string(), img))
      throw Error("cannot write " + safe + " in " + dir, MIEN_ERR_IO);
    files.push_back({{"id", s.ids[static_cast<size_t>(i)]}, {"file", safe}});
  }
  ctx.set(kIndex, files);
  ctx.set_text(Ports::kFiles, std::filesystem::relative(dir, ctx.host().run_dir()).string());
}

}  // namespace mien::report
