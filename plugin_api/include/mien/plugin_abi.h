/* mien plugin ABI: the whole contract between the mien host and a plugin library.
 *
 * Compiles as C11 and as C++17. Depends only on <stdint.h> and <stddef.h>.
 * Read plugin_api/README.md and plugin_api/docs/abi.md for the guide; the rules
 * that matter most are repeated here.
 *
 * OWNERSHIP AND LIFETIME
 *  1. Static descriptor data (names, schemas, port tables, vtables) lives until the
 *     library is unloaded. The host never frees it and never unloads a library
 *     during a run.
 *  2. Anything passed host -> plugin (parameters, input values, paths) is borrowed:
 *     valid only for the duration of the call, and read-only. Copy what you keep.
 *  3. Any string passed plugin -> host through a host function (log, error,
 *     progress note) is copied before that function returns.
 *  4. A mien_instance belongs to the plugin from create() until destroy(). The host
 *     calls destroy() exactly once, also after process() failed.
 *  5. Output values (tensors, tables) belong to the host once process() returns
 *     MIEN_OK; the host calls their deleter exactly once. If process() fails, the
 *     plugin frees whatever it allocated (the host ignores the output slots).
 *     Output text (STRING, JSON, a MODEL's description) stays the plugin's: it must
 *     stay valid until destroy() of the instance; the host copies it after process()
 *     returns and before it calls destroy().
 *  6. Exceptions, longjmp and C++ types never cross this boundary.
 *
 * THREADING
 *  Unless a component sets MIEN_COMPONENT_THREAD_SAFE the host never calls process()
 *  concurrently on one instance, but it may call from different threads, so keep
 *  per-instance state in the instance, not in thread-locals.
 *
 * VERSIONING
 *  A plugin loads when its ABI major equals the host's and its minor is not newer.
 *  Structs only grow (fields are appended, each marked "since 1.N"); every struct
 *  starts with struct_size, and a reader checks it before touching a later field.
 */
#ifndef MIEN_PLUGIN_ABI_H
#define MIEN_PLUGIN_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MIEN_ABI_VERSION_MAJOR 1
#define MIEN_ABI_VERSION_MINOR 1

/* The one symbol a plugin library exports. */
#define MIEN_PLUGIN_ENTRY_NAME "mien_plugin_entry_v1"

#if defined(_WIN32)
#define MIEN_EXPORT __declspec(dllexport)
#else
#define MIEN_EXPORT __attribute__((visibility("default")))
#endif

/* True when a struct of the given size (as set by its producer) contains `field`. */
#define MIEN_HAS_FIELD(ptr, type, field) \
  ((ptr) != NULL && (size_t)(ptr)->struct_size >= offsetof(type, field) + sizeof(((type*)0)->field))

typedef enum mien_status {
  MIEN_OK = 0,
  MIEN_ERR_INVALID_ARGUMENT = 1, /* bad parameter or input value */
  MIEN_ERR_UNSUPPORTED = 2,      /* e.g. a model asked for a capability it lacks */
  MIEN_ERR_OUT_OF_MEMORY = 3,
  MIEN_ERR_CANCELLED = 4, /* is_cancelled() said so; partial work discarded */
  MIEN_ERR_IO = 5,        /* a file could not be read or written */
  MIEN_ERR_INTERNAL = 6   /* anything else (an uncaught exception, a bug) */
} mien_status;

/* What a component is for; reports and `mien plugins` group by it. 0 = unset (invalid). */
typedef enum mien_component_kind {
  MIEN_KIND_UNSPECIFIED = 0,
  MIEN_KIND_DATASET = 1,   /* reads or generates data */
  MIEN_KIND_TRANSFORM = 2, /* splits, scaling, selection, detection, alignment */
  MIEN_KIND_FEATURES = 3,  /* feature extractors */
  MIEN_KIND_MODEL = 4,     /* trains or loads a model; outputs a MIEN_VALUE_MODEL */
  MIEN_KIND_EXPLAINER = 5,
  MIEN_KIND_METRIC = 6,
  MIEN_KIND_REPORT = 7
} mien_component_kind;

/* The kinds of value that travel along graph edges. 0 = unset (invalid). */
typedef enum mien_value_kind {
  MIEN_VALUE_UNSPECIFIED = 0,
  MIEN_VALUE_TENSOR = 1, /* mien_tensor: n-d array */
  MIEN_VALUE_IMAGE = 2,  /* mien_tensor [H,W,C] or [N,H,W,C], uint8 or float32, see pixel_format */
  MIEN_VALUE_TABLE = 3,  /* mien_table: named columns with roles (features, label, ids, groups) */
  MIEN_VALUE_STRING = 4, /* UTF-8 text */
  MIEN_VALUE_JSON = 5,   /* UTF-8 JSON document (metrics, configurations, small records) */
  MIEN_VALUE_MODEL = 6,  /* a trained model: an artifact on output, a mien_model_ref on input */
  MIEN_VALUE_ANY = 7     /* port declarations only: accepts any kind (e.g. a generic report) */
} mien_value_kind;

typedef enum mien_dtype {
  MIEN_DTYPE_UNSPECIFIED = 0,
  MIEN_DTYPE_F32 = 1,
  MIEN_DTYPE_F64 = 2,
  MIEN_DTYPE_I32 = 3,
  MIEN_DTYPE_I64 = 4,
  MIEN_DTYPE_U8 = 5,
  MIEN_DTYPE_STRING = 6 /* table columns only: const char* const* */
} mien_dtype;

typedef enum mien_log_level {
  MIEN_LOG_DEBUG = 0,
  MIEN_LOG_INFO = 1,
  MIEN_LOG_WARNING = 2,
  MIEN_LOG_ERROR = 3
} mien_log_level;

typedef struct mien_call_ctx mien_call_ctx;           /* opaque, host-owned, valid for one call */
typedef struct mien_instance mien_instance;           /* opaque, plugin-owned component instance */
typedef struct mien_model_handle mien_model_handle;   /* opaque, plugin-owned opened model */

/* ---------------------------------------------------------------------------------
 * Tensors. C-contiguous unless strides is non-NULL (strides in elements).
 * A tensor the host passes in is borrowed and read-only (flags has READ_ONLY).
 * A tensor a plugin returns carries a deleter the host calls exactly once; a NULL
 * deleter means "static or borrowed storage, nothing to free".
 * --------------------------------------------------------------------------------- */
#define MIEN_TENSOR_READ_ONLY 1u
#define MIEN_MAX_NDIM 8

typedef struct mien_tensor {
  uint32_t struct_size;
  mien_dtype dtype;
  int32_t ndim;                  /* 0..MIEN_MAX_NDIM */
  const int64_t* shape;          /* ndim entries */
  const int64_t* strides;        /* ndim entries, in elements; NULL = C-contiguous */
  void* data;
  uint32_t flags;                /* MIEN_TENSOR_READ_ONLY */
  void* manager_ctx;             /* for the deleter */
  void (*deleter)(struct mien_tensor* self);
} mien_tensor;

/* Images are tensors; the pixel format says how to read the channels. */
typedef enum mien_pixel_format {
  MIEN_PIXEL_UNSPECIFIED = 0,
  MIEN_PIXEL_GRAY = 1,
  MIEN_PIXEL_RGB = 2,
  MIEN_PIXEL_BGR = 3 /* OpenCV's native order */
} mien_pixel_format;

/* ---------------------------------------------------------------------------------
 * Tables: named columns of num_rows entries. A feature matrix travels as its
 * FEATURE columns (with their names), labels as an int64 LABEL column whose
 * categories are the class names (code i -> categories[i]; -1 = unknown),
 * rows carry an ID column and GROUP columns (subject, pose, ...).
 * --------------------------------------------------------------------------------- */
typedef enum mien_column_role {
  MIEN_ROLE_UNSPECIFIED = 0,
  MIEN_ROLE_FEATURE = 1, /* model input; numeric */
  MIEN_ROLE_LABEL = 2,   /* int64 class codes with categories */
  MIEN_ROLE_ID = 3,      /* sample id, unique per row */
  MIEN_ROLE_GROUP = 4,   /* grouping for splits and reports (subject, pose, fold, split) */
  MIEN_ROLE_VALUE = 5    /* anything else: scores, metrics, paths */
} mien_column_role;

typedef struct mien_column {
  uint32_t struct_size;
  const char* name;
  mien_column_role role;
  mien_dtype dtype;               /* F64, F32, I64, I32 or STRING */
  const void* data;               /* num_rows entries of dtype (STRING: const char* const*) */
  const char* const* categories;  /* LABEL (and optionally GROUP) columns: code -> name */
  uint32_t num_categories;
} mien_column;

typedef struct mien_table {
  uint32_t struct_size;
  int64_t num_rows;
  uint32_t num_columns;
  const mien_column* columns;
  const char* meta_json;          /* optional JSON object with extra metadata, or NULL */
  void* manager_ctx;
  void (*deleter)(struct mien_table* self);
} mien_table;

/* ---------------------------------------------------------------------------------
 * Model references: how explainers and metrics call a model they know nothing about.
 * The host builds a mien_model_ref from the artifact a model component wrote and
 * hands it to the consumer as an input value. Every function takes the ref itself
 * and the consumer's call context (for errors and cancellation).
 * Output tensors returned through out-pointers belong to the caller, who calls
 * their deleter.
 * --------------------------------------------------------------------------------- */
#define MIEN_CAP_PREDICT 1u          /* class probabilities for a batch */
#define MIEN_CAP_INPUT_GRADIENT 2u   /* d score(class) / d input */
#define MIEN_CAP_LAYER_GRADIENT 4u   /* activations and gradients of a named layer (Grad-CAM) */
#define MIEN_CAP_LAYER_STRUCTURE 8u  /* a layer description for DeepLIFT-style rules (info_json "layers") */

typedef struct mien_model_ref {
  uint32_t struct_size;
  uint64_t capabilities;           /* MIEN_CAP_* bits */
  /* JSON object: {"type_id", "input": "features"|"image", "input_shape": [...],
   *  "feature_names": [...], "classes": [...], "layers": [...], ...} */
  const char* info_json;
  void* opaque;                    /* host's; do not touch */

  /* input [N, ...] -> *out_probs [N, C] float32. Required. */
  mien_status (*predict)(const struct mien_model_ref* self, mien_call_ctx* ctx,
                         const mien_tensor* input, mien_tensor** out_probs);
  /* For each row i, gradient of the score of class classes[i] (logit, or probability
   * when the model only has those; info_json "score" says which) with respect to the
   * input row -> *out_grad shaped like input; *out_scores [N] float32 (may be NULL). */
  mien_status (*input_gradient)(const struct mien_model_ref* self, mien_call_ctx* ctx,
                                const mien_tensor* input, const int64_t* classes,
                                mien_tensor** out_grad, mien_tensor** out_scores);
  /* Activations and score gradients of the named layer -> [N, ...] each. */
  mien_status (*layer_gradient)(const struct mien_model_ref* self, mien_call_ctx* ctx,
                                const char* layer, const mien_tensor* input, const int64_t* classes,
                                mien_tensor** out_activations, mien_tensor** out_gradients,
                                mien_tensor** out_scores);
} mien_model_ref;

/* ---------------------------------------------------------------------------------
 * Values on ports.
 * --------------------------------------------------------------------------------- */
typedef struct mien_value {
  uint32_t struct_size;
  mien_value_kind kind;
  mien_tensor* tensor;             /* TENSOR, IMAGE */
  mien_pixel_format pixel_format;  /* IMAGE */
  mien_table* table;               /* TABLE */
  /* STRING, JSON: UTF-8 text; on output valid until destroy() (ownership rule 5).
   * MODEL on output: optional JSON describing the model (written next to the artifact). */
  const char* text;
  const mien_model_ref* model;     /* MODEL on input */
} mien_value;

/* One input port's values: count is 0 for an optional port left unconnected, 1 for a
 * normal port, and may be more for a MIEN_PORT_MULTIPLE port. */
typedef struct mien_input {
  uint32_t count;
  const mien_value* values;
} mien_input;

/* ---------------------------------------------------------------------------------
 * Host services, reached through the per-call context.
 * --------------------------------------------------------------------------------- */
typedef struct mien_host_api {
  uint32_t struct_size;
  uint16_t abi_major;
  uint16_t abi_minor;
  /* Write a line to the run's log (and the terminal, at INFO and above). Host copies. */
  void (*log)(mien_call_ctx* ctx, mien_log_level level, const char* message);
  /* Attach a detailed message to the status the current call will return. Host copies. */
  void (*set_error)(mien_call_ctx* ctx, const char* message);
  /* Report progress of long work; cheap, rate-limited by the host. note may be NULL. */
  void (*report_progress)(mien_call_ctx* ctx, uint64_t done, uint64_t total, const char* note);
  /* Non-zero once the user asked to stop (Ctrl-C). Poll it in long loops and return
   * MIEN_ERR_CANCELLED. */
  int (*is_cancelled)(mien_call_ctx* ctx);
  /* A folder that belongs to this call's node and port: write model artifacts,
   * figures and report files there. NULL port = the node's own folder. The folder
   * exists; the string is valid for the call. */
  const char* (*output_dir)(mien_call_ctx* ctx, const char* port);
  /* The run folder's path (for reports that link to other nodes' outputs). */
  const char* (*run_dir)(mien_call_ctx* ctx);
} mien_host_api;

/* What create() receives besides the host API. */
typedef struct mien_create_info {
  uint32_t struct_size;
  const char* params_json;   /* validated against the component's schema, every default filled */
  uint64_t seed;             /* the experiment's seed mixed with the node's name */
  uint32_t num_threads;      /* the compute threads this node may use (set torch/BLAS to it) */
  const char* node_name;
  const char* base_dir;      /* folder of the experiment file: resolve relative paths here */
} mien_create_info;

/* ---------------------------------------------------------------------------------
 * Component descriptors.
 * --------------------------------------------------------------------------------- */
typedef enum mien_port_dir { MIEN_PORT_UNSPECIFIED = 0, MIEN_PORT_IN = 1, MIEN_PORT_OUT = 2 } mien_port_dir;

#define MIEN_PORT_OPTIONAL 1u /* input may be left unconnected */
#define MIEN_PORT_MULTIPLE 2u /* input accepts a list of values */
/* since 1.1: with MIEN_PORT_MULTIPLE, the values whose nodes finished are given and a value
 * whose node failed or was skipped is left out, instead of skipping this node (a report
 * that shows what finished). The host logs what it left out. */
#define MIEN_PORT_PARTIAL 4u

typedef struct mien_port_desc {
  uint32_t struct_size;
  const char* name;             /* [a-z0-9_]+, unique within the component */
  mien_port_dir dir;
  mien_value_kind kind;
  uint32_t flags;               /* MIEN_PORT_OPTIONAL, MIEN_PORT_MULTIPLE, MIEN_PORT_PARTIAL */
  uint64_t requires_caps;       /* MODEL inputs: MIEN_CAP_* bits the model must offer */
  const char* doc;              /* one line */
} mien_port_desc;

typedef struct mien_component_vtable {
  uint32_t struct_size;
  /* Required. Called once per node run, after validation. Parse params and prepare;
   * on failure return an error status (with set_error) and leave *out_instance NULL. */
  mien_status (*create)(const mien_host_api* host, mien_call_ctx* ctx, const mien_create_info* info,
                        mien_instance** out_instance);
  /* Required. Called exactly once for every instance create() returned. */
  void (*destroy)(mien_instance* instance);
  /* Required. inputs[i] / outputs[j] follow the order of the IN / OUT ports in the
   * descriptor. Fill every output slot (kind must equal the port's kind). */
  mien_status (*process)(mien_instance* instance, mien_call_ctx* ctx, const mien_input* inputs,
                         uint32_t num_inputs, mien_value* outputs, uint32_t num_outputs);
} mien_component_vtable;

/* Model components (kind MIEN_KIND_MODEL) also open the artifacts they wrote, so the
 * host can hand explainers a mien_model_ref backed by the artifact. The handle
 * functions mirror mien_model_ref's. */
typedef struct mien_model_vtable {
  uint32_t struct_size;
  uint64_t capabilities;        /* MIEN_CAP_* bits every model of this component offers */
  mien_status (*open)(const mien_host_api* host, mien_call_ctx* ctx, const char* artifact_dir,
                      uint32_t num_threads, mien_model_handle** out_model);
  void (*close)(mien_model_handle* model);
  /* JSON as in mien_model_ref.info_json; valid until close(). */
  const char* (*info_json)(mien_model_handle* model);
  mien_status (*predict)(mien_model_handle* model, mien_call_ctx* ctx, const mien_tensor* input,
                         mien_tensor** out_probs);
  mien_status (*input_gradient)(mien_model_handle* model, mien_call_ctx* ctx, const mien_tensor* input,
                                const int64_t* classes, mien_tensor** out_grad, mien_tensor** out_scores);
  mien_status (*layer_gradient)(mien_model_handle* model, mien_call_ctx* ctx, const char* layer,
                                const mien_tensor* input, const int64_t* classes,
                                mien_tensor** out_activations, mien_tensor** out_gradients,
                                mien_tensor** out_scores);
} mien_model_vtable;

#define MIEN_COMPONENT_THREAD_SAFE 1u
#define MIEN_COMPONENT_NONDETERMINISTIC 2u /* outputs vary between runs: never cached */

typedef struct mien_component_desc {
  uint32_t struct_size;
  const char* type_id;          /* "area.name" or "vendor.area.name": [a-z0-9_]+(\.[a-z0-9_]+)+ */
  uint32_t type_version;        /* bump when defaults or outputs change meaning */
  mien_component_kind kind;
  const char* summary;          /* one line */
  /* JSON Schema (subset: type, properties, required, default, enum, minimum, maximum,
   * items, description, additionalProperties) of the parameters, every property with
   * a description and, unless required, a default. */
  const char* params_schema_json;
  const mien_port_desc* ports;
  uint32_t num_ports;
  uint64_t flags;               /* MIEN_COMPONENT_* */
  const mien_component_vtable* vtable;
  const mien_model_vtable* model; /* MIEN_KIND_MODEL only, else NULL */
} mien_component_desc;

typedef struct mien_plugin_desc {
  uint32_t struct_size;
  uint16_t abi_major;           /* MIEN_ABI_VERSION_MAJOR the plugin was built with */
  uint16_t abi_minor;
  const char* name;             /* e.g. "mien-tabular" */
  const char* version;          /* semver of the plugin library */
  const char* license;          /* SPDX id */
  const mien_component_desc* const* components;
  uint32_t num_components;
  /* JSON object naming the libraries the plugin was built with and their versions,
   * e.g. {"libtorch": "1.13.1", "opencv": "4.6.0"}, or NULL. `mien --version` shows them. */
  const char* build_info_json;
} mien_plugin_desc;

/* The entry point: pure, no side effects, returns static data. */
typedef const mien_plugin_desc* (*mien_plugin_entry_fn)(void);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* MIEN_PLUGIN_ABI_H */
