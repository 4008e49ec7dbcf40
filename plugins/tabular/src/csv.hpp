// A small RFC-4180 reader: quoted fields (with "" for a quote, delimiters and line
// breaks inside), CRLF or LF line ends, a UTF-8 byte-order mark, blank lines skipped.
// Unquoted fields lose surrounding spaces. Every record remembers the line it starts on.
#pragma once

#include <mien/plugin.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace mien::tabular {

struct CsvField {
  std::string text;
  bool quoted = false;
};

struct CsvRecord {
  size_t line = 0;  // 1-based line number the record starts on
  std::vector<CsvField> fields;
};

struct CsvData {
  char delimiter = ',';
  size_t header_line = 1;
  std::vector<std::string> header;
  std::vector<CsvRecord> rows;  // data records (the header excluded)
};

// The delimiter among , TAB ; | that occurs most often (outside quotes) in the first
// line; ',' when none does.
char sniff_delimiter(const std::string& text);

// '\t' for .tsv / .tab files, otherwise empty (sniff).
std::optional<char> delimiter_for_extension(const std::string& path);

// Parses `text`. `display` names the file in error messages ("data.csv:17: ...").
// `host` (optional) receives progress and is polled for cancellation.
CsvData parse_csv(const std::string& text, char delimiter, const std::string& display, const Host* host = nullptr);

// Reads and parses a file; the delimiter comes from the extension or is sniffed.
// Errors: MIEN_ERR_IO when the file cannot be read, else MIEN_ERR_INVALID_ARGUMENT.
CsvData read_csv(const std::string& path, const std::string& display, const Host* host = nullptr);

// "TAB" for '\t', else the character itself.
std::string delimiter_name(char d);

}  // namespace mien::tabular
