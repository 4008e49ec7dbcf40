// Opens a model artifact through the component that wrote it and exposes it to
// consumers as a mien_model_ref. The consumer never learns which plugin backs it.
#pragma once

#include <mien/plugin_abi.h>

#include <memory>
#include <string>

#include "loader/catalog.hpp"
#include "run/stored_value.hpp"

namespace mien::host {

class OpenedModel {
 public:
  // Throws std::runtime_error naming the artifact and the component on failure.
  OpenedModel(const ComponentEntry& producer, const ModelArtifact& artifact, uint32_t num_threads, mien_call_ctx* ctx);
  ~OpenedModel();
  OpenedModel(const OpenedModel&) = delete;
  OpenedModel& operator=(const OpenedModel&) = delete;

  const mien_model_ref* ref() const { return &ref_; }

 private:
  static mien_status predict(const mien_model_ref*, mien_call_ctx*, const mien_tensor*, mien_tensor**);
  static mien_status input_gradient(const mien_model_ref*, mien_call_ctx*, const mien_tensor*, const int64_t*,
                                    mien_tensor**, mien_tensor**);
  static mien_status layer_gradient(const mien_model_ref*, mien_call_ctx*, const char*, const mien_tensor*,
                                    const int64_t*, mien_tensor**, mien_tensor**, mien_tensor**);

  const ComponentEntry& producer_;
  const mien_model_vtable* vt_ = nullptr;
  mien_model_handle* handle_ = nullptr;
  std::string info_;
  mien_model_ref ref_{};
};

}  // namespace mien::host
