#include "images.hpp"

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

namespace mien::datasets {

namespace {

std::string hex_bytes(const unsigned char* p, size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    if (i) out += ' ';
    out += digits[p[i] >> 4];
    out += digits[p[i] & 15];
  }
  return out;
}

ImageCheck problem(const std::string& kind, const std::string& reason) {
  ImageCheck c;
  c.ok = false;
  c.problem = kind;
  c.reason = reason;
  return c;
}

// True when the JPEG's last bytes hold the end-of-image marker FF D9. Inside the
// entropy-coded data an FF byte is always followed by 00 or a restart marker, so FF D9
// near the end means the image data is complete; a few bytes of padding or trailer
// after it (some writers add them) are accepted.
bool jpeg_has_end(const unsigned char* tail, size_t n) {
  for (size_t i = n; i >= 2; --i)
    if (tail[i - 2] == 0xFF && tail[i - 1] == 0xD9) return true;
  return false;
}

uint32_t le32(const unsigned char* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) | (static_cast<uint32_t>(p[2]) << 16) |
         (static_cast<uint32_t>(p[3]) << 24);
}

}  // namespace

std::string sniff_format(const unsigned char* h, size_t n) {
  if (n >= 3 && h[0] == 0xFF && h[1] == 0xD8 && h[2] == 0xFF) return "jpeg";
  static const unsigned char png[8] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
  if (n >= 8 && std::memcmp(h, png, 8) == 0) return "png";
  if (n >= 4 && ((h[0] == 'I' && h[1] == 'I' && h[2] == 42 && h[3] == 0) ||
                 (h[0] == 'M' && h[1] == 'M' && h[2] == 0 && h[3] == 42)))
    return "tiff";
  if (n >= 2 && h[0] == 'B' && h[1] == 'M') return "bmp";
  return "";
}

// The largest image decoded: MIEN_MAX_IMAGE_PIXELS, default 100 Mpx (a 16000x16000 PNG of
// 250 KB would otherwise become gigabytes). The host sets OpenCV's own limit to the same.
uint64_t max_image_pixels() {
  static const uint64_t limit = [] {
    const char* v = std::getenv("MIEN_MAX_IMAGE_PIXELS");
    const unsigned long long n = v ? std::strtoull(v, nullptr, 10) : 0;
    return n > 0 ? static_cast<uint64_t>(n) : uint64_t{100000000};
  }();
  return limit;
}

// Width x height from the header, without decoding; 0 when the format's header is not
// understood here (OpenCV's own limit still applies then).
uint64_t header_pixels(const std::string& format, std::ifstream& in) {
  unsigned char b[1 << 16];
  in.clear();
  in.seekg(0);
  in.read(reinterpret_cast<char*>(b), sizeof b);
  const size_t n = static_cast<size_t>(in.gcount());
  in.clear();
  auto be16 = [&](size_t i) { return static_cast<uint32_t>(b[i] << 8 | b[i + 1]); };
  auto be32 = [&](size_t i) { return static_cast<uint64_t>(be16(i)) << 16 | be16(i + 2); };
  // The first chunk of a valid PNG is IHDR; anything else is left to the decoder to refuse.
  if (format == "png" && n >= 24) return std::memcmp(b + 12, "IHDR", 4) == 0 ? be32(16) * be32(20) : 0;
  if (format == "bmp" && n >= 26) {
    const int64_t w = static_cast<int32_t>(le32(b + 18)), h = static_cast<int32_t>(le32(b + 22));
    return static_cast<uint64_t>(w < 0 ? -w : w) * static_cast<uint64_t>(h < 0 ? -h : h);
  }
  if (format == "jpeg") {
    for (size_t i = 2; i + 9 < n;) {
      if (b[i] != 0xFF) return 0;
      const unsigned char m = b[i + 1];
      if (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC) return uint64_t{be16(i + 5)} * be16(i + 7);
      i += 2 + be16(i + 2);
    }
  }
  return 0;
}

ImageCheck check_image(const std::string& path, bool decode) {
  try {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec))  // never open a FIFO or a device: it blocks
      return problem("unreadable", "not a regular file (a FIFO, socket or device)");
    std::ifstream in(path, std::ios::binary);
    if (!in) return problem("unreadable", "cannot open the file");
    in.seekg(0, std::ios::end);
    const std::streamoff size = in.tellg();
    if (size <= 0) return problem("empty", "the file is empty");
    unsigned char head[16] = {0};
    const size_t nhead = static_cast<size_t>(std::min<std::streamoff>(size, 16));
    in.seekg(0);
    in.read(reinterpret_cast<char*>(head), static_cast<std::streamsize>(nhead));
    unsigned char tail[64] = {0};
    const size_t ntail = static_cast<size_t>(std::min<std::streamoff>(size, 64));
    in.seekg(size - static_cast<std::streamoff>(ntail));
    in.read(reinterpret_cast<char*>(tail), static_cast<std::streamsize>(ntail));
    if (!in) return problem("unreadable", "cannot read the file");

    const std::string format = sniff_format(head, nhead);
    if (format.empty())
      return problem("not_an_image", "not a JPEG, PNG, TIFF or BMP file (it starts with bytes " +
                                         hex_bytes(head, std::min<size_t>(nhead, 4)) + ")");
    if (format == "jpeg" && !jpeg_has_end(tail, ntail))
      return problem("truncated", "the JPEG data stops before its end-of-image marker (" + std::to_string(size) +
                                      " bytes): the file is cut short");
    if (format == "png") {
      static const unsigned char iend[12] = {0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xAE, 0x42, 0x60, 0x82};
      if (ntail < 12 || std::memcmp(tail + ntail - 12, iend, 12) != 0)
        return problem("truncated", "the PNG has no IEND chunk at its end (" + std::to_string(size) +
                                        " bytes): the file is cut short");
    }
    if (format == "bmp" && nhead >= 6) {
      const uint32_t declared = le32(head + 2);
      if (declared != 0 && static_cast<std::streamoff>(declared) > size)
        return problem("truncated", "the BMP header declares " + std::to_string(declared) + " bytes, the file has " +
                                        std::to_string(size));
    }
    if (const uint64_t px = header_pixels(format, in); px > max_image_pixels())
      return problem("too_large", "its header declares " + std::to_string(px) + " pixels, more than the limit of " +
                                      std::to_string(max_image_pixels()) + " (MIEN_MAX_IMAGE_PIXELS)");
    if (decode) {
      // JPEGs decode at 1/8 scale: the whole entropy-coded stream is still read, at a
      // fraction of the cost.
      const int flags = format == "jpeg" ? cv::IMREAD_REDUCED_GRAYSCALE_8 : cv::IMREAD_UNCHANGED;
      const cv::Mat m = cv::imread(path, flags);
      if (m.empty()) return problem("unreadable", "OpenCV cannot decode this " + format + " file");
    }
    return ImageCheck{};
  } catch (const cv::Exception& e) {
    return problem("unreadable", std::string("OpenCV cannot decode the file: ") + e.what());
  } catch (const std::exception& e) {
    return problem("unreadable", e.what());
  }
}

std::vector<ImageCheck> check_images(const std::vector<std::string>& paths, unsigned threads, const Host& host,
                                     const std::string& note) {
  const size_t n = paths.size();
  std::vector<ImageCheck> out(n);
  if (n == 0) return out;
  std::atomic<size_t> next{0};
  std::atomic<size_t> done{0};
  std::atomic<bool> stop{false};
  auto work_one = [&]() -> bool {
    const size_t i = next.fetch_add(1);
    if (i >= n) return false;
    out[i] = check_image(paths[i], true);
    done.fetch_add(1);
    return true;
  };
  const unsigned extra = std::min<unsigned>(threads > 0 ? threads - 1 : 0, static_cast<unsigned>(n > 1 ? n - 1 : 0));
  std::vector<std::thread> pool;
  pool.reserve(extra);
  for (unsigned t = 0; t < extra; ++t)
    pool.emplace_back([&] {
      while (!stop.load() && work_one()) {
      }
    });
  // The calling thread works too, and between files talks to the host.
  bool cancelled = false;
  size_t since_report = 0;
  while (true) {
    if (host.cancelled()) {
      cancelled = true;
      break;
    }
    if (!work_one()) break;
    if (++since_report >= 16) {
      since_report = 0;
      host.progress(done.load(), n, note.c_str());
    }
  }
  stop.store(true);
  for (auto& t : pool) t.join();
  if (cancelled) throw Cancelled();
  host.progress(n, n, note.c_str());
  return out;
}

}  // namespace mien::datasets
