// detect.dlib_hog and detect.opencv_haar.
#include <dlib/image_processing/frontal_face_detector.h>
#include <dlib/opencv/cv_image.h>

#include <opencv2/imgproc.hpp>
#include <opencv2/objdetect.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>

#include "image_and_table_io.hpp"
#include "components.hpp"

namespace mien::face {

namespace {

constexpr size_t kMaxWarnLines = 20;

void warn_skipped(const Host& host, const std::string& component, const std::vector<std::string>& ids,
                  const std::vector<std::string>& reasons, int64_t total) {
  for (size_t i = 0; i < ids.size() && i < kMaxWarnLines; ++i)
    host.warn(component + ": skipped '" + ids[i] + "': " + reasons[i]);
  if (ids.size() > kMaxWarnLines)
    host.warn(component + ": ... and " + std::to_string(ids.size() - kMaxWarnLines) + " more skipped rows");
  if (!ids.empty())
    host.warn(component + ": skipped " + std::to_string(ids.size()) + " of " + std::to_string(total) +
              " rows (see the 'skipped' output)");
}

}  // namespace

// ---------------------------------------------------------------------------------
// DetectorBase
// ---------------------------------------------------------------------------------
void DetectorBase::process(Context& ctx) {
  const Host& host = ctx.host();
  const TableView table = ctx.table(kTable);
  TensorView images;
  mien_pixel_format format = MIEN_PIXEL_UNSPECIFIED;
  if (ctx.connected(kImages)) {
    images = ctx.tensor(kImages);
    format = ctx.value(kImages).pixel_format;
  }
  const ImageSource source(table, images, format, type_id_);
  const Select select = parse_select(select_);
  const int64_t n = table.num_rows();
  const std::vector<std::string> ids = row_ids(table);

  std::vector<std::vector<FaceBox>> faces(static_cast<size_t>(n));
  std::vector<std::string> reasons(static_cast<size_t>(n));
  const unsigned workers = std::max<unsigned>(1, std::min<unsigned>(threads_, static_cast<unsigned>(std::max<int64_t>(n, 1))));
  prepare(workers);
  {
    OpenCvSingleThread single;
    parallel_rows(n, workers, host, "detecting faces", [&](int64_t row, unsigned worker) {
      std::string reason;
      const cv::Mat gray = source.load(row, ImageMode::Gray, &reason);
      if (gray.empty()) {
        reasons[static_cast<size_t>(row)] = reason;
        return;
      }
      // One scan at `scale` working pixels per original pixel; boxes in original pixels,
      // those narrower than min_size dropped. *found_any: the detector saw something.
      auto scan = [&](double scale, bool* found_any) {
        cv::Mat work;
        if (scale == 1.0) work = gray;
        else
          cv::resize(gray, work, cv::Size(), scale, scale, scale < 1.0 ? cv::INTER_AREA : cv::INTER_LINEAR);
        std::vector<FaceBox> kept;
        for (FaceBox b : detect(work, scale, worker)) {
          *found_any = true;
          b.x /= scale;
          b.y /= scale;
          b.w /= scale;
          b.h /= scale;
          if (b.w >= min_size_) kept.push_back(b);
        }
        return kept;
      };
      const int longer = std::max(gray.cols, gray.rows);
      bool found_any = false;
      std::vector<FaceBox> kept;
      if (max_side_ > 0 && longer > max_side_) kept = scan(static_cast<double>(max_side_) / longer, &found_any);
      if (kept.empty()) kept = scan(upscale(), &found_any);
      if (kept.empty()) {
        reasons[static_cast<size_t>(row)] =
            found_any ? "no face of at least min_size = " + std::to_string(min_size_) + " px" : "no face found";
        return;
      }
      if (select == Select::Largest) {
        auto it = std::max_element(kept.begin(), kept.end(),
                                   [](const FaceBox& a, const FaceBox& b) { return a.w * a.h < b.w * b.h; });
        kept = {*it};
      } else if (select == Select::First) {
        kept.resize(1);
      }
      faces[static_cast<size_t>(row)] = std::move(kept);
    });
  }

  // Output rows: one per kept face.
  std::vector<int64_t> rows;
  std::vector<std::string> out_ids;
  std::vector<double> fx, fy, fw, fh, fs;
  std::vector<int64_t> image_index, face_index;
  std::vector<std::string> skipped_ids, skipped_reasons;
  for (int64_t i = 0; i < n; ++i) {
    const auto& f = faces[static_cast<size_t>(i)];
    if (f.empty()) {
      skipped_ids.push_back(ids[static_cast<size_t>(i)]);
      skipped_reasons.push_back(reasons[static_cast<size_t>(i)].empty() ? "no face found"
                                                                         : reasons[static_cast<size_t>(i)]);
      continue;
    }
    for (size_t k = 0; k < f.size(); ++k) {
      rows.push_back(i);
      out_ids.push_back(k == 0 ? ids[static_cast<size_t>(i)] : ids[static_cast<size_t>(i)] + "#" + std::to_string(k));
      fx.push_back(f[k].x);
      fy.push_back(f[k].y);
      fw.push_back(f[k].w);
      fh.push_back(f[k].h);
      fs.push_back(f[k].score);
      image_index.push_back(source.image_index(i));
      face_index.push_back(static_cast<int64_t>(k));
    }
  }
  const auto id_cols = table.with_role(MIEN_ROLE_ID);
  const std::string id_name = id_cols.empty() ? "id" : id_cols.front().name();
  Table out(static_cast<int64_t>(rows.size()));
  out.add_strings(id_name, MIEN_ROLE_ID, out_ids);
  copy_columns(table, rows, out, [&](const ColumnView& c) {
    const std::string name = c.name();
    return c.role() != MIEN_ROLE_ID && name != id_name && !is_face_box_column(name) && name != "image_index" &&
           name != "face_index";
  });
  out.add_numbers("face_x", MIEN_ROLE_VALUE, std::move(fx));
  out.add_numbers("face_y", MIEN_ROLE_VALUE, std::move(fy));
  out.add_numbers("face_w", MIEN_ROLE_VALUE, std::move(fw));
  out.add_numbers("face_h", MIEN_ROLE_VALUE, std::move(fh));
  out.add_numbers("face_score", MIEN_ROLE_VALUE, std::move(fs));
  out.add_codes("image_index", MIEN_ROLE_VALUE, std::move(image_index));
  if (select == Select::All) out.add_codes("face_index", MIEN_ROLE_VALUE, std::move(face_index));
  if (table.raw()->meta_json && *table.raw()->meta_json) out.meta(table.meta());

  warn_skipped(host, type_id_, skipped_ids, skipped_reasons, n);
  host.info(type_id_ + ": " + std::to_string(rows.size()) + " face(s) in " + std::to_string(n - static_cast<int64_t>(skipped_ids.size())) +
            " of " + std::to_string(n) + " images");
  ctx.set(kOut, std::move(out));
  ctx.set(kSkipped, skipped_table(skipped_ids, skipped_reasons));
}

// ---------------------------------------------------------------------------------
// detect.dlib_hog
// ---------------------------------------------------------------------------------
struct DetectDlibHog::Impl {
  dlib::frontal_face_detector base;
  std::vector<dlib::frontal_face_detector> per_worker;  // object_detector is not thread safe
};

ComponentInfo DetectDlibHog::info() {
  return ComponentInfo("detect.dlib_hog", 1, MIEN_KIND_TRANSFORM,
                       "Finds faces with dlib's frontal HOG detector; adds face_x/y/w/h")
      .params(kUpsample, kSelect, kMinSize, kMaxSide)
      .ports(kTable, kImages, kOut, kSkipped);
}

DetectDlibHog::DetectDlibHog(const Setup& s)
    : DetectorBase("detect.dlib_hog", kSelect.read(s.params()), kMinSize.read(s.params()),
                   kMaxSide.read(s.params()), s.num_threads()),
      impl_(std::make_unique<Impl>()),
      upsample_(kUpsample.read(s.params())) {
  if (upsample_ < 0 || upsample_ > 3) throw Error("parameter 'upsample' must be 0..3, got " + std::to_string(upsample_));
  // Building the detector deserialises its filters (~0.2 s); build it once per process
  // and copy it (a copy is a few MB of weights).
  static const dlib::frontal_face_detector prototype = dlib::get_frontal_face_detector();
  impl_->base = prototype;
}

DetectDlibHog::~DetectDlibHog() = default;

void DetectDlibHog::prepare(unsigned workers) {
  while (impl_->per_worker.size() < workers) impl_->per_worker.push_back(impl_->base);
}

std::vector<FaceBox> DetectDlibHog::detect(const cv::Mat& gray, double, unsigned worker) {
  dlib::cv_image<unsigned char> img(gray);
  std::vector<dlib::rect_detection> dets;
  impl_->per_worker[worker](img, dets, 0.0);
  std::stable_sort(dets.begin(), dets.end(), [](const dlib::rect_detection& a, const dlib::rect_detection& b) {
    return a.detection_confidence > b.detection_confidence;
  });
  std::vector<FaceBox> out;
  for (const auto& d : dets)
    out.push_back({static_cast<double>(d.rect.left()), static_cast<double>(d.rect.top()),
                   static_cast<double>(d.rect.width()), static_cast<double>(d.rect.height()), d.detection_confidence});
  return out;
}

// ---------------------------------------------------------------------------------
// detect.opencv_haar
// ---------------------------------------------------------------------------------
struct DetectOpencvHaar::Impl {
  std::string path;
  std::vector<std::unique_ptr<cv::CascadeClassifier>> per_worker;
};

ComponentInfo DetectOpencvHaar::info() {
  return ComponentInfo("detect.opencv_haar", 1, MIEN_KIND_TRANSFORM,
                       "Finds faces with an OpenCV Haar/LBP cascade; adds face_x/y/w/h")
      .params(kCascade, kScaleFactor, kMinNeighbors, kSelect, kMinSize, kMaxSide, kEqualize)
      .ports(kTable, kImages, kOut, kSkipped);
}

DetectOpencvHaar::DetectOpencvHaar(const Setup& s)
    : DetectorBase("detect.opencv_haar", kSelect.read(s.params()), kMinSize.read(s.params()),
                   kMaxSide.read(s.params()), s.num_threads()),
      impl_(std::make_unique<Impl>()),
      scale_factor_(kScaleFactor.read(s.params())),
      min_neighbors_(kMinNeighbors.read(s.params())),
      equalize_(kEqualize.read(s.params())) {
  impl_->path = s.resolve_path(kCascade.read(s.params()));
  if (!std::ifstream(impl_->path))
    throw Error("parameter 'cascade': cannot read '" + impl_->path + "'; expected an OpenCV cascade XML file",
                MIEN_ERR_IO);
  auto first = std::make_unique<cv::CascadeClassifier>();
  bool ok = false;
  try {
    ok = first->load(impl_->path);
  } catch (const cv::Exception&) {
    ok = false;
  }
  if (!ok || first->empty())
    throw Error("parameter 'cascade': '" + impl_->path + "' is not an OpenCV cascade classifier file", MIEN_ERR_IO);
  impl_->per_worker.push_back(std::move(first));
}

DetectOpencvHaar::~DetectOpencvHaar() = default;

void DetectOpencvHaar::prepare(unsigned workers) {
  while (impl_->per_worker.size() < workers) {
    auto c = std::make_unique<cv::CascadeClassifier>();
    c->load(impl_->path);
    impl_->per_worker.push_back(std::move(c));
  }
}

std::vector<FaceBox> DetectOpencvHaar::detect(const cv::Mat& gray, double scale, unsigned worker) {
  cv::Mat eq = gray;
  if (equalize_) cv::equalizeHist(gray, eq);
  std::vector<cv::Rect> rects;
  std::vector<int> neighbours;
  const int min_px = std::max(1, static_cast<int>(std::floor(min_size_ * scale)));
  impl_->per_worker[worker]->detectMultiScale(eq, rects, neighbours, scale_factor_, min_neighbors_, 0,
                                              cv::Size(min_px, min_px));
  std::vector<FaceBox> out;
  for (size_t i = 0; i < rects.size(); ++i)
    out.push_back({static_cast<double>(rects[i].x), static_cast<double>(rects[i].y),
                   static_cast<double>(rects[i].width), static_cast<double>(rects[i].height),
                   i < neighbours.size() ? static_cast<double>(neighbours[i]) : 0.0});
  return out;
}

}  // namespace mien::face
