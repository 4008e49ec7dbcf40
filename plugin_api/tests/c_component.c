/* A tiny component written against the C ABI only (no SDK), to check that
 * mien::testing::Runner runs a component from nothing but its descriptor.
 * "test.c_scale": multiplies a float64 tensor by the parameter `factor`. */
#include <mien/plugin_abi.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int c_scale_deleted = 0; /* how many output tensors were freed */

typedef struct scale_instance {
  const mien_host_api* host;
  double factor;
} scale_instance;

typedef struct owned_tensor {
  mien_tensor t;
  int64_t shape[MIEN_MAX_NDIM];
} owned_tensor;

static void owned_delete(mien_tensor* t) {
  free(t->data);
  free(t->manager_ctx);
  ++c_scale_deleted;
}

static mien_status scale_create(const mien_host_api* host, mien_call_ctx* ctx, const mien_create_info* info,
                                mien_instance** out) {
  *out = NULL;
  scale_instance* s = (scale_instance*)malloc(sizeof *s);
  if (s == NULL) return MIEN_ERR_OUT_OF_MEMORY;
  s->host = host;
  s->factor = 2.0;
  const char* p = info->params_json ? strstr(info->params_json, "\"factor\":") : NULL;
  if (p != NULL) s->factor = strtod(p + strlen("\"factor\":"), NULL);
  if (s->factor == 0.0) {
    free(s);
    host->set_error(ctx, "factor must not be 0");
    return MIEN_ERR_INVALID_ARGUMENT;
  }
  host->log(ctx, MIEN_LOG_INFO, "c_scale created");
  *out = (mien_instance*)s;
  return MIEN_OK;
}

static void scale_destroy(mien_instance* inst) { free(inst); }

static mien_status scale_process(mien_instance* inst, mien_call_ctx* ctx, const mien_input* inputs,
                                 uint32_t num_inputs, mien_value* outputs, uint32_t num_outputs) {
  scale_instance* s = (scale_instance*)inst;
  const mien_host_api* host = s->host;
  if (num_inputs != 1 || num_outputs != 1 || inputs[0].count != 1) {
    host->set_error(ctx, "expected one input and one output");
    return MIEN_ERR_INTERNAL;
  }
  const mien_tensor* in = inputs[0].values[0].tensor;
  if (in == NULL || in->dtype != MIEN_DTYPE_F64 || in->strides != NULL) {
    host->set_error(ctx, "values must be a contiguous float64 tensor");
    return MIEN_ERR_INVALID_ARGUMENT;
  }
  if ((in->flags & MIEN_TENSOR_READ_ONLY) == 0) {
    host->set_error(ctx, "input tensors must be read-only");
    return MIEN_ERR_INTERNAL;
  }
  int64_t n = 1;
  for (int32_t i = 0; i < in->ndim; ++i) n *= in->shape[i];
  owned_tensor* o = (owned_tensor*)calloc(1, sizeof *o);
  double* data = (double*)malloc((size_t)(n > 0 ? n : 1) * sizeof(double));
  if (o == NULL || data == NULL) {
    free(o);
    free(data);
    return MIEN_ERR_OUT_OF_MEMORY;
  }
  for (int64_t i = 0; i < n; ++i) {
    if (host->is_cancelled(ctx)) {
      free(o);
      free(data);
      return MIEN_ERR_CANCELLED;
    }
    data[i] = ((const double*)in->data)[i] * s->factor;
    host->report_progress(ctx, (uint64_t)(i + 1), (uint64_t)n, NULL);
  }
  for (int32_t i = 0; i < in->ndim; ++i) o->shape[i] = in->shape[i];
  o->t.struct_size = sizeof(mien_tensor);
  o->t.dtype = MIEN_DTYPE_F64;
  o->t.ndim = in->ndim;
  o->t.shape = o->shape;
  o->t.data = data;
  o->t.manager_ctx = o;
  o->t.deleter = owned_delete;

  /* Leave a note in the port's folder. */
  const char* dir = host->output_dir(ctx, "scaled");
  if (dir != NULL) {
    char path[4096];
    snprintf(path, sizeof path, "%s/note.txt", dir);
    FILE* f = fopen(path, "w");
    if (f != NULL) {
      fprintf(f, "scaled %lld values by %g\n", (long long)n, s->factor);
      fclose(f);
    }
  }
  outputs[0].struct_size = sizeof(mien_value);
  outputs[0].kind = MIEN_VALUE_TENSOR;
  outputs[0].tensor = &o->t;
  return MIEN_OK;
}

static const mien_component_vtable scale_vtable = {sizeof(mien_component_vtable), scale_create, scale_destroy,
                                                   scale_process};

static const mien_port_desc scale_ports[] = {
    {sizeof(mien_port_desc), "values", MIEN_PORT_IN, MIEN_VALUE_TENSOR, 0, 0, "float64 values"},
    {sizeof(mien_port_desc), "scaled", MIEN_PORT_OUT, MIEN_VALUE_TENSOR, 0, 0, "values times factor"},
};

static const mien_component_desc scale_desc = {
    sizeof(mien_component_desc),
    "test.c_scale",
    1,
    MIEN_KIND_TRANSFORM,
    "Multiplies a tensor (a plain C component)",
    "{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{\"factor\":{\"type\":\"number\","
    "\"description\":\"multiplier\",\"default\":2.0,\"minimum\":-100,\"maximum\":100}}}",
    scale_ports,
    2,
    0,
    &scale_vtable,
    NULL};

const mien_component_desc* c_scale_descriptor(void) { return &scale_desc; }
