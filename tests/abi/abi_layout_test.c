/* The ABI's layout on x86_64 (LP64, System V), pinned. Compiled as C11: the ABI is a
 * C contract, so this is what a plain-C plugin sees.
 *
 * Every struct's size and alignment and every field's offset are asserted here, as are
 * the ABI version and the values of the enums and flag bits. A failure means the ABI
 * changed. That is allowed only deliberately:
 *   - a new field goes at the END of a struct, with a "since 1.N" comment, and
 *     MIEN_ABI_VERSION_MINOR goes up (old plugins keep working: struct_size);
 *   - anything else (a removed, reordered or retyped field, a changed enum value)
 *     needs MIEN_ABI_VERSION_MAJOR to go up;
 * and in both cases plugin_api/docs/abi.md and the changelog in plugin_api/README.md
 * say what changed. Then update the numbers below.
 */
#include <mien/plugin_abi.h>

#include <stdalign.h>
#include <stddef.h>
#include <stdio.h>

#if !defined(__x86_64__) || !defined(__LP64__)
#error "tests/abi/abi_layout_test.c pins the x86_64 layout; add a table for this architecture"
#endif

#define ABI_CHANGED "ABI layout changed: update plugin_api/docs/abi.md and bump the ABI version"

#define CHECK_SIZE(type, n) _Static_assert(sizeof(type) == (n), ABI_CHANGED " (sizeof " #type ")")
#define CHECK_ALIGN(type, n) _Static_assert(alignof(type) == (n), ABI_CHANGED " (alignof " #type ")")
#define CHECK_OFFSET(type, field, n) \
  _Static_assert(offsetof(type, field) == (n), ABI_CHANGED " (offsetof " #type "." #field ")")
#define CHECK_VALUE(name, n) _Static_assert((name) == (n), ABI_CHANGED " (value of " #name ")")

/* The version this table describes. */
CHECK_VALUE(MIEN_ABI_VERSION_MAJOR, 1);
CHECK_VALUE(MIEN_ABI_VERSION_MINOR, 1);

/* Enums are int-sized in C and in C++. */
CHECK_SIZE(mien_status, 4);
CHECK_SIZE(mien_component_kind, 4);
CHECK_SIZE(mien_value_kind, 4);
CHECK_SIZE(mien_dtype, 4);
CHECK_SIZE(mien_log_level, 4);
CHECK_SIZE(mien_pixel_format, 4);
CHECK_SIZE(mien_column_role, 4);
CHECK_SIZE(mien_port_dir, 4);

CHECK_VALUE(MIEN_OK, 0);
CHECK_VALUE(MIEN_ERR_INVALID_ARGUMENT, 1);
CHECK_VALUE(MIEN_ERR_UNSUPPORTED, 2);
CHECK_VALUE(MIEN_ERR_OUT_OF_MEMORY, 3);
CHECK_VALUE(MIEN_ERR_CANCELLED, 4);
CHECK_VALUE(MIEN_ERR_IO, 5);
CHECK_VALUE(MIEN_ERR_INTERNAL, 6);

CHECK_VALUE(MIEN_KIND_UNSPECIFIED, 0);
CHECK_VALUE(MIEN_KIND_DATASET, 1);
CHECK_VALUE(MIEN_KIND_TRANSFORM, 2);
CHECK_VALUE(MIEN_KIND_FEATURES, 3);
CHECK_VALUE(MIEN_KIND_MODEL, 4);
CHECK_VALUE(MIEN_KIND_EXPLAINER, 5);
CHECK_VALUE(MIEN_KIND_METRIC, 6);
CHECK_VALUE(MIEN_KIND_REPORT, 7);

CHECK_VALUE(MIEN_VALUE_UNSPECIFIED, 0);
CHECK_VALUE(MIEN_VALUE_TENSOR, 1);
CHECK_VALUE(MIEN_VALUE_IMAGE, 2);
CHECK_VALUE(MIEN_VALUE_TABLE, 3);
CHECK_VALUE(MIEN_VALUE_STRING, 4);
CHECK_VALUE(MIEN_VALUE_JSON, 5);
CHECK_VALUE(MIEN_VALUE_MODEL, 6);
CHECK_VALUE(MIEN_VALUE_ANY, 7);

CHECK_VALUE(MIEN_DTYPE_UNSPECIFIED, 0);
CHECK_VALUE(MIEN_DTYPE_F32, 1);
CHECK_VALUE(MIEN_DTYPE_F64, 2);
CHECK_VALUE(MIEN_DTYPE_I32, 3);
CHECK_VALUE(MIEN_DTYPE_I64, 4);
CHECK_VALUE(MIEN_DTYPE_U8, 5);
CHECK_VALUE(MIEN_DTYPE_STRING, 6);

CHECK_VALUE(MIEN_LOG_DEBUG, 0);
CHECK_VALUE(MIEN_LOG_INFO, 1);
CHECK_VALUE(MIEN_LOG_WARNING, 2);
CHECK_VALUE(MIEN_LOG_ERROR, 3);

CHECK_VALUE(MIEN_PIXEL_UNSPECIFIED, 0);
CHECK_VALUE(MIEN_PIXEL_GRAY, 1);
CHECK_VALUE(MIEN_PIXEL_RGB, 2);
CHECK_VALUE(MIEN_PIXEL_BGR, 3);

CHECK_VALUE(MIEN_ROLE_UNSPECIFIED, 0);
CHECK_VALUE(MIEN_ROLE_FEATURE, 1);
CHECK_VALUE(MIEN_ROLE_LABEL, 2);
CHECK_VALUE(MIEN_ROLE_ID, 3);
CHECK_VALUE(MIEN_ROLE_GROUP, 4);
CHECK_VALUE(MIEN_ROLE_VALUE, 5);

CHECK_VALUE(MIEN_PORT_UNSPECIFIED, 0);
CHECK_VALUE(MIEN_PORT_IN, 1);
CHECK_VALUE(MIEN_PORT_OUT, 2);

CHECK_VALUE(MIEN_TENSOR_READ_ONLY, 1u);
CHECK_VALUE(MIEN_MAX_NDIM, 8);
CHECK_VALUE(MIEN_CAP_PREDICT, 1u);
CHECK_VALUE(MIEN_CAP_INPUT_GRADIENT, 2u);
CHECK_VALUE(MIEN_CAP_LAYER_GRADIENT, 4u);
CHECK_VALUE(MIEN_CAP_LAYER_STRUCTURE, 8u);
CHECK_VALUE(MIEN_PORT_OPTIONAL, 1u);
CHECK_VALUE(MIEN_PORT_MULTIPLE, 2u);
CHECK_VALUE(MIEN_PORT_PARTIAL, 4u); /* since 1.1 */
CHECK_VALUE(MIEN_COMPONENT_THREAD_SAFE, 1u);
CHECK_VALUE(MIEN_COMPONENT_NONDETERMINISTIC, 2u);

/* mien_tensor */
CHECK_SIZE(mien_tensor, 64);
CHECK_ALIGN(mien_tensor, 8);
CHECK_OFFSET(mien_tensor, struct_size, 0);
CHECK_OFFSET(mien_tensor, dtype, 4);
CHECK_OFFSET(mien_tensor, ndim, 8);
CHECK_OFFSET(mien_tensor, shape, 16);
CHECK_OFFSET(mien_tensor, strides, 24);
CHECK_OFFSET(mien_tensor, data, 32);
CHECK_OFFSET(mien_tensor, flags, 40);
CHECK_OFFSET(mien_tensor, manager_ctx, 48);
CHECK_OFFSET(mien_tensor, deleter, 56);

/* mien_column */
CHECK_SIZE(mien_column, 48);
CHECK_ALIGN(mien_column, 8);
CHECK_OFFSET(mien_column, struct_size, 0);
CHECK_OFFSET(mien_column, name, 8);
CHECK_OFFSET(mien_column, role, 16);
CHECK_OFFSET(mien_column, dtype, 20);
CHECK_OFFSET(mien_column, data, 24);
CHECK_OFFSET(mien_column, categories, 32);
CHECK_OFFSET(mien_column, num_categories, 40);

/* mien_table */
CHECK_SIZE(mien_table, 56);
CHECK_ALIGN(mien_table, 8);
CHECK_OFFSET(mien_table, struct_size, 0);
CHECK_OFFSET(mien_table, num_rows, 8);
CHECK_OFFSET(mien_table, num_columns, 16);
CHECK_OFFSET(mien_table, columns, 24);
CHECK_OFFSET(mien_table, meta_json, 32);
CHECK_OFFSET(mien_table, manager_ctx, 40);
CHECK_OFFSET(mien_table, deleter, 48);

/* mien_model_ref */
CHECK_SIZE(mien_model_ref, 56);
CHECK_ALIGN(mien_model_ref, 8);
CHECK_OFFSET(mien_model_ref, struct_size, 0);
CHECK_OFFSET(mien_model_ref, capabilities, 8);
CHECK_OFFSET(mien_model_ref, info_json, 16);
CHECK_OFFSET(mien_model_ref, opaque, 24);
CHECK_OFFSET(mien_model_ref, predict, 32);
CHECK_OFFSET(mien_model_ref, input_gradient, 40);
CHECK_OFFSET(mien_model_ref, layer_gradient, 48);

/* mien_value */
CHECK_SIZE(mien_value, 48);
CHECK_ALIGN(mien_value, 8);
CHECK_OFFSET(mien_value, struct_size, 0);
CHECK_OFFSET(mien_value, kind, 4);
CHECK_OFFSET(mien_value, tensor, 8);
CHECK_OFFSET(mien_value, pixel_format, 16);
CHECK_OFFSET(mien_value, table, 24);
CHECK_OFFSET(mien_value, text, 32);
CHECK_OFFSET(mien_value, model, 40);

/* mien_input */
CHECK_SIZE(mien_input, 16);
CHECK_ALIGN(mien_input, 8);
CHECK_OFFSET(mien_input, count, 0);
CHECK_OFFSET(mien_input, values, 8);

/* mien_host_api */
CHECK_SIZE(mien_host_api, 56);
CHECK_ALIGN(mien_host_api, 8);
CHECK_OFFSET(mien_host_api, struct_size, 0);
CHECK_OFFSET(mien_host_api, abi_major, 4);
CHECK_OFFSET(mien_host_api, abi_minor, 6);
CHECK_OFFSET(mien_host_api, log, 8);
CHECK_OFFSET(mien_host_api, set_error, 16);
CHECK_OFFSET(mien_host_api, report_progress, 24);
CHECK_OFFSET(mien_host_api, is_cancelled, 32);
CHECK_OFFSET(mien_host_api, output_dir, 40);
CHECK_OFFSET(mien_host_api, run_dir, 48);

/* mien_create_info */
CHECK_SIZE(mien_create_info, 48);
CHECK_ALIGN(mien_create_info, 8);
CHECK_OFFSET(mien_create_info, struct_size, 0);
CHECK_OFFSET(mien_create_info, params_json, 8);
CHECK_OFFSET(mien_create_info, seed, 16);
CHECK_OFFSET(mien_create_info, num_threads, 24);
CHECK_OFFSET(mien_create_info, node_name, 32);
CHECK_OFFSET(mien_create_info, base_dir, 40);

/* mien_port_desc */
CHECK_SIZE(mien_port_desc, 48);
CHECK_ALIGN(mien_port_desc, 8);
CHECK_OFFSET(mien_port_desc, struct_size, 0);
CHECK_OFFSET(mien_port_desc, name, 8);
CHECK_OFFSET(mien_port_desc, dir, 16);
CHECK_OFFSET(mien_port_desc, kind, 20);
CHECK_OFFSET(mien_port_desc, flags, 24);
CHECK_OFFSET(mien_port_desc, requires_caps, 32);
CHECK_OFFSET(mien_port_desc, doc, 40);

/* mien_component_vtable */
CHECK_SIZE(mien_component_vtable, 32);
CHECK_ALIGN(mien_component_vtable, 8);
CHECK_OFFSET(mien_component_vtable, struct_size, 0);
CHECK_OFFSET(mien_component_vtable, create, 8);
CHECK_OFFSET(mien_component_vtable, destroy, 16);
CHECK_OFFSET(mien_component_vtable, process, 24);

/* mien_model_vtable */
CHECK_SIZE(mien_model_vtable, 64);
CHECK_ALIGN(mien_model_vtable, 8);
CHECK_OFFSET(mien_model_vtable, struct_size, 0);
CHECK_OFFSET(mien_model_vtable, capabilities, 8);
CHECK_OFFSET(mien_model_vtable, open, 16);
CHECK_OFFSET(mien_model_vtable, close, 24);
CHECK_OFFSET(mien_model_vtable, info_json, 32);
CHECK_OFFSET(mien_model_vtable, predict, 40);
CHECK_OFFSET(mien_model_vtable, input_gradient, 48);
CHECK_OFFSET(mien_model_vtable, layer_gradient, 56);

/* mien_component_desc */
CHECK_SIZE(mien_component_desc, 80);
CHECK_ALIGN(mien_component_desc, 8);
CHECK_OFFSET(mien_component_desc, struct_size, 0);
CHECK_OFFSET(mien_component_desc, type_id, 8);
CHECK_OFFSET(mien_component_desc, type_version, 16);
CHECK_OFFSET(mien_component_desc, kind, 20);
CHECK_OFFSET(mien_component_desc, summary, 24);
CHECK_OFFSET(mien_component_desc, params_schema_json, 32);
CHECK_OFFSET(mien_component_desc, ports, 40);
CHECK_OFFSET(mien_component_desc, num_ports, 48);
CHECK_OFFSET(mien_component_desc, flags, 56);
CHECK_OFFSET(mien_component_desc, vtable, 64);
CHECK_OFFSET(mien_component_desc, model, 72);

/* mien_plugin_desc */
CHECK_SIZE(mien_plugin_desc, 56);
CHECK_ALIGN(mien_plugin_desc, 8);
CHECK_OFFSET(mien_plugin_desc, struct_size, 0);
CHECK_OFFSET(mien_plugin_desc, abi_major, 4);
CHECK_OFFSET(mien_plugin_desc, abi_minor, 6);
CHECK_OFFSET(mien_plugin_desc, name, 8);
CHECK_OFFSET(mien_plugin_desc, version, 16);
CHECK_OFFSET(mien_plugin_desc, license, 24);
CHECK_OFFSET(mien_plugin_desc, components, 32);
CHECK_OFFSET(mien_plugin_desc, num_components, 40);
CHECK_OFFSET(mien_plugin_desc, build_info_json, 48);

/* The loader's minimum descriptor size (ABI 1.0) ends with build_info_json. */
_Static_assert(offsetof(mien_plugin_desc, build_info_json) + sizeof(const char*) == 56,
               ABI_CHANGED " (the 1.0 size of mien_plugin_desc)");

/* MIEN_HAS_FIELD works on a struct that stops early. */
static int has_field_check(void) {
  mien_plugin_desc d = {0};
  d.struct_size = (uint32_t)offsetof(mien_plugin_desc, build_info_json);
  if (MIEN_HAS_FIELD(&d, mien_plugin_desc, build_info_json)) return 1;
  d.struct_size = (uint32_t)sizeof(mien_plugin_desc);
  if (!MIEN_HAS_FIELD(&d, mien_plugin_desc, build_info_json)) return 1;
  if (MIEN_HAS_FIELD((const mien_plugin_desc*)NULL, mien_plugin_desc, name)) return 1;
  return 0;
}

int main(void) {
  if (has_field_check() != 0) {
    fprintf(stderr, "MIEN_HAS_FIELD gives the wrong answer\n");
    return 1;
  }
  printf("mien ABI %d.%d layout as pinned (x86_64)\n", MIEN_ABI_VERSION_MAJOR, MIEN_ABI_VERSION_MINOR);
  return 0;
}
