// Shared helpers of the face components: reading images (from `path` or from an IMAGE
// input), table plumbing (ids, copied columns, the `skipped` table, landmark columns) and
// a small deterministic row-parallel loop.
#pragma once

#include <mien/plugin.hpp>

#include <opencv2/core.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace mien::face {

// ---------------------------------------------------------------------------------
// Images
// ---------------------------------------------------------------------------------
enum class ImageMode { Gray, Color };  // Color = 8-bit BGR

// Reads and decodes an image file. On failure returns an empty Mat and sets *reason to a
// sentence for the `skipped` table ("cannot read file", "truncated JPEG (no end marker)",
// "not a decodable image"). Reads the bytes itself and checks JPEG/PNG files for their end
// marker first, so truncated files are rejected without handing them to the decoder.
cv::Mat read_image_file(const std::string& path, ImageMode mode, std::string* reason);

// Where a component's pixels come from: the table's `path` column, or an IMAGE input
// ([N,H,W,C] uint8, C = 1 or 3) whose row is the table's `image_index` (or the row itself).
class ImageSource {
 public:
  // `images` may be an unconnected (invalid) view; then the table needs a `path` column.
  ImageSource(const TableView& table, const TensorView& images, mien_pixel_format format,
              const std::string& component);
  // The image of table row `row`, or empty with *reason set.
  cv::Mat load(int64_t row, ImageMode mode, std::string* reason) const;
  // The image row the table row refers to (for `image_index` of outputs).
  int64_t image_index(int64_t row) const;
  bool from_tensor() const { return images_.valid(); }

 private:
  TensorView images_;
  mien_pixel_format format_ = MIEN_PIXEL_UNSPECIFIED;
  std::vector<std::string> paths_;
  std::vector<int64_t> index_;  // image_index column, or empty
  int64_t n_images_ = 0, h_ = 0, w_ = 0, c_ = 0;
};

// ---------------------------------------------------------------------------------
// Tables
// ---------------------------------------------------------------------------------
// The ids of the rows: the ID column's text, else "row<k>" (1-based).
std::vector<std::string> row_ids(const TableView& t);

// Columns `keep` accepts, copied for the given rows into `out`.
void copy_columns(const TableView& src, const std::vector<int64_t>& rows, Table& out,
                  const std::function<bool(const ColumnView&)>& keep);
bool is_passthrough_role(const ColumnView& c);  // ID, LABEL, GROUP
bool is_landmark_column(const std::string& name);  // x0..x67, y0..y67
bool is_face_box_column(const std::string& name);  // face_x, face_y, face_w, face_h, face_score

// The skipped rows as a table: id (ID), reason (VALUE).
Table skipped_table(const std::vector<std::string>& ids, const std::vector<std::string>& reasons);

// The 68 landmarks of every row as interleaved x,y (136 per row) from the x0..x67 and
// y0..y67 columns; throws a mien::Error naming the first missing column.
std::vector<double> read_landmarks(const TableView& t, const std::string& component);
// Appends x0..x67 then y0..y67 (VALUE, float64) from interleaved rows.
void add_landmark_columns(Table& out, const std::vector<double>& xy, int64_t rows,
                          mien_column_role role = MIEN_ROLE_VALUE);

// ---------------------------------------------------------------------------------
// Parallel rows
// ---------------------------------------------------------------------------------
// Calls f(row, worker) for every row in [0, n) on `threads` workers (worker in
// [0, threads)). Rows are handed out in chunks; between chunks the calling thread reports
// progress and checks for cancellation (only the calling thread talks to the host).
// Results must be written per row, so the outcome does not depend on the thread count.
// An exception thrown by f is rethrown here (the first one, by row order).
void parallel_rows(int64_t n, unsigned threads, const Host& host, const char* note,
                   const std::function<void(int64_t row, unsigned worker)>& f);

// Runs `body` with OpenCV's own thread pool set to one thread (restored afterwards):
// the components parallelise over images themselves.
class OpenCvSingleThread {
 public:
  OpenCvSingleThread();
  ~OpenCvSingleThread();
  OpenCvSingleThread(const OpenCvSingleThread&) = delete;
  OpenCvSingleThread& operator=(const OpenCvSingleThread&) = delete;

 private:
  int previous_;
};

// The face-box selection policy of the detectors.
enum class Select { Largest, First, All };
Select parse_select(const std::string& s);

}  // namespace mien::face
