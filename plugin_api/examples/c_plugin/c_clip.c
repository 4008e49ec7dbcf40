/* example.c_clip: a mien plugin in plain C11, using only <mien/plugin_abi.h>.
 *
 * Example config:
 *   clip:
 *     use: example.c_clip
 *     with: { lo: -1.5, hi: 1.5 }
 *     in: { table: data.table }
 *
 * Input `table` (TABLE): any table. Output `table` (TABLE): the same columns, in the
 * same order; every FEATURE column is converted to float64 and clipped to [lo, hi],
 * every other column is copied as it is.
 *
 * What a C plugin writes by hand that the C++ SDK generates: the JSON Schema of the
 * parameters, the port table, the vtable, reading the parameters from JSON, and the
 * output's memory (one block per table, freed by the deleter the host calls).
 */
#include <mien/plugin_abi.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------------------
 * Parameters. The host validated params_json against kSchema and filled in every
 * default, so it is a flat object holding exactly "lo" and "hi" as numbers.
 * --------------------------------------------------------------------------------- */
static const char kSchema[] =
    "{\"type\": \"object\", \"additionalProperties\": false, \"properties\": {"
    "\"lo\": {\"type\": \"number\", \"default\": 0, \"description\": \"Smallest value kept; lower values become lo\"},"
    "\"hi\": {\"type\": \"number\", \"default\": 1, \"description\": \"Largest value kept; higher values become hi\"}"
    "}}";

/* Reads the number after "key": in a flat JSON object. Enough for validated input. */
static int json_number(const char* json, const char* key, double* out) {
  char quoted[64];
  const char* p;
  char* end;
  snprintf(quoted, sizeof quoted, "\"%s\"", key);
  p = json ? strstr(json, quoted) : NULL;
  if (p == NULL) return 0;
  p = strchr(p + strlen(quoted), ':');
  if (p == NULL) return 0;
  *out = strtod(p + 1, &end);
  return end != p + 1;
}

/* The instance keeps the host API it was created with: the table lives longer than
 * every instance, and process() needs it for set_error and is_cancelled. */
struct mien_instance {
  const mien_host_api* host;
  double lo, hi;
};

static mien_status clip_create(const mien_host_api* host, mien_call_ctx* ctx, const mien_create_info* info,
                               mien_instance** out_instance) {
  mien_instance* self;
  double lo = 0, hi = 1;
  char message[160];
  *out_instance = NULL;
  if (!json_number(info->params_json, "lo", &lo) || !json_number(info->params_json, "hi", &hi)) {
    host->set_error(ctx, "parameters 'lo' and 'hi' must be numbers");
    return MIEN_ERR_INVALID_ARGUMENT;
  }
  if (lo > hi) {
    snprintf(message, sizeof message, "'lo' (%g) must not be greater than 'hi' (%g)", lo, hi);
    host->set_error(ctx, message);
    return MIEN_ERR_INVALID_ARGUMENT;
  }
  self = (mien_instance*)malloc(sizeof *self);
  if (self == NULL) return MIEN_ERR_OUT_OF_MEMORY;
  self->host = host;
  self->lo = lo;
  self->hi = hi;
  *out_instance = self;
  return MIEN_OK;
}

static void clip_destroy(mien_instance* instance) { free(instance); }

/* ---------------------------------------------------------------------------------
 * The output table. Everything it points to is owned by one `owned_table`, which
 * the deleter frees; the host calls the deleter exactly once.
 * --------------------------------------------------------------------------------- */
typedef struct owned_column {
  char* name;
  void* data;              /* numbers, or char*[num_rows] for STRING columns */
  char** categories;
  uint32_t num_categories;
  int is_string;
} owned_column;

typedef struct owned_table {
  mien_table table;        /* first, so the deleter's pointer is the block's pointer */
  mien_column* columns;
  owned_column* owned;
  char* meta_json;
} owned_table;

static char* copy_string(const char* s) {
  size_t n;
  char* out;
  if (s == NULL) return NULL;
  n = strlen(s) + 1;
  out = (char*)malloc(n);
  if (out) memcpy(out, s, n);
  return out;
}

static void free_table(mien_table* table) {
  owned_table* t = (owned_table*)table->manager_ctx;
  uint32_t c, k;
  int64_t r;
  if (t == NULL) return;
  for (c = 0; t->owned != NULL && c < t->table.num_columns; ++c) {
    owned_column* o = &t->owned[c];
    if (o->is_string && o->data != NULL)
      for (r = 0; r < t->table.num_rows; ++r) free(((char**)o->data)[r]);
    for (k = 0; o->categories != NULL && k < o->num_categories; ++k) free(o->categories[k]);
    free(o->categories);
    free(o->data);
    free(o->name);
  }
  free(t->owned);
  free(t->columns);
  free(t->meta_json);
  free(t);
}

static size_t dtype_bytes(mien_dtype d) {
  switch (d) {
    case MIEN_DTYPE_F64: case MIEN_DTYPE_I64: return 8;
    case MIEN_DTYPE_F32: case MIEN_DTYPE_I32: return 4;
    case MIEN_DTYPE_U8: return 1;
    default: return 0;
  }
}

static double number_at(const mien_column* c, int64_t i) {
  switch (c->dtype) {
    case MIEN_DTYPE_F64: return ((const double*)c->data)[i];
    case MIEN_DTYPE_F32: return ((const float*)c->data)[i];
    case MIEN_DTYPE_I64: return (double)((const int64_t*)c->data)[i];
    case MIEN_DTYPE_I32: return ((const int32_t*)c->data)[i];
    case MIEN_DTYPE_U8: return ((const uint8_t*)c->data)[i];
    default: return 0;
  }
}

/* Copies column `in` into slot c of `t`, clipping it when it is a FEATURE column.
 * Returns 0 on success, or a status with the error reported. */
static mien_status copy_column(const mien_instance* self, mien_call_ctx* ctx,
                               owned_table* t, uint32_t c, const mien_column* in) {
  const int64_t rows = t->table.num_rows;
  owned_column* o = &t->owned[c];
  mien_column* out = &t->columns[c];
  int64_t r;
  uint32_t k;
  char message[200];

  memset(out, 0, sizeof *out);
  out->struct_size = sizeof(mien_column);
  out->role = in->role;
  o->name = copy_string(in->name ? in->name : "");
  if (o->name == NULL) return MIEN_ERR_OUT_OF_MEMORY;
  out->name = o->name;

  if (in->role == MIEN_ROLE_FEATURE) {
    double* values;
    if (dtype_bytes(in->dtype) == 0) {
      snprintf(message, sizeof message, "feature column '%s' is not numeric", o->name);
      self->host->set_error(ctx, message);
      return MIEN_ERR_INVALID_ARGUMENT;
    }
    values = (double*)malloc((size_t)(rows > 0 ? rows : 1) * sizeof(double));
    if (values == NULL) return MIEN_ERR_OUT_OF_MEMORY;
    for (r = 0; r < rows; ++r) {
      double v = number_at(in, r);
      values[r] = v < self->lo ? self->lo : (v > self->hi ? self->hi : v); /* NaN stays NaN */
    }
    o->data = values;
    out->dtype = MIEN_DTYPE_F64;
  } else if (in->dtype == MIEN_DTYPE_STRING) {
    char** strings = (char**)calloc((size_t)(rows > 0 ? rows : 1), sizeof(char*));
    if (strings == NULL) return MIEN_ERR_OUT_OF_MEMORY;
    o->data = strings;
    o->is_string = 1;
    for (r = 0; r < rows; ++r) {
      const char* s = ((const char* const*)in->data)[r];
      strings[r] = copy_string(s ? s : "");
      if (strings[r] == NULL) return MIEN_ERR_OUT_OF_MEMORY;
    }
    out->dtype = MIEN_DTYPE_STRING;
  } else {
    const size_t bytes = (size_t)rows * dtype_bytes(in->dtype);
    if (dtype_bytes(in->dtype) == 0) {
      snprintf(message, sizeof message, "column '%s' has an unknown dtype (%d)", o->name, (int)in->dtype);
      self->host->set_error(ctx, message);
      return MIEN_ERR_INVALID_ARGUMENT;
    }
    o->data = malloc(bytes > 0 ? bytes : 1);
    if (o->data == NULL) return MIEN_ERR_OUT_OF_MEMORY;
    if (bytes > 0) memcpy(o->data, in->data, bytes);
    out->dtype = in->dtype;
  }
  out->data = o->data;

  if (in->num_categories > 0 && in->categories != NULL) {
    o->categories = (char**)calloc(in->num_categories, sizeof(char*));
    if (o->categories == NULL) return MIEN_ERR_OUT_OF_MEMORY;
    o->num_categories = in->num_categories;
    for (k = 0; k < in->num_categories; ++k) {
      o->categories[k] = copy_string(in->categories[k] ? in->categories[k] : "");
      if (o->categories[k] == NULL) return MIEN_ERR_OUT_OF_MEMORY;
    }
    out->categories = (const char* const*)o->categories;
    out->num_categories = o->num_categories;
  }
  return MIEN_OK;
}

static mien_status clip_process(mien_instance* self, mien_call_ctx* ctx, const mien_input* inputs,
                                uint32_t num_inputs, mien_value* outputs, uint32_t num_outputs) {
  const mien_table* in;
  owned_table* t;
  uint32_t c;
  mien_status st = MIEN_OK;
  if (num_inputs < 1 || inputs[0].count < 1 || num_outputs < 1) return MIEN_ERR_INTERNAL;
  if (inputs[0].values[0].kind != MIEN_VALUE_TABLE || inputs[0].values[0].table == NULL) {
    self->host->set_error(ctx, "input 'table' is not a table");
    return MIEN_ERR_INVALID_ARGUMENT;
  }
  in = inputs[0].values[0].table;

  t = (owned_table*)calloc(1, sizeof *t);
  if (t == NULL) return MIEN_ERR_OUT_OF_MEMORY;
  t->table.struct_size = sizeof(mien_table);
  t->table.num_rows = in->num_rows;
  t->table.num_columns = in->num_columns;
  t->table.manager_ctx = t;
  t->table.deleter = free_table;
  t->columns = (mien_column*)calloc(in->num_columns > 0 ? in->num_columns : 1, sizeof(mien_column));
  t->owned = (owned_column*)calloc(in->num_columns > 0 ? in->num_columns : 1, sizeof(owned_column));
  if (t->columns == NULL || t->owned == NULL) st = MIEN_ERR_OUT_OF_MEMORY;
  for (c = 0; st == MIEN_OK && c < in->num_columns; ++c) {
    if (self->host->is_cancelled(ctx)) st = MIEN_ERR_CANCELLED;
    else st = copy_column(self, ctx, t, c, &in->columns[c]);
  }
  if (st == MIEN_OK && in->meta_json != NULL) {
    t->meta_json = copy_string(in->meta_json);
    if (t->meta_json == NULL) st = MIEN_ERR_OUT_OF_MEMORY;
  }
  if (st != MIEN_OK) {
    free_table(&t->table); /* a failed process() frees what it allocated */
    return st;
  }
  t->table.columns = t->columns;
  t->table.meta_json = t->meta_json;
  outputs[0].struct_size = sizeof(mien_value);
  outputs[0].kind = MIEN_VALUE_TABLE;
  outputs[0].table = &t->table; /* the host owns it now and calls free_table once */
  return MIEN_OK;
}

/* ---------------------------------------------------------------------------------
 * The descriptor: static data, valid until the library is unloaded.
 * --------------------------------------------------------------------------------- */
static const mien_port_desc kPorts[] = {
    {sizeof(mien_port_desc), "table", MIEN_PORT_IN, MIEN_VALUE_TABLE, 0, 0, "any table"},
    {sizeof(mien_port_desc), "table", MIEN_PORT_OUT, MIEN_VALUE_TABLE, 0, 0,
     "the same table, FEATURE columns clipped to [lo, hi] as float64"},
};

static const mien_component_vtable kVtable = {sizeof(mien_component_vtable), clip_create, clip_destroy,
                                             clip_process};

static const mien_component_desc kClip = {
    sizeof(mien_component_desc),
    "example.c_clip",
    1,
    MIEN_KIND_TRANSFORM,
    "Clips every feature column of a table to [lo, hi] (plain C example)",
    kSchema,
    kPorts,
    sizeof kPorts / sizeof kPorts[0],
    MIEN_COMPONENT_THREAD_SAFE,
    &kVtable,
    NULL,
};

static const mien_component_desc* const kComponents[] = {&kClip};

static const mien_plugin_desc kPlugin = {
    sizeof(mien_plugin_desc),
    MIEN_ABI_VERSION_MAJOR,
    MIEN_ABI_VERSION_MINOR,
    "mien-example-c",
    "1.0.0",
    "MIT",
    kComponents,
    sizeof kComponents / sizeof kComponents[0],
    NULL,
};

MIEN_EXPORT const mien_plugin_desc* mien_plugin_entry_v1(void) { return &kPlugin; }
