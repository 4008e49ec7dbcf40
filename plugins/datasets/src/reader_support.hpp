// What the data set readers share: the canonical class vocabulary, class maps, name
// suggestions, folder listing, and the Collector that turns candidate samples into the
// `table`, `skipped` and `summary` outputs every reader emits.
#pragma once

#include <mien/plugin.hpp>
#include <mien/suggest.hpp>
#include <mien/text.hpp>

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace mien::datasets {

namespace fs = std::filesystem;
using OrderedJson = nlohmann::ordered_json;

// ---- names ----------------------------------------------------------------------------

// fear, anger, disgust, happy, neutral, sad, surprise, contempt (plugins/CONVENTIONS.md).
const std::vector<std::string>& canonical_classes();
// Position in the canonical order, or -1.
int canonical_index(const std::string& name);
// Common spellings of the canonical classes (angry, afraid, happiness, ...) -> canonical.
const std::vector<std::pair<std::string, std::string>>& class_synonyms();

std::string lower(std::string s);
std::string upper(std::string s);
std::string trim(const std::string& s);
using mien::join;  // <mien/text.hpp>

// Misspelt names: mien::closest_name and mien::did_you_mean from the SDK.
using mien::closest_name;
using mien::did_you_mean;

// ---- parameters -----------------------------------------------------------------------

// The schema fragment of a class_map parameter: a mapping code -> class name or null.
Json class_map_schema();

// A data set's codes (file-name codes, numbers, folder names) -> canonical class names.
// Built from the reader's defaults and the `class_map` parameter, whose entries replace
// the defaults one by one; a code mapped to null (here "") drops its samples.
class ClassMap {
 public:
  // `closed`: the parameter may only name the default codes (else any code is added).
  // `fold_case`: codes are compared case-insensitively.
  ClassMap(const std::vector<std::pair<std::string, std::string>>& defaults, const Json& overrides, bool closed,
           bool fold_case, const std::string& what_codes);
  // nullptr: no such code; "": dropped (mapped to null); else a canonical class name.
  const std::string* find(const std::string& code) const;
  // The effective mapping, in the defaults' order then the added codes (null = dropped).
  OrderedJson to_json() const;
  // The codes as written in the defaults and the parameter.
  std::vector<std::string> codes() const;

 private:
  std::string key(const std::string& code) const { return fold_case_ ? lower(code) : code; }
  std::vector<std::pair<std::string, std::string>> entries_;
  std::map<std::string, size_t> index_;
  bool fold_case_;
};

// The `classes` parameter checked: canonical names, no repeats. [] stays [].
std::vector<std::string> check_classes(const std::vector<std::string>& classes);

// A folder parameter resolved against the experiment's folder and made absolute; an
// Error names the parameter when it is missing or not a folder.
fs::path resolve_folder(const Setup& s, const std::string& value, const std::string& param);
fs::path resolve_file(const Setup& s, const std::string& value, const std::string& param);

// ---- files ----------------------------------------------------------------------------

// .jpg .jpeg .png .bmp .tif .tiff, any case.
bool has_image_extension(const fs::path& p);

struct Listing {
  std::vector<fs::path> files;  // regular files, sorted, absolute
  size_t hidden = 0;            // names starting with '.' (._AF01AFS.JPG, .DS_Store), not listed
};
// Every regular file under `root` (recursively, symlinked folders not followed).
Listing list_files(const fs::path& root, const Host& host);
// A child folder of `dir` whose name equals `name` ignoring case, or "" when none.
fs::path find_child_folder(const fs::path& dir, const std::string& name);

// ---- samples and problems -------------------------------------------------------------

struct Sample {
  std::string id;
  std::string label;                // canonical class name
  std::vector<std::string> groups;  // one per group column, in the reader's order
  std::string path;                 // absolute; "" when the reader has no files
  std::vector<double> values;       // the reader's extra VALUE columns (landmarks)
  size_t index = 0;                 // the reader's own index (FER2013: its pixel slot)
};

// Collects a reader's samples and problems and assembles its outputs.
class Collector {
 public:
  Collector(std::string component, const Host& host);

  // A file (or CSV line) that yields no sample: listed in `skipped`, warned about.
  void skip(const std::string& path, const std::string& problem, const std::string& reason);
  // A sample left out on purpose (pose, series, usage, classes, class_map null ...):
  // counted in the summary under `excluded`.
  void exclude(const std::string& why, size_t n = 1);
  void add(Sample s) { samples_.push_back(std::move(s)); }
  std::vector<Sample>& samples() { return samples_; }

  // Drops the samples whose class is not in `classes` ([] keeps all).
  void restrict_classes(const std::vector<std::string>& classes);
  // Checks every sample's file (see images.hpp); failures become skips. Cancellable.
  void verify_images(unsigned threads);

  struct Spec {
    std::string dataset;                   // "kdef"
    std::string source;                    // the root folder or file, absolute
    std::vector<std::string> group_names;  // GROUP columns, in Sample::groups order
    std::vector<std::string> value_names;  // VALUE columns, in Sample::values order
    bool with_path = true;
    std::vector<std::string> classes;      // the `classes` parameter ([] = present classes)
    OrderedJson class_map;
    OrderedJson extra = OrderedJson::object();  // reader-specific summary entries
  };
  struct Result {
    Table table;
    Table skipped;
    OrderedJson summary;
    std::vector<size_t> kept;  // Sample::index of each table row, in row order
  };
  // Sorts by id, drops repeated ids (skipped as duplicates), warns about every skip,
  // builds the tables and the summary. Throws when no sample is left.
  Result finish(const Spec& spec);

 private:
  std::string component_;
  const Host& host_;
  std::vector<Sample> samples_;
  std::map<std::string, std::pair<std::string, std::string>> skips_;  // path -> problem, reason
  std::map<std::string, size_t> excluded_;
};

}  // namespace mien::datasets
