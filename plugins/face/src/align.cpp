// align.eyes: eye-based similarity alignment and crop.
#include <opencv2/imgproc.hpp>

#include <cmath>
#include <cstring>

#include "image_and_table_io.hpp"
#include "components.hpp"
#include "mien_face_geometry/alignment.hpp"

namespace mien::face {

ComponentInfo AlignEyes::info() {
  return ComponentInfo("align.eyes", 1, MIEN_KIND_TRANSFORM,
                       "Rotates, scales and crops each face so the eyes are level at a fixed distance")
      .params(kSize, kEyeDistance, kEyeY, kGray)
      .ports(kTable, kImages, kImagesOut, kOut, kSkipped);
}

AlignEyes::AlignEyes(const Setup& s)
    : size_(kSize.read(s.params())),
      eye_distance_(kEyeDistance.read(s.params())),
      eye_y_(kEyeY.read(s.params())),
      gray_(kGray.read(s.params())),
      threads_(s.num_threads()) {
  if (size_ < 16) throw Error("parameter 'size' must be at least 16 pixels, got " + std::to_string(size_));
  if (!(eye_distance_ > 0 && eye_distance_ < 1))
    throw Error("parameter 'eye_distance' must be a fraction of size in (0, 1)");
  if (!(eye_y_ >= 0 && eye_y_ <= 1)) throw Error("parameter 'eye_y' must be a fraction of size in [0, 1]");
}

void AlignEyes::process(Context& ctx) {
  const Host& host = ctx.host();
  const std::string me = "align.eyes";
  const TableView table = ctx.table(kTable);
  TensorView images;
  mien_pixel_format format = MIEN_PIXEL_UNSPECIFIED;
  if (ctx.connected(kImages)) {
    images = ctx.tensor(kImages);
    format = ctx.value(kImages).pixel_format;
  }
  const ImageSource source(table, images, format, me);
  const int64_t n = table.num_rows();
  std::vector<double> xy = read_landmarks(table, me);
  const std::vector<std::string> ids = row_ids(table);
  const AlignParams params{size_, eye_distance_, eye_y_};
  const int channels = gray_ ? 1 : 3;

  std::vector<cv::Mat> crops(static_cast<size_t>(n));
  std::vector<Affine2x3> transforms(static_cast<size_t>(n));
  std::vector<std::string> reasons(static_cast<size_t>(n));
  {
    OpenCvSingleThread single;
    parallel_rows(n, threads_, host, "aligning", [&](int64_t row, unsigned) {
      const size_t r = static_cast<size_t>(row);
      double* p = xy.data() + r * 136;
      for (int k = 0; k < 136; ++k)
        if (!std::isfinite(p[k])) {
          reasons[r] = "landmark " + std::to_string(k / 2) + " is not finite";
          return;
        }
      const auto t = eye_alignment(p, params);
      if (!t) {
        reasons[r] = "the eye centres coincide; cannot align";
        return;
      }
      std::string reason;
      const cv::Mat img = source.load(row, gray_ ? ImageMode::Gray : ImageMode::Color, &reason);
      if (img.empty()) {
        reasons[r] = reason;
        return;
      }
      const cv::Matx23d m((*t)[0], (*t)[1], (*t)[2], (*t)[3], (*t)[4], (*t)[5]);
      cv::Mat crop;
      cv::warpAffine(img, crop, m, cv::Size(size_, size_), cv::INTER_LINEAR, cv::BORDER_CONSTANT, cv::Scalar::all(0));
      if (!gray_) cv::cvtColor(crop, crop, cv::COLOR_BGR2RGB);
      transform_landmarks(*t, p);
      transforms[r] = *t;
      crops[r] = crop;
    });
  }

  std::vector<int64_t> rows;
  std::vector<std::string> skipped_ids, skipped_reasons;
  for (int64_t i = 0; i < n; ++i) {
    if (crops[static_cast<size_t>(i)].empty()) {
      skipped_ids.push_back(ids[static_cast<size_t>(i)]);
      skipped_reasons.push_back(reasons[static_cast<size_t>(i)]);
    } else {
      rows.push_back(i);
    }
  }
  const int64_t m = static_cast<int64_t>(rows.size());
  Tensor out_images = Tensor::zeros<uint8_t>({m, size_, size_, channels});
  const size_t plane = static_cast<size_t>(size_) * static_cast<size_t>(size_) * static_cast<size_t>(channels);
  std::vector<double> kept_xy;
  std::vector<std::vector<double>> t_cols(6);
  std::vector<int64_t> image_index;
  for (int64_t j = 0; j < m; ++j) {
    const size_t r = static_cast<size_t>(rows[static_cast<size_t>(j)]);
    const cv::Mat& c = crops[r];
    uint8_t* dst = out_images.data<uint8_t>() + static_cast<size_t>(j) * plane;
    for (int y = 0; y < size_; ++y)
      std::memcpy(dst + static_cast<size_t>(y) * size_ * channels, c.ptr<uint8_t>(y),
                  static_cast<size_t>(size_) * channels);
    kept_xy.insert(kept_xy.end(), xy.begin() + static_cast<std::ptrdiff_t>(r * 136),
                   xy.begin() + static_cast<std::ptrdiff_t>(r * 136 + 136));
    for (int k = 0; k < 6; ++k) t_cols[static_cast<size_t>(k)].push_back(transforms[r][static_cast<size_t>(k)]);
    image_index.push_back(j);
  }
  Table out(m);
  copy_columns(table, rows, out, [](const ColumnView& c) {
    const std::string name = c.name();
    return !is_landmark_column(name) && !is_face_box_column(name) && name != "image_index" &&
           name.rfind("align_t", 0) != 0;
  });
  add_landmark_columns(out, kept_xy, m);
  const char* t_names[6] = {"align_t00", "align_t01", "align_t02", "align_t10", "align_t11", "align_t12"};
  for (int k = 0; k < 6; ++k) out.add_numbers(t_names[k], MIEN_ROLE_VALUE, std::move(t_cols[static_cast<size_t>(k)]));
  out.add_codes("image_index", MIEN_ROLE_VALUE, std::move(image_index));
  if (table.raw()->meta_json && *table.raw()->meta_json) out.meta(table.meta());

  for (size_t i = 0; i < skipped_ids.size() && i < 20; ++i)
    host.warn(me + ": skipped '" + skipped_ids[i] + "': " + skipped_reasons[i]);
  if (!skipped_ids.empty())
    host.warn(me + ": skipped " + std::to_string(skipped_ids.size()) + " of " + std::to_string(n) + " rows");
  ctx.set(kImagesOut, std::move(out_images), gray_ ? MIEN_PIXEL_GRAY : MIEN_PIXEL_RGB);
  ctx.set(kOut, std::move(out));
  ctx.set(kSkipped, skipped_table(skipped_ids, skipped_reasons));
}

}  // namespace mien::face
