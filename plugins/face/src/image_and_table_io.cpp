#include "image_and_table_io.hpp"

#include <opencv2/core/utility.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <atomic>
#include <exception>
#include <fstream>
#include <iterator>
#include <thread>

namespace mien::face {

namespace {

bool ends_with_jpeg_eoi(const std::vector<unsigned char>& b) {
  // The EOI marker FF D9, allowing some trailing padding after it (some cameras append
  // bytes); search the last 4 KiB.
  const size_t n = b.size();
  const size_t from = n > 4096 ? n - 4096 : 2;
  for (size_t i = n; i-- > from + 1;)
    if (b[i - 1] == 0xFF && b[i] == 0xD9) return true;
  return false;
}

bool has_png_iend(const std::vector<unsigned char>& b) {
  static const unsigned char iend[] = {'I', 'E', 'N', 'D'};
  const size_t n = b.size();
  const size_t from = n > 64 ? n - 64 : 0;
  return std::search(b.begin() + static_cast<std::ptrdiff_t>(from), b.end(), std::begin(iend),
                     std::end(iend)) != b.end();
}

}  // namespace

cv::Mat read_image_file(const std::string& path, ImageMode mode, std::string* reason) {
  std::ifstream f(path, std::ios::binary);
  if (!f) {
    if (reason) *reason = "cannot read file '" + path + "' (missing or not readable)";
    return {};
  }
  std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (bytes.empty()) {
    if (reason) *reason = "file '" + path + "' is empty";
    return {};
  }
  if (bytes.size() >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF) {
    if (!ends_with_jpeg_eoi(bytes)) {
      if (reason) *reason = "truncated JPEG '" + path + "' (no end-of-image marker)";
      return {};
    }
  } else if (bytes.size() >= 8 && bytes[0] == 0x89 && bytes[1] == 'P' && bytes[2] == 'N' && bytes[3] == 'G') {
    if (!has_png_iend(bytes)) {
      if (reason) *reason = "truncated PNG '" + path + "' (no IEND chunk)";
      return {};
    }
  }
  cv::Mat img;
  try {
    img = cv::imdecode(bytes, mode == ImageMode::Gray ? cv::IMREAD_GRAYSCALE : cv::IMREAD_COLOR);
  } catch (const cv::Exception&) {
    img.release();
  }
  if (img.empty() || img.depth() != CV_8U) {
    if (reason) *reason = "'" + path + "' is not a decodable 8-bit image";
    return {};
  }
  return img;
}

ImageSource::ImageSource(const TableView& table, const TensorView& images, mien_pixel_format format,
                         const std::string& component)
    : images_(images), format_(format) {
  if (auto c = table.find("image_index")) index_ = c->codes();
  if (images_.valid()) {
    if (images_.dtype() != MIEN_DTYPE_U8 || (images_.ndim() != 4 && images_.ndim() != 3))
      throw Error(component + ": input 'images' must be a uint8 tensor [N,H,W,C] (or [N,H,W]), got " +
                  dtype_name(images_.dtype()) + " with " + std::to_string(images_.ndim()) + " dimensions");
    n_images_ = images_.dim(0);
    h_ = images_.dim(1);
    w_ = images_.dim(2);
    c_ = images_.ndim() == 4 ? images_.dim(3) : 1;
    if (c_ != 1 && c_ != 3)
      throw Error(component + ": input 'images' must have 1 (gray) or 3 (colour) channels, got " +
                  std::to_string(c_));
    if (index_.empty() && n_images_ != table.num_rows())
      throw Error(component + ": input 'images' has " + std::to_string(n_images_) + " images but the table " +
                  std::to_string(table.num_rows()) +
                  " rows; without an 'image_index' column they must be aligned row by row");
    for (int64_t k : index_)
      if (k < 0 || k >= n_images_)
        throw Error(component + ": column 'image_index' holds " + std::to_string(k) + ", outside the " +
                    std::to_string(n_images_) + " images of input 'images'");
  } else {
    auto p = table.find("path");
    if (!p)
      throw Error(component + ": the table has no 'path' column and no 'images' input is connected; "
                              "one of them must give the pixels");
    paths_ = p->texts();
  }
}

int64_t ImageSource::image_index(int64_t row) const {
  return index_.empty() ? row : index_[static_cast<size_t>(row)];
}

cv::Mat ImageSource::load(int64_t row, ImageMode mode, std::string* reason) const {
  if (!images_.valid()) {
    const std::string& p = paths_[static_cast<size_t>(row)];
    if (p.empty()) {
      if (reason) *reason = "empty path";
      return {};
    }
    return read_image_file(p, mode, reason);
  }
  const int64_t k = image_index(row);
  const int64_t plane = h_ * w_ * c_;
  cv::Mat src;
  if (const uint8_t* data = images_.data_if<uint8_t>()) {
    src = cv::Mat(static_cast<int>(h_), static_cast<int>(w_), c_ == 1 ? CV_8UC1 : CV_8UC3,
                  const_cast<uint8_t*>(data + k * plane));
  } else {  // strided: gather
    src.create(static_cast<int>(h_), static_cast<int>(w_), c_ == 1 ? CV_8UC1 : CV_8UC3);
    for (int64_t i = 0; i < plane; ++i) src.data[i] = static_cast<uint8_t>(images_.at(k * plane + i));
  }
  cv::Mat out;
  const bool rgb = format_ != MIEN_PIXEL_BGR;  // CONVENTIONS: colour images are RGB unless tagged BGR
  if (mode == ImageMode::Gray) {
    if (c_ == 1) out = src.clone();
    else cv::cvtColor(src, out, rgb ? cv::COLOR_RGB2GRAY : cv::COLOR_BGR2GRAY);
  } else {
    if (c_ == 1) cv::cvtColor(src, out, cv::COLOR_GRAY2BGR);
    else if (rgb) cv::cvtColor(src, out, cv::COLOR_RGB2BGR);
    else out = src.clone();
  }
  return out;
}

std::vector<std::string> row_ids(const TableView& t) {
  auto ids = t.with_role(MIEN_ROLE_ID);
  if (!ids.empty()) return ids.front().texts();
  std::vector<std::string> out(static_cast<size_t>(t.num_rows()));
  for (int64_t i = 0; i < t.num_rows(); ++i) out[static_cast<size_t>(i)] = "row" + std::to_string(i + 1);
  return out;
}

void copy_columns(const TableView& src, const std::vector<int64_t>& rows, Table& out,
                  const std::function<bool(const ColumnView&)>& keep) {
  for (uint32_t i = 0; i < src.num_columns(); ++i) {
    const ColumnView c = src.column(i);
    if (keep(c)) out.add_copy(c, &rows);
  }
}

bool is_passthrough_role(const ColumnView& c) {
  return c.role() == MIEN_ROLE_ID || c.role() == MIEN_ROLE_LABEL || c.role() == MIEN_ROLE_GROUP;
}

bool is_landmark_column(const std::string& name) {
  if (name.size() < 2 || name.size() > 3 || (name[0] != 'x' && name[0] != 'y')) return false;
  int v = 0;
  for (size_t i = 1; i < name.size(); ++i) {
    if (name[i] < '0' || name[i] > '9') return false;
    v = v * 10 + (name[i] - '0');
  }
  if (name.size() == 3 && name[1] == '0') return false;
  return v < 68;
}

bool is_face_box_column(const std::string& name) {
  return name == "face_x" || name == "face_y" || name == "face_w" || name == "face_h" || name == "face_score";
}

Table skipped_table(const std::vector<std::string>& ids, const std::vector<std::string>& reasons) {
  Table t(static_cast<int64_t>(ids.size()));
  t.add_strings("id", MIEN_ROLE_ID, ids);
  t.add_strings("reason", MIEN_ROLE_VALUE, reasons);
  return t;
}

std::vector<double> read_landmarks(const TableView& t, const std::string& component) {
  const int64_t n = t.num_rows();
  std::vector<double> xy(static_cast<size_t>(n) * 136);
  for (int k = 0; k < 68; ++k) {
    for (int d = 0; d < 2; ++d) {
      const std::string name = std::string(d == 0 ? "x" : "y") + std::to_string(k);
      auto c = t.find(name);
      if (!c)
        throw Error(component + ": the table has no landmark column '" + name +
                    "'; expected x0..x67 and y0..y67 (connect landmarks.dlib68's table)");
      if (c->is_string())
        throw Error(component + ": landmark column '" + name + "' must be numeric");
      for (int64_t i = 0; i < n; ++i) xy[static_cast<size_t>(i) * 136 + 2 * k + d] = c->number(i);
    }
  }
  return xy;
}

void add_landmark_columns(Table& out, const std::vector<double>& xy, int64_t rows, mien_column_role role) {
  for (int d = 0; d < 2; ++d) {
    for (int k = 0; k < 68; ++k) {
      std::vector<double> v(static_cast<size_t>(rows));
      for (int64_t i = 0; i < rows; ++i) v[static_cast<size_t>(i)] = xy[static_cast<size_t>(i) * 136 + 2 * k + d];
      out.add_numbers(std::string(d == 0 ? "x" : "y") + std::to_string(k), role, std::move(v));
    }
  }
}

void parallel_rows(int64_t n, unsigned threads, const Host& host, const char* note,
                   const std::function<void(int64_t, unsigned)>& f) {
  if (n <= 0) return;
  threads = std::max(1u, std::min<unsigned>(threads, static_cast<unsigned>(std::min<int64_t>(n, 64))));
  std::vector<std::exception_ptr> errors(static_cast<size_t>(n));
  const int64_t chunk = std::max<int64_t>(static_cast<int64_t>(threads) * 4, 8);
  for (int64_t begin = 0; begin < n; begin += chunk) {
    host.check_cancelled();
    host.progress(static_cast<uint64_t>(begin), static_cast<uint64_t>(n), note);
    const int64_t end = std::min(n, begin + chunk);
    std::atomic<int64_t> next{begin};
    auto work = [&](unsigned worker) {
      for (int64_t r = next++; r < end; r = next++) {
        try {
          f(r, worker);
        } catch (...) {
          errors[static_cast<size_t>(r)] = std::current_exception();
        }
      }
    };
    if (threads == 1) {
      work(0);
    } else {
      std::vector<std::thread> pool;
      for (unsigned w = 1; w < threads; ++w) pool.emplace_back(work, w);
      work(0);
      for (auto& t : pool) t.join();
    }
    for (int64_t r = begin; r < end; ++r)
      if (errors[static_cast<size_t>(r)]) std::rethrow_exception(errors[static_cast<size_t>(r)]);
  }
  host.progress(static_cast<uint64_t>(n), static_cast<uint64_t>(n), note);
}

OpenCvSingleThread::OpenCvSingleThread() : previous_(cv::getNumThreads()) { cv::setNumThreads(1); }
OpenCvSingleThread::~OpenCvSingleThread() { cv::setNumThreads(previous_); }

Select parse_select(const std::string& s) {
  if (s == "largest") return Select::Largest;
  if (s == "first") return Select::First;
  if (s == "all") return Select::All;
  throw Error("parameter 'select' is '" + s + "'; expected largest, first or all");
}

}  // namespace mien::face
