#include "run/model_ref.hpp"

#include <stdexcept>

#include "run/call_context.hpp"

namespace mien::host {

OpenedModel::OpenedModel(const ComponentEntry& producer, const ModelArtifact& artifact, uint32_t num_threads,
                         mien_call_ctx* ctx)
    : producer_(producer) {
  vt_ = producer.desc ? producer.desc->model : nullptr;
  if (vt_ == nullptr) throw std::runtime_error(producer.key() + " cannot open models (it has no model vtable)");
  ctx->error.clear();
  const mien_status st = vt_->open(host_api(), ctx, artifact.dir.c_str(), num_threads, &handle_);
  if (st != MIEN_OK || handle_ == nullptr) {
    throw std::runtime_error("cannot open the model in " + artifact.dir + " with " + producer.key() +
                             (ctx->error.empty() ? std::string() : ": " + ctx->error));
  }
  const char* info = vt_->info_json ? vt_->info_json(handle_) : nullptr;
  info_ = info ? info : "{}";
  ref_.struct_size = sizeof(mien_model_ref);
  ref_.capabilities = producer.model_caps;
  ref_.info_json = info_.c_str();
  ref_.opaque = this;
  ref_.predict = &OpenedModel::predict;
  ref_.input_gradient = (vt_->input_gradient && (producer.model_caps & MIEN_CAP_INPUT_GRADIENT)) ? &OpenedModel::input_gradient : nullptr;
  ref_.layer_gradient = (vt_->layer_gradient && (producer.model_caps & MIEN_CAP_LAYER_GRADIENT)) ? &OpenedModel::layer_gradient : nullptr;
}

OpenedModel::~OpenedModel() {
  if (handle_ != nullptr && vt_ != nullptr && vt_->close != nullptr) vt_->close(handle_);
}

mien_status OpenedModel::predict(const mien_model_ref* self, mien_call_ctx* ctx, const mien_tensor* in, mien_tensor** out) {
  auto* m = static_cast<OpenedModel*>(self->opaque);
  return m->vt_->predict(m->handle_, ctx, in, out);
}

mien_status OpenedModel::input_gradient(const mien_model_ref* self, mien_call_ctx* ctx, const mien_tensor* in,
                                        const int64_t* classes, mien_tensor** grad, mien_tensor** scores) {
  auto* m = static_cast<OpenedModel*>(self->opaque);
  return m->vt_->input_gradient(m->handle_, ctx, in, classes, grad, scores);
}

mien_status OpenedModel::layer_gradient(const mien_model_ref* self, mien_call_ctx* ctx, const char* layer,
                                        const mien_tensor* in, const int64_t* classes, mien_tensor** act,
                                        mien_tensor** grad, mien_tensor** scores) {
  auto* m = static_cast<OpenedModel*>(self->opaque);
  return m->vt_->layer_gradient(m->handle_, ctx, layer, in, classes, act, grad, scores);
}

}  // namespace mien::host
