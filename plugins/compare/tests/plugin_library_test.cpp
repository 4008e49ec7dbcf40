// The built plugin library: loads through its one entry symbol and describes both components,
// each parameter documented with a default and each with the headline output the host prints.
#include <gtest/gtest.h>

#include <dlfcn.h>

#include <algorithm>
#include <set>

#include <mien/plugin.hpp>

namespace {

TEST(ComparePlugin, LoadsAndListsItsComponents) {
  void* lib = dlopen(MIEN_COMPARE_PLUGIN_FILE, RTLD_NOW | RTLD_LOCAL);
  ASSERT_NE(lib, nullptr) << dlerror();
  auto entry = reinterpret_cast<mien_plugin_entry_fn>(dlsym(lib, MIEN_PLUGIN_ENTRY_NAME));
  ASSERT_NE(entry, nullptr);
  const mien_plugin_desc* d = entry();
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->abi_major, MIEN_ABI_VERSION_MAJOR);
  EXPECT_STREQ(d->name, "mien-compare");
  std::set<std::string> ids;
  for (uint32_t i = 0; i < d->num_components; ++i) {
    const mien_component_desc* c = d->components[i];
    ids.insert(c->type_id);
    EXPECT_EQ(c->kind, MIEN_KIND_REPORT) << c->type_id;
    const mien::Json schema = mien::Json::parse(c->params_schema_json);
    for (const auto& [name, p] : schema["properties"].items()) {
      EXPECT_TRUE(p.contains("description")) << c->type_id << "." << name;
      EXPECT_TRUE(p.contains("default")) << c->type_id << "." << name;
    }
    std::set<std::string> outs;
    for (uint32_t k = 0; k < c->num_ports; ++k) {
      EXPECT_NE(std::string(c->ports[k].doc), "") << c->type_id << "." << c->ports[k].name;
      if (c->ports[k].dir == MIEN_PORT_OUT) outs.insert(c->ports[k].name);
    }
    EXPECT_EQ(outs, (std::set<std::string>{"table", "summary", "text", "headline"})) << c->type_id;
  }
  EXPECT_EQ(ids, (std::set<std::string>{"report.compare_explainers", "report.aggregate"}));
}

}  // namespace
