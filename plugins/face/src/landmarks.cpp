// landmarks.dlib68: dlib's 68-point shape predictor on each row's face box.
#include <dlib/image_processing/shape_predictor.h>
#include <dlib/opencv/cv_image.h>
#include <dlib/serialize.h>

#include <cmath>
#include <fstream>
#include <map>
#include <mutex>

#include "image_and_table_io.hpp"
#include "components.hpp"

namespace mien::face {

namespace {

// The 100 MB model loads in ~0.3 s: keep one copy per file while any instance uses it.
std::shared_ptr<const dlib::shape_predictor> shared_model(const std::string& path) {
  static std::mutex mutex;
  static std::map<std::string, std::weak_ptr<const dlib::shape_predictor>> cache;
  std::lock_guard<std::mutex> lock(mutex);
  if (auto sp = cache[path].lock()) return sp;
  if (!std::ifstream(path))
    throw Error("parameter 'model': cannot read '" + path +
                    "'; expected dlib's shape_predictor_68_face_landmarks.dat (Debian package libdlib-data)",
                MIEN_ERR_IO);
  auto sp = std::make_shared<dlib::shape_predictor>();
  try {
    dlib::deserialize(path) >> *sp;
  } catch (const std::exception& e) {
    throw Error("parameter 'model': '" + path + "' is not a dlib shape-predictor file (" + e.what() + ")",
                MIEN_ERR_IO);
  }
  if (sp->num_parts() != 68)
    throw Error("parameter 'model': '" + path + "' predicts " + std::to_string(sp->num_parts()) +
                " landmarks; landmarks.dlib68 needs a 68-point (iBUG 300-W) model");
  std::shared_ptr<const dlib::shape_predictor> out = sp;
  cache[path] = out;
  return out;
}

}  // namespace

struct LandmarksDlib68::Impl {
  std::shared_ptr<const dlib::shape_predictor> model;  // thread safe for concurrent use
};

ComponentInfo LandmarksDlib68::info() {
  return ComponentInfo("landmarks.dlib68", 1, MIEN_KIND_TRANSFORM,
                       "68 iBUG facial landmarks per face box with dlib's shape predictor; adds x0..x67, y0..y67")
      .params(kModel)
      .ports(kTable, kImages, kOut, kSkipped);
}

LandmarksDlib68::LandmarksDlib68(const Setup& s) : impl_(std::make_unique<Impl>()), threads_(s.num_threads()) {
  impl_->model = shared_model(s.resolve_path(kModel.read(s.params())));
}

LandmarksDlib68::~LandmarksDlib68() = default;

void LandmarksDlib68::process(Context& ctx) {
  const Host& host = ctx.host();
  const std::string me = "landmarks.dlib68";
  const TableView table = ctx.table(kTable);
  TensorView images;
  mien_pixel_format format = MIEN_PIXEL_UNSPECIFIED;
  if (ctx.connected(kImages)) {
    images = ctx.tensor(kImages);
    format = ctx.value(kImages).pixel_format;
  }
  const ImageSource source(table, images, format, me);
  const int64_t n = table.num_rows();
  std::vector<std::vector<double>> box(4);
  const char* box_names[4] = {"face_x", "face_y", "face_w", "face_h"};
  for (int k = 0; k < 4; ++k) {
    auto c = table.find(box_names[k]);
    if (!c || c->is_string())
      throw Error(me + ": the table has no numeric column '" + box_names[k] +
                  "'; expected the face box columns face_x, face_y, face_w, face_h (connect a detect.* table)");
    box[static_cast<size_t>(k)] = c->numbers();
  }
  const std::vector<std::string> ids = row_ids(table);

  std::vector<double> xy(static_cast<size_t>(n) * 136, 0.0);
  std::vector<std::string> reasons(static_cast<size_t>(n));
  std::vector<char> ok(static_cast<size_t>(n), 0);
  const dlib::shape_predictor& sp = *impl_->model;
  {
    OpenCvSingleThread single;
    parallel_rows(n, threads_, host, "landmarks", [&](int64_t row, unsigned) {
      const size_t r = static_cast<size_t>(row);
      const double x = box[0][r], y = box[1][r], w = box[2][r], h = box[3][r];
      if (!std::isfinite(x) || !std::isfinite(y) || !std::isfinite(w) || !std::isfinite(h) || w < 1 || h < 1) {
        reasons[r] = "no valid face box (face_w/face_h missing or below 1 px)";
        return;
      }
      std::string reason;
      const cv::Mat gray = source.load(row, ImageMode::Gray, &reason);
      if (gray.empty()) {
        reasons[r] = reason;
        return;
      }
      const long left = std::lround(x), top = std::lround(y);
      const dlib::rectangle rect(left, top, std::lround(x + w) - 1, std::lround(y + h) - 1);
      dlib::cv_image<unsigned char> img(gray);
      const dlib::full_object_detection shape = sp(img, rect);
      for (unsigned k = 0; k < 68; ++k) {
        xy[r * 136 + 2 * k] = static_cast<double>(shape.part(k).x());
        xy[r * 136 + 2 * k + 1] = static_cast<double>(shape.part(k).y());
      }
      ok[r] = 1;
    });
  }

  std::vector<int64_t> rows, image_index;
  std::vector<double> kept_xy;
  std::vector<std::string> skipped_ids, skipped_reasons;
  for (int64_t i = 0; i < n; ++i) {
    const size_t r = static_cast<size_t>(i);
    if (!ok[r]) {
      skipped_ids.push_back(ids[r]);
      skipped_reasons.push_back(reasons[r]);
      continue;
    }
    rows.push_back(i);
    image_index.push_back(source.image_index(i));
    kept_xy.insert(kept_xy.end(), xy.begin() + static_cast<std::ptrdiff_t>(r * 136),
                   xy.begin() + static_cast<std::ptrdiff_t>(r * 136 + 136));
  }
  Table out(static_cast<int64_t>(rows.size()));
  copy_columns(table, rows, out, [](const ColumnView& c) {
    const std::string name = c.name();
    return !is_landmark_column(name) && name != "image_index";
  });
  add_landmark_columns(out, kept_xy, static_cast<int64_t>(rows.size()));
  out.add_codes("image_index", MIEN_ROLE_VALUE, std::move(image_index));
  if (table.raw()->meta_json && *table.raw()->meta_json) out.meta(table.meta());

  for (size_t i = 0; i < skipped_ids.size() && i < 20; ++i)
    host.warn(me + ": skipped '" + skipped_ids[i] + "': " + skipped_reasons[i]);
  if (!skipped_ids.empty())
    host.warn(me + ": skipped " + std::to_string(skipped_ids.size()) + " of " + std::to_string(n) + " rows");
  ctx.set(kOut, std::move(out));
  ctx.set(kSkipped, skipped_table(skipped_ids, skipped_reasons));
}

}  // namespace mien::face
