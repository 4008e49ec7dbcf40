// The built plugin library: its entry symbol, descriptors, and a run through the
// descriptor alone (as the host would, after dlopen).
#include <dlfcn.h>
#include <gtest/gtest.h>

#include <set>

#include "test_support.hpp"

namespace {

const mien_plugin_desc* load_plugin() {
  static void* handle = dlopen(MIEN_TABULAR_PLUGIN_FILE, RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    ADD_FAILURE() << "dlopen(" << MIEN_TABULAR_PLUGIN_FILE << "): " << dlerror();
    return nullptr;
  }
  auto entry = reinterpret_cast<mien_plugin_entry_fn>(dlsym(handle, MIEN_PLUGIN_ENTRY_NAME));
  if (entry == nullptr) {
    ADD_FAILURE() << "no " << MIEN_PLUGIN_ENTRY_NAME;
    return nullptr;
  }
  return entry();
}

const mien_component_desc* component(const mien_plugin_desc* p, const std::string& type_id) {
  for (uint32_t i = 0; i < p->num_components; ++i)
    if (type_id == p->components[i]->type_id) return p->components[i];
  return nullptr;
}

TEST(TabularPlugin, DescribesItsComponents) {
  const mien_plugin_desc* p = load_plugin();
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(std::string(p->name), "mien-tabular");
  EXPECT_EQ(std::string(p->version), "0.1.0");
  EXPECT_EQ(std::string(p->license), "MIT");
  EXPECT_EQ(p->abi_major, MIEN_ABI_VERSION_MAJOR);
  std::set<std::string> ids;
  for (uint32_t i = 0; i < p->num_components; ++i) {
    const mien_component_desc* c = p->components[i];
    ids.insert(c->type_id);
    const mien::Json schema = mien::Json::parse(c->params_schema_json);
    for (auto& [name, prop] : schema["properties"].items()) {
      EXPECT_TRUE(prop.contains("description")) << c->type_id << "." << name;
      EXPECT_TRUE(prop.contains("default") || schema["required"].dump().find('"' + name + '"') != std::string::npos)
          << c->type_id << "." << name;
    }
    for (uint32_t k = 0; k < c->num_ports; ++k) EXPECT_NE(std::string(c->ports[k].doc), "") << c->type_id;
  }
  EXPECT_EQ(ids, (std::set<std::string>{"dataset.table", "split.holdout", "split.group_kfold", "transform.standardize",
                                        "transform.filter", "transform.subject_baseline"}));
  EXPECT_EQ(component(p, "dataset.table")->kind, MIEN_KIND_DATASET);
  EXPECT_EQ(component(p, "split.holdout")->kind, MIEN_KIND_TRANSFORM);
}

TEST(TabularPlugin, OnlyTheEntrySymbolIsExported) {
  ASSERT_NE(load_plugin(), nullptr);
  void* handle = dlopen(MIEN_TABULAR_PLUGIN_FILE, RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD);
  ASSERT_NE(handle, nullptr);
  // mien::tabular::group_rows, an internal function with external linkage in the sources.
  EXPECT_EQ(dlsym(handle, "_ZN4mien7tabular10group_rowsERKNS_10ColumnViewEl"), nullptr);
  dlclose(handle);
}

TEST(TabularPlugin, RunsAChainThroughTheLoadedLibrary) {
  const mien_plugin_desc* p = load_plugin();
  ASSERT_NE(p, nullptr);
  tabular_test::TempDir d;
  std::string csv = "subject,emotion,a,b\n";
  for (int i = 0; i < 40; ++i)
    csv += "S" + std::to_string(i / 4) + "," + (i % 2 ? "happy" : "sad") + "," + std::to_string(i) + "," +
           std::to_string(i * i) + "\n";
  d.write("faces.csv", csv);
  mien::testing::Runner data(component(p, "dataset.table"),
                             {{"path", "faces.csv"}, {"label", "emotion"}, {"groups", {"subject"}}});
  data.set_base_dir(d.path());
  ASSERT_EQ(data.run(), MIEN_OK) << data.error();
  EXPECT_EQ(data.json("summary")["rows"], 40);

  mien::testing::Runner split(component(p, "split.group_kfold"), {{"folds", 5}, {"fold", 2}, {"group", "subject"}}, 3);
  split.set_input("table", data.table("table"));
  ASSERT_EQ(split.run(), MIEN_OK) << split.error();
  EXPECT_EQ(split.table("test").num_rows() + split.table("train").num_rows(), 40);

  mien::testing::Runner scale(component(p, "transform.standardize"));
  scale.set_input("train", split.table("train")).set_input("apply", split.table("test"));
  ASSERT_EQ(scale.run(), MIEN_OK) << scale.error();
  EXPECT_EQ(scale.json("scaler")["features"], mien::Json({"a", "b"}));
  EXPECT_EQ(scale.table("apply").num_rows(), split.table("test").num_rows());
}

}  // namespace
