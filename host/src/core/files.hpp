// File helpers with one rule: a file or folder either appears complete or not at all.
#pragma once

#include <string>

namespace mien::host {

// This machine's name as temporary names carry it ("/" and "@" replaced).
std::string this_host();
// Writes to "<path>.tmp-<pid>-<n>@<host>", fsyncs, then renames over path.
void write_file_atomic(const std::string& path, const std::string& content);
std::string read_file(const std::string& path);  // throws std::runtime_error naming the file
// A fresh, empty folder next to `final_path` ("<final>.tmp-<pid>-<n>@<host>") to fill and then publish.
std::string make_staging_dir(const std::string& final_path);
// Renames the staging folder to final_path; returns false when final_path already exists
// (another process published first), removing staging unless keep_staging_on_failure.
bool publish_dir(const std::string& staging, const std::string& final_path, bool keep_staging_on_failure = false);
// Mirrors a file or folder tree with hard links, copying where links are not possible.
void link_or_copy_tree(const std::string& from, const std::string& to);
// Removes leftovers of interrupted writes ("*.tmp-*") directly inside dir.
void remove_stale_temporaries(const std::string& dir);

}  // namespace mien::host
