// The built plugin library: its entry symbol and descriptors, as the host sees them
// after dlopen.
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <mien/plugin.hpp>

#include <set>

namespace {

const mien_plugin_desc* load_plugin() {
  static void* handle = dlopen(MIEN_FACE_PLUGIN_FILE, RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    ADD_FAILURE() << "dlopen(" << MIEN_FACE_PLUGIN_FILE << "): " << dlerror();
    return nullptr;
  }
  auto entry = reinterpret_cast<mien_plugin_entry_fn>(dlsym(handle, MIEN_PLUGIN_ENTRY_NAME));
  if (entry == nullptr) {
    ADD_FAILURE() << "no " << MIEN_PLUGIN_ENTRY_NAME;
    return nullptr;
  }
  return entry();
}

}  // namespace

TEST(FacePlugin, DescribesItsSixComponentsWithDocumentedParameters) {
  const mien_plugin_desc* p = load_plugin();
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(std::string(p->name), "mien-face");
  EXPECT_EQ(p->abi_major, MIEN_ABI_VERSION_MAJOR);
  ASSERT_NE(p->build_info_json, nullptr);
  const mien::Json build = mien::Json::parse(p->build_info_json);
  EXPECT_EQ(build["dlib"], "19.24");
  EXPECT_TRUE(build.contains("opencv"));
  std::set<std::string> ids;
  for (uint32_t i = 0; i < p->num_components; ++i) {
    const mien_component_desc* c = p->components[i];
    ids.insert(c->type_id);
    const mien::Json schema = mien::Json::parse(c->params_schema_json);
    for (auto& [name, prop] : schema["properties"].items()) {
      EXPECT_TRUE(prop.contains("description")) << c->type_id << "." << name;
      EXPECT_TRUE(prop.contains("default")) << c->type_id << "." << name;
    }
    for (uint32_t k = 0; k < c->num_ports; ++k) EXPECT_NE(std::string(c->ports[k].doc), "") << c->type_id;
  }
  EXPECT_EQ(ids, (std::set<std::string>{"detect.dlib_hog", "detect.opencv_haar", "landmarks.dlib68", "align.eyes",
                                        "features.geometric", "features.landmarks"}));
}

TEST(FacePlugin, OnlyTheEntrySymbolIsExported) {
  ASSERT_NE(load_plugin(), nullptr);
  void* handle = dlopen(MIEN_FACE_PLUGIN_FILE, RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD);
  ASSERT_NE(handle, nullptr);
  EXPECT_EQ(dlsym(handle, "_ZN4mien4face17read_image_fileERKNSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEENS0_9ImageModeEPS6_"), nullptr);
  EXPECT_NE(dlsym(handle, MIEN_PLUGIN_ENTRY_NAME), nullptr);
}
