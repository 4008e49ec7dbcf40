#include <mien_stats/correlation.hpp>
#include "images_and_targets.hpp"

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>

namespace mien::ximg {

Images read_images(const TensorView& t, const std::string& port) {
  if (!t.valid() || t.ndim() != 4)
    throw Error("input '" + port + "' must be images [N, H, W, C] (uint8, plugins/CONVENTIONS.md)");
  Images im;
  im.n = t.dim(0);
  im.h = t.dim(1);
  im.w = t.dim(2);
  im.c = t.dim(3);
  if (im.h < 1 || im.w < 1 || im.c < 1) throw Error("input '" + port + "' has an empty image dimension");
  im.px = t.to_vector<float>();
  return im;
}

Maps read_maps(const TensorView& t, const std::string& port) {
  if (!t.valid() || t.ndim() != 3)
    throw Error("input '" + port + "' must be maps [N, H, W] (float32, an image explainer's `maps` output)");
  Maps m;
  m.n = t.dim(0);
  m.h = t.dim(1);
  m.w = t.dim(2);
  m.v = t.to_vector<float>();
  return m;
}

TargetParams::TargetParams(const Params& p)
    : target(kTarget.read(p)), cls(kClass.read(p)), batch_size(kBatchSize.read(p)) {
  if (target == "class" && cls.empty())
    throw Error("parameter 'class' is required when target is 'class': give a class name or index");
}

std::vector<std::string> class_names(const ModelRef& m) {
  const Json info = m.info();
  std::vector<std::string> out;
  if (info.contains("classes") && info.at("classes").is_array())
    for (const auto& c : info.at("classes")) out.push_back(c.is_string() ? c.get<std::string>() : c.dump());
  if (out.empty()) throw Error("the model's info has no 'classes' list (plugins/CONVENTIONS.md)");
  return out;
}

void check_input_shape(const ModelRef& m, const Images& im) {
  const Json info = m.info();
  if (!info.contains("input_shape") || !info.at("input_shape").is_array()) return;
  // Models that pad/resize inside (face-api, model.cnn) take any size; their maps are
  // upsampled back onto the given image.
  if (info.value("accepts_any_size", false)) return;
  const auto s = info.at("input_shape").get<std::vector<int64_t>>();
  if (s.size() != 3 || s[0] != im.h || s[1] != im.w || s[2] != im.c) {
    throw Error("the images are [" + std::to_string(im.h) + ", " + std::to_string(im.w) + ", " + std::to_string(im.c) +
                "] but the model expects input_shape " + info.at("input_shape").dump() +
                ": resize or convert them upstream (e.g. align.eyes with the model's size)");
  }
}

int64_t class_index(const std::string& name, const std::vector<std::string>& classes, const std::string& param) {
  for (size_t k = 0; k < classes.size(); ++k)
    if (classes[k] == name) return static_cast<int64_t>(k);
  if (!name.empty() && std::all_of(name.begin(), name.end(), [](char ch) { return ch >= '0' && ch <= '9'; })) {
    const int64_t k = std::stoll(name);
    if (k < static_cast<int64_t>(classes.size())) return k;
  }
  std::string list;
  for (const auto& c : classes) list += (list.empty() ? "" : ", ") + c;
  throw Error("parameter '" + param + "' is '" + name + "', not one of the model's classes: " + list);
}

Tensor image_tensor(const float* x, int64_t n, const Images& shape) {
  Tensor t = Tensor::zeros<float>({n, shape.h, shape.w, shape.c});
  std::copy(x, x + n * shape.size(), t.data<float>());
  return t;
}

std::vector<float> predict(const ModelRef& m, const float* x, int64_t n, const Images& shape, int batch,
                           const Host& host, int64_t* classes_out) {
  std::vector<float> out;
  int64_t C = -1;
  for (int64_t b = 0; b < n; b += batch) {
    host.check_cancelled();
    const int64_t nb = std::min<int64_t>(batch, n - b);
    Tensor in = image_tensor(x + b * shape.size(), nb, shape);
    Tensor p = m.predict(in);
    const TensorView v = p.view();
    if (v.ndim() != 2 || v.dim(0) != nb) throw Error("the model's predict returned a tensor that is not [N, C]");
    if (C < 0) {
      C = v.dim(1);
      out.reserve(static_cast<size_t>(n * C));
    }
    const auto vals = v.to_vector<float>();
    out.insert(out.end(), vals.begin(), vals.end());
  }
  if (classes_out) *classes_out = C;
  return out;
}

std::vector<int64_t> true_classes(const std::optional<TableView>& table, int64_t n,
                                  const std::vector<std::string>& classes) {
  std::vector<int64_t> out(static_cast<size_t>(n), -1);
  if (!table) return out;
  const auto lab = table->label();
  if (!lab) return out;
  const auto cats = lab->categories();
  for (int64_t i = 0; i < n && i < table->num_rows(); ++i) {
    if (lab->is_string() || !cats.empty()) {
      const std::string t = lab->text(i);
      for (size_t k = 0; k < classes.size(); ++k)
        if (classes[k] == t) out[static_cast<size_t>(i)] = static_cast<int64_t>(k);
    } else {
      const int64_t k = lab->code(i);
      if (k >= 0 && k < static_cast<int64_t>(classes.size())) out[static_cast<size_t>(i)] = k;
    }
  }
  return out;
}

std::vector<int64_t> resolve_targets(const TargetParams& tp, const std::vector<std::string>& classes,
                                     const std::optional<TableView>& table, const std::vector<int64_t>& predicted) {
  const int64_t n = static_cast<int64_t>(predicted.size());
  if (tp.target == "predicted") return predicted;
  if (tp.target == "class") return std::vector<int64_t>(static_cast<size_t>(n), class_index(tp.cls, classes, "class"));
  if (!table || !table->label())
    throw Error("parameter 'target' is 'true' but no sample table with a LABEL column is connected to 'table'; "
                "connect one or use target: predicted");
  auto t = true_classes(table, n, classes);
  for (int64_t i = 0; i < n; ++i)
    if (t[static_cast<size_t>(i)] < 0)
      throw Error("parameter 'target' is 'true' but row " + std::to_string(i) +
                  " has no label among the model's classes; use target: predicted");
  return t;
}

Table sample_table(const std::optional<TableView>& table, int64_t n) {
  Table out(n);
  bool has_id = false;
  if (table) {
    if (table->num_rows() != n)
      throw Error("input 'table' has " + std::to_string(table->num_rows()) + " rows but there are " +
                  std::to_string(n) + " images: they must be row-aligned");
    for (uint32_t c = 0; c < table->num_columns(); ++c) {
      const ColumnView col = table->column(c);
      if (col.role() == MIEN_ROLE_ID || col.role() == MIEN_ROLE_LABEL || col.role() == MIEN_ROLE_GROUP) {
        out.add_copy(col);
        if (col.role() == MIEN_ROLE_ID) has_id = true;
      }
    }
  }
  if (!has_id) {
    std::vector<std::string> ids;
    char buf[32];
    for (int64_t i = 0; i < n; ++i) {
      std::snprintf(buf, sizeof buf, "i%05lld", static_cast<long long>(i));
      ids.emplace_back(buf);
    }
    out.add_strings("id", MIEN_ROLE_ID, std::move(ids));
  }
  return out;
}

std::vector<float> resize_map(const float* m, int64_t h, int64_t w, int64_t H, int64_t W) {
  if (h == H && w == W) return std::vector<float>(m, m + h * w);
  cv::Mat src(static_cast<int>(h), static_cast<int>(w), CV_32F, const_cast<float*>(m));
  cv::Mat dst;
  cv::resize(src, dst, cv::Size(static_cast<int>(W), static_cast<int>(H)), 0, 0, cv::INTER_LINEAR);
  return std::vector<float>(dst.ptr<float>(), dst.ptr<float>() + H * W);
}

std::vector<float> blur_image(const float* img, int64_t h, int64_t w, int64_t c, double sigma) {
  cv::Mat src(static_cast<int>(h), static_cast<int>(w), CV_32FC(static_cast<int>(c)), const_cast<float*>(img));
  cv::Mat dst;
  cv::GaussianBlur(src, dst, cv::Size(0, 0), sigma, sigma, cv::BORDER_REFLECT101);
  return std::vector<float>(dst.ptr<float>(), dst.ptr<float>() + h * w * c);
}

std::vector<float> channel_mean(const float* img, int64_t h, int64_t w, int64_t c) {
  std::vector<double> s(static_cast<size_t>(c), 0.0);
  for (int64_t p = 0; p < h * w; ++p)
    for (int64_t k = 0; k < c; ++k) s[static_cast<size_t>(k)] += img[p * c + k];
  std::vector<float> out(static_cast<size_t>(c));
  for (int64_t k = 0; k < c; ++k) out[static_cast<size_t>(k)] = static_cast<float>(s[static_cast<size_t>(k)] / (h * w));
  return out;
}

double spearman(const std::vector<double>& a, const std::vector<double>& b) {
  const double r = mien::stats::spearman(a, b);
  return std::isnan(r) ? 0.0 : r;  // a constant map carries no ranking
}

double ssim(const std::vector<double>& a0, const std::vector<double>& b0, int64_t h, int64_t w) {
  auto unit = [](std::vector<double> v) {
    const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
    const double l = *lo, r = *hi - *lo;
    for (double& x : v) x = r > 0 ? (x - l) / r : 0.0;
    return v;
  };
  const std::vector<double> a = unit(a0), b = unit(b0);
  const double c1 = 0.01 * 0.01, c2 = 0.03 * 0.03;
  auto ssim_of = [&](double ma, double mb, double va, double vb, double cov) {
    return ((2 * ma * mb + c1) * (2 * cov + c2)) / ((ma * ma + mb * mb + c1) * (va + vb + c2));
  };
  if (h <= 1 || w <= 1) {
    const double n = static_cast<double>(a.size());
    double ma = 0, mb = 0;
    for (size_t i = 0; i < a.size(); ++i) {
      ma += a[i];
      mb += b[i];
    }
    ma /= n;
    mb /= n;
    double va = 0, vb = 0, cov = 0;
    for (size_t i = 0; i < a.size(); ++i) {
      va += (a[i] - ma) * (a[i] - ma);
      vb += (b[i] - mb) * (b[i] - mb);
      cov += (a[i] - ma) * (b[i] - mb);
    }
    return ssim_of(ma, mb, va / n, vb / n, cov / n);
  }
  cv::Mat A(static_cast<int>(h), static_cast<int>(w), CV_64F, const_cast<double*>(a.data()));
  cv::Mat B(static_cast<int>(h), static_cast<int>(w), CV_64F, const_cast<double*>(b.data()));
  auto g = [](const cv::Mat& m) {
    cv::Mat o;
    cv::GaussianBlur(m, o, cv::Size(7, 7), 1.5, 1.5, cv::BORDER_REFLECT101);
    return o;
  };
  const cv::Mat ma = g(A), mb = g(B), aa = g(A.mul(A)), bb = g(B.mul(B)), ab = g(A.mul(B));
  double s = 0;
  for (int y = 0; y < A.rows; ++y)
    for (int x = 0; x < A.cols; ++x) {
      const double mx = ma.at<double>(y, x), my = mb.at<double>(y, x);
      s += ssim_of(mx, my, aa.at<double>(y, x) - mx * mx, bb.at<double>(y, x) - my * my, ab.at<double>(y, x) - mx * my);
    }
  return s / (static_cast<double>(h) * w);
}

std::vector<int64_t> argmax_rows(const std::vector<float>& p, int64_t n, int64_t C) {
  std::vector<int64_t> out(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const float* r = p.data() + i * C;
    out[static_cast<size_t>(i)] = std::max_element(r, r + C) - r;
  }
  return out;
}

double auc(const std::vector<double>& x, const std::vector<double>& y) {
  double a = 0;
  for (size_t i = 1; i < x.size(); ++i) a += 0.5 * (x[i] - x[i - 1]) * (y[i] + y[i - 1]);
  return a;
}

}  // namespace mien::ximg
