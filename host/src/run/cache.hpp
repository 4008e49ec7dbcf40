// The cache's trust rules, in one place:
//  * what goes into a key besides parameters and input keys: the content of every file a
//    component declared it reads (parameters whose schema says "format": "input-path");
//  * what an entry promises: entry.json lists every file it holds with size and SHA-256,
//    and reusing an entry checks them (sizes always, hashes when the entry is small enough
//    or on `mien cache verify`); a damaged entry is discarded and its node reruns;
//  * how a run folder gets an entry's files without aliasing the cache writably;
//  * why a node ran or was cached (`mien run --explain-cache`, the manifest's "cache").
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "graph/experiment.hpp"

namespace mien::host {

// Thrown when the run is cancelled while input files are being hashed: a key computed
// from part of the files must never be used.
struct DigestCancelled : std::runtime_error {
  DigestCancelled() : std::runtime_error("cancelled while hashing input files") {}
};

// ---- input files ------------------------------------------------------------------------

// The parameters of a node that name files or folders it reads: (parameter, its values).
// A parameter is declared with "format": "input-path" in the component's schema; its value
// is a string or a list of strings, relative paths resolved against the experiment's folder.
std::vector<std::pair<std::string, std::vector<std::string>>> declared_input_paths(const ResolvedNode& node);

// What the key sees of those files, per parameter and path:
//   {"root": [{"path": "data/KDEF", "type": "folder", "files": {"AF01/AF01AFS.JPG": "<sha256>", ...},
//              "other": {"x.fifo": "fifo", "gone.jpg": "dangling link"}}]}
// A folder is walked recursively (links to folders are not followed, as the readers do);
// FIFOs, devices and sockets are recorded by name and never opened. Content hashes are
// remembered in <cache_dir>/input-hashes/ by (size, mtime, ctime, inode), so a file is
// read again only when one of those changed. Null when the node declares no files.
nlohmann::json digest_input_files(const ResolvedNode& node, const std::string& base_dir, const std::string& cache_dir);

// ---- entries ----------------------------------------------------------------------------

// Every file below an entry (entry.json excluded): {"rel/path": {"size": n, "sha256": h}}.
nlohmann::json describe_entry_files(const std::string& entry_dir);

// Entries up to this many bytes have every file hashed when reused (MIEN_CACHE_VERIFY_BYTES,
// default 64 MiB); larger ones have sizes and modification times checked, and any file
// whose time changed is hashed.
uint64_t verify_hash_limit();

// "" when the entry holds exactly the files its entry.json lists, with their sizes (and,
// with full_hash or a small entry, their hashes); otherwise what is wrong, naming the file.
std::string check_entry(const std::string& entry_dir, bool full_hash);

// Moves a damaged entry out of the way (atomically, so a concurrent reader never sees half
// of it) and removes it.
void discard_entry(const std::string& entry_dir);

// Makes every file below dir read-only (the cache's files are never edited in place).
void make_tree_read_only(const std::string& dir);

// Notes that the entry was used now (its folder's mtime; `mien cache gc` removes the
// least recently used).
void touch_entry(const std::string& entry_dir);

// Gives <to> the content of the cache file <from> without letting an edit of <to> reach
// the cache: a reflink (copy-on-write) where the file system offers one, a copy up to
// MIEN_CACHE_COPY_BYTES (64 MiB) per file, else a hard link to the read-only cache file.
// Returns "reflink", "copy" or "link".
std::string materialize_file(const std::string& from, const std::string& to);
// The same for every file of a tree.
void materialize_tree(const std::string& from, const std::string& to);

// ---- why a node ran ---------------------------------------------------------------------

// Where the key material of the last run of (experiment, node) with this cache is kept.
std::string last_material_file(const std::string& cache_dir, const std::string& experiment, const std::string& node);
void remember_material(const std::string& cache_dir, const std::string& experiment, const std::string& node,
                       const nlohmann::json& material);
// A sentence saying what differs between the key material of the last run and this one
// ("parameter 'epochs' changed (10 -> 20)", "input files of 'path' changed: 1 changed
// (labels.csv)"), or "" when nothing does.
std::string explain_difference(const nlohmann::json& previous, const nlohmann::json& current,
                               const std::vector<std::string>& input_port_names);

// ---- the cache as a whole (`mien cache du|verify|gc`) ------------------------------------

struct CacheEntryInfo {
  std::string dir;
  std::string key;
  std::string node;      // as recorded by the run that published it
  std::string type_id;
  uint64_t bytes = 0;
  int64_t last_used = 0;  // unix seconds
  bool complete = false;  // has entry.json
};
std::vector<CacheEntryInfo> list_cache_entries(const std::string& cache_dir);

}  // namespace mien::host
