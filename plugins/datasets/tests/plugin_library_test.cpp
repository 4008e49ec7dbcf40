// The built plugin library: loads through its one entry symbol and describes every reader.
#include <gtest/gtest.h>

#include <dlfcn.h>

#include <set>

#include <mien/plugin.hpp>

namespace {

TEST(DatasetsPlugin, LoadsAndListsTheReaders) {
  void* lib = dlopen(MIEN_DATASETS_PLUGIN_FILE, RTLD_NOW | RTLD_LOCAL);
  ASSERT_NE(lib, nullptr) << dlerror();
  auto entry = reinterpret_cast<mien_plugin_entry_fn>(dlsym(lib, MIEN_PLUGIN_ENTRY_NAME));
  ASSERT_NE(entry, nullptr);
  const mien_plugin_desc* d = entry();
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->abi_major, MIEN_ABI_VERSION_MAJOR);
  EXPECT_STREQ(d->name, "mien-datasets");
  ASSERT_NE(d->build_info_json, nullptr);
  EXPECT_TRUE(mien::Json::parse(d->build_info_json).contains("opencv"));
  std::set<std::string> ids;
  for (uint32_t i = 0; i < d->num_components; ++i) {
    const mien_component_desc* c = d->components[i];
    ids.insert(c->type_id);
    EXPECT_EQ(c->kind, MIEN_KIND_DATASET) << c->type_id;
    const mien::Json schema = mien::Json::parse(c->params_schema_json);
    const mien::Json required = schema.value("required", mien::Json::array());
    for (const auto& [name, p] : schema["properties"].items()) {
      EXPECT_TRUE(p.contains("description")) << c->type_id << "." << name;
      const bool is_required = std::find(required.begin(), required.end(), name) != required.end();
      EXPECT_TRUE(is_required || p.contains("default")) << c->type_id << "." << name;
    }
    std::set<std::string> ports;
    for (uint32_t k = 0; k < c->num_ports; ++k) ports.insert(c->ports[k].name);
    EXPECT_TRUE(ports.count("table") && ports.count("skipped") && ports.count("summary")) << c->type_id;
  }
  EXPECT_EQ(ids, (std::set<std::string>{"dataset.ckplus", "dataset.fer2013", "dataset.image_folder", "dataset.jaffe",
                                        "dataset.kdef", "dataset.image_files"}));
}

}  // namespace
