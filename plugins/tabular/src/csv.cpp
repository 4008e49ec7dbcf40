#include "csv.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace mien::tabular {

namespace {

std::string strip_spaces(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && s[b] == ' ') ++b;
  while (e > b && s[e - 1] == ' ') --e;
  return s.substr(b, e - b);
}

bool blank(const CsvRecord& r) {
  return r.fields.size() == 1 && !r.fields[0].quoted && r.fields[0].text.empty();
}

}  // namespace

char sniff_delimiter(const std::string& text) {
  const char candidates[] = {',', '\t', ';', '|'};
  size_t counts[4] = {0, 0, 0, 0};
  bool in_quotes = false;
  for (char c : text) {
    if (c == '"') in_quotes = !in_quotes;
    if (in_quotes) continue;
    if (c == '\n' || c == '\r') break;
    for (int k = 0; k < 4; ++k)
      if (c == candidates[k]) ++counts[k];
  }
  int best = 0;
  for (int k = 1; k < 4; ++k)
    if (counts[k] > counts[best]) best = k;
  return counts[best] == 0 ? ',' : candidates[best];
}

std::optional<char> delimiter_for_extension(const std::string& path) {
  const size_t dot = path.find_last_of('.');
  const size_t slash = path.find_last_of('/');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return std::nullopt;
  std::string ext = path.substr(dot + 1);
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (ext == "tsv" || ext == "tab") return '\t';
  return std::nullopt;
}

std::string delimiter_name(char d) { return d == '\t' ? std::string("TAB") : std::string(1, d); }

CsvData parse_csv(const std::string& text, char delimiter, const std::string& display, const Host* host) {
  CsvData out;
  out.delimiter = delimiter;
  size_t pos = 0;
  const size_t n = text.size();
  if (n >= 3 && static_cast<unsigned char>(text[0]) == 0xEF && static_cast<unsigned char>(text[1]) == 0xBB &&
      static_cast<unsigned char>(text[2]) == 0xBF)
    pos = 3;
  size_t line = 1;
  bool have_header = false;
  size_t next_report = 0;

  while (pos < n) {
    if (host && pos >= next_report) {
      host->check_cancelled();
      host->progress(pos, n, "reading");
      next_report = pos + (1u << 16);
    }
    CsvRecord rec;
    rec.line = line;
    // One record.
    for (;;) {
      CsvField field;
      if (pos < n && text[pos] == '"') {
        field.quoted = true;
        const size_t start_line = line;
        ++pos;
        for (;;) {
          if (pos >= n)
            throw Error(display + ":" + std::to_string(start_line) + ": a quoted field is never closed");
          const char c = text[pos];
          if (c == '"') {
            if (pos + 1 < n && text[pos + 1] == '"') {
              field.text += '"';
              pos += 2;
              continue;
            }
            ++pos;
            break;
          }
          if (c == '\n') ++line;
          field.text += c;
          ++pos;
        }
        // Only spaces may follow the closing quote.
        while (pos < n && text[pos] == ' ' && delimiter != ' ') ++pos;
        if (pos < n && text[pos] != delimiter && text[pos] != '\n' && text[pos] != '\r')
          throw Error(display + ":" + std::to_string(line) + ": unexpected character '" + std::string(1, text[pos]) +
                      "' after a closing quote (a quote inside a quoted field is written \"\")");
      } else {
        const size_t start = pos;
        while (pos < n && text[pos] != delimiter && text[pos] != '\n' && text[pos] != '\r') ++pos;
        field.text = strip_spaces(text.substr(start, pos - start));
      }
      rec.fields.push_back(std::move(field));
      if (pos < n && text[pos] == delimiter) {
        ++pos;
        continue;
      }
      // End of record: \n, \r\n, a lone \r, or the end of the text.
      if (pos < n && text[pos] == '\r') ++pos;
      if (pos < n && text[pos] == '\n') ++pos;
      ++line;
      break;
    }
    if (blank(rec)) continue;
    if (!have_header) {
      for (auto& f : rec.fields) out.header.push_back(f.text);
      out.header_line = rec.line;
      have_header = true;
      continue;
    }
    if (rec.fields.size() != out.header.size())
      throw Error(display + ":" + std::to_string(rec.line) + ": " + std::to_string(rec.fields.size()) +
                  (rec.fields.size() == 1 ? " field" : " fields") + ", but the header has " +
                  std::to_string(out.header.size()) + " columns (delimiter '" + delimiter_name(delimiter) + "')");
    out.rows.push_back(std::move(rec));
  }
  if (!have_header) throw Error(display + " is empty");
  if (out.rows.empty()) throw Error(display + " has a header but no data rows");
  if (host) host->progress(n, n, "reading");
  return out;
}

CsvData read_csv(const std::string& path, const std::string& display, const Host* host) {
  std::error_code ec;
  const auto type = std::filesystem::status(path, ec).type();
  if (type == std::filesystem::file_type::directory) throw Error("cannot read " + display + ": it is a folder", MIEN_ERR_IO);
  // Opening a FIFO blocks until a writer comes, and a device never ends: refuse both first.
  if (!ec && type != std::filesystem::file_type::regular)
    throw Error("cannot read " + display + ": not a regular file (a FIFO, socket or device)", MIEN_ERR_IO);
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int err = errno;
    std::string msg = "cannot open " + display;
    if (display != path) msg += " (" + path + ")";
    throw Error(msg + ": " + std::strerror(err), MIEN_ERR_IO);
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) throw Error("cannot read " + display, MIEN_ERR_IO);
  const std::string text = buf.str();
  const char delimiter = delimiter_for_extension(path).value_or(sniff_delimiter(text));
  return parse_csv(text, delimiter, display, host);
}

}  // namespace mien::tabular
