/*===- Runtime.c - the C API of a compiled onebit model (CPU) --------------===//
 *
 * Linked into every model library. Parses the signature the compiler
 * embeds (onebit_model_signature), checks the caller's tensors against it,
 * builds MLIR memref descriptors over the caller's buffers and calls the
 * packed entry point (onebit_main_graph_packed). Plain C and libc only, so
 * the library needs nothing beyond libc/libm.
 *
 *===----------------------------------------------------------------------===*/

#include "Model.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Emitted by onebit-compile into the same library. */
extern const char onebit_model_signature[];
extern void onebit_main_graph_packed(void **descriptors);

#ifdef ONEBIT_RUNTIME_CUDA
#define ONEBIT_DEVICE "cuda"
#else
#define ONEBIT_DEVICE "cpu"
#endif


const char *onebit_model_device(void) { return ONEBIT_DEVICE; }

#define DTYPE_NAME(suffix, name, size) name,
#define DTYPE_SIZE(suffix, name, size) size,
static const char *const dtype_names[] = {ONEBIT_DTYPE_LIST(DTYPE_NAME)};
static const int32_t dtype_sizes[] = {ONEBIT_DTYPE_LIST(DTYPE_SIZE)};
#undef DTYPE_NAME
#undef DTYPE_SIZE
#define NUM_DTYPES ((int)ONEBIT_NUM_DTYPES)

const char *onebit_dtype_name(onebit_dtype dtype) {
  return (int)dtype >= 0 && (int)dtype < NUM_DTYPES ? dtype_names[dtype]
                                                    : "unknown";
}

int32_t onebit_dtype_size(onebit_dtype dtype) {
  return (int)dtype >= 0 && (int)dtype < NUM_DTYPES ? dtype_sizes[dtype] : 0;
}

int onebit_fail(onebit_model *model, int code, const char *format, ...) {
  va_list args;
  va_start(args, format);
  vsnprintf(model->error, sizeof(model->error), format, args);
  va_end(args);
  return code;
}

/* Parses what follows "input|state|output " on a signature line:
 * "LEN:NAME DTYPE RANK D0 D1 ...". */
static int parse_spec(const char **cursor, tensor_spec *spec) {
  const char *p = *cursor;
  char *end;
  long length = strtol(p, &end, 10);
  if (end == p || *end != ':' || length < 0)
    return 0;
  p = end + 1;
  spec->name = (char *)malloc((size_t)length + 1);
  if (!spec->name)
    return 0;
  memcpy(spec->name, p, (size_t)length);
  spec->name[length] = '\0';
  p += length;
  while (*p == ' ')
    ++p;
  spec->dtype = (onebit_dtype)-1;
  for (int i = 0; i < NUM_DTYPES; ++i) {
    size_t n = strlen(dtype_names[i]);
    if (strncmp(p, dtype_names[i], n) == 0 && p[n] == ' ') {
      spec->dtype = (onebit_dtype)i;
      p += n;
      break;
    }
  }
  if ((int)spec->dtype < 0)
    return 0;
  spec->rank = (int32_t)strtol(p, &end, 10);
  p = end;
  spec->shape = (int64_t *)calloc((size_t)spec->rank + 1, sizeof(int64_t));
  if (!spec->shape)
    return 0;
  for (int32_t d = 0; d < spec->rank; ++d) {
    spec->shape[d] = strtoll(p, &end, 10);
    if (end == p)
      return 0;
    p = end;
  }
  while (*p == ' ' || *p == '\n')
    ++p;
  *cursor = p;
  return 1;
}

/* The "index DIM COUNT LEN:WHAT" lines after the check result's line,
 * whose counts must add up to its one dimension. */
static int parse_index_checks(const char **cursor, onebit_model *model,
                              const tensor_spec *spec) {
  const char *p = *cursor;
  int64_t total = 0;
  while (strncmp(p, "index ", 6) == 0) {
    char *end;
    index_check check;
    check.dim = strtoll(p + 6, &end, 10);
    check.count = strtoll(end, &end, 10);
    long length = strtol(end, &end, 10);
    if (*end != ':' || length < 0 || check.dim < 1 || check.count < 1)
      return 0;
    index_check *grown = (index_check *)realloc(
        model->checks, (size_t)(model->num_checks + 1) * sizeof(index_check));
    if (!grown)
      return 0;
    model->checks = grown;
    check.what = (char *)malloc((size_t)length + 1);
    if (!check.what)
      return 0;
    memcpy(check.what, end + 1, (size_t)length);
    check.what[length] = '\0';
    model->checks[model->num_checks++] = check;
    total += check.count;
    p = end + 1 + length;
    while (*p == '\n')
      ++p;
  }
  *cursor = p;
  return spec->dtype == ONEBIT_INT64 && spec->rank == 1 &&
         spec->shape[0] == total && model->num_checks > 0;
}

static void free_specs(tensor_spec *specs, int32_t count) {
  for (int32_t i = 0; specs && i < count; ++i) {
    free(specs[i].name);
    free(specs[i].shape);
  }
  free(specs);
}

void onebit_model_close(onebit_model *model) {
  if (!model)
    return;
#ifdef ONEBIT_RUNTIME_CUDA
  onebit_cuda_model_close(model->device);
#endif
  free_specs(model->args, model->num_args);
  free_specs(model->outputs, onebit_entry_results(model));
  for (int32_t i = 0; model->checks && i < model->num_checks; ++i)
    free(model->checks[i].what);
  free(model->checks);
  free(model->input_args);
  free(model);
}

size_t onebit_spec_bytes(const tensor_spec *spec, int64_t rows) {
  size_t count = (size_t)onebit_dtype_size(spec->dtype);
  for (int32_t d = 0; d < spec->rank; ++d)
    count *= (size_t)(spec->shape[d] < 0 ? rows : spec->shape[d]);
  return count;
}

onebit_model *onebit_model_open(void) {
  onebit_model *model = (onebit_model *)calloc(1, sizeof(onebit_model));
  if (!model)
    return NULL;
  const char *p = onebit_model_signature;
  int args = 0, outputs = 0;
  long long window = -1;
  if (sscanf(p, "onebit-signature 2 %d %d %lld", &args, &outputs, &window) !=
      3) {
    onebit_fail(model, ONEBIT_ERROR_RUNTIME, "corrupt model signature");
    return model;
  }
  model->window = (int64_t)window;
  p = strchr(p, '\n');
  model->args = (tensor_spec *)calloc((size_t)args + 1, sizeof(tensor_spec));
  model->input_args = (int32_t *)calloc((size_t)args + 1, sizeof(int32_t));
  model->outputs =
      (tensor_spec *)calloc((size_t)outputs + 1, sizeof(tensor_spec));
  if (!p || !model->args || !model->input_args || !model->outputs) {
    onebit_model_close(model);
    return NULL;
  }
  ++p;
  for (int i = 0; i < args + outputs; ++i) {
    int is_input = strncmp(p, "input ", 6) == 0;
    int is_state = strncmp(p, "state ", 6) == 0;
    /* The index checks: the entry's last result, then its segments. */
    int is_check = strncmp(p, "check ", 6) == 0 && i + 1 == args + outputs;
    if (!is_input && !is_state && !is_check && strncmp(p, "output ", 7) != 0)
      break;
    p += is_input || is_state || is_check ? 6 : 7;
    tensor_spec *spec = is_input || is_state
                            ? &model->args[model->num_args++]
                            : &model->outputs[model->num_outputs];
    if (!parse_spec(&p, spec))
      break;
    if (is_check) {
      model->has_check = 1;
      if (!parse_index_checks(&p, model, spec))
        break;
    } else if (!is_input && !is_state) {
      ++model->num_outputs;
    }
    spec->state = is_state;
    if (is_state)
      ++model->num_state;
    else if (is_input)
      model->input_args[model->num_inputs++] = model->num_args - 1;
  }
  if (model->num_args != args || onebit_entry_results(model) != outputs) {
    onebit_fail(model, ONEBIT_ERROR_RUNTIME, "corrupt model signature");
    return model;
  }
#ifdef ONEBIT_RUNTIME_CUDA
  /* A decoder's sessions each hold their own GPU state. */
  if (model->num_state)
    return model;
  size_t *bytes = (size_t *)calloc((size_t)(args + outputs) + 1,
                                   sizeof(size_t));
  if (!bytes) {
    onebit_model_close(model);
    return NULL;
  }
  for (int i = 0; i < args + outputs; ++i)
    bytes[i] = onebit_spec_bytes(i < args ? &model->args[i]
                                   : &model->outputs[i - args],
                          0);
  /* A missing driver or GPU is reported by every run, not here: the
   * model's inputs and outputs stay inspectable. */
  model->device =
      onebit_cuda_model_open(args, bytes, NULL, outputs, bytes + args);
  free(bytes);
  if (!model->device) {
    onebit_model_close(model);
    return NULL;
  }
#endif
  return model;
}

const char *onebit_model_last_error(const onebit_model *model) {
  return model ? model->error : "model is NULL";
}

int32_t onebit_model_num_inputs(const onebit_model *model) {
  return model ? model->num_inputs : 0;
}

int32_t onebit_model_num_outputs(const onebit_model *model) {
  return model ? model->num_outputs : 0;
}

static int get_info(const tensor_spec *specs, int32_t count, int32_t index,
                    onebit_tensor_info *info) {
  if (!specs || !info || index < 0 || index >= count)
    return ONEBIT_ERROR_INVALID_ARGUMENT;
  info->name = specs[index].name;
  info->dtype = specs[index].dtype;
  info->rank = specs[index].rank;
  info->shape = specs[index].shape;
  return ONEBIT_OK;
}

int onebit_model_input_info(const onebit_model *model, int32_t index,
                            onebit_tensor_info *info) {
  if (!model || index < 0 || index >= model->num_inputs)
    return ONEBIT_ERROR_INVALID_ARGUMENT;
  return get_info(model->args, model->num_args, model->input_args[index],
                  info);
}

int64_t onebit_model_window(const onebit_model *model) {
  return model ? model->window : -1;
}

int onebit_model_output_info(const onebit_model *model, int32_t index,
                             onebit_tensor_info *info) {
  return model ? get_info(model->outputs, model->num_outputs, index, info)
               : ONEBIT_ERROR_INVALID_ARGUMENT;
}

/* Checks `tensor` against `spec`; on success writes its memref descriptor
 * {allocated, aligned, offset, sizes[rank], strides[rank]} to `descriptor`. */
static int check_tensor(onebit_model *model, const char *role,
                        const tensor_spec *spec, const onebit_tensor *tensor,
                        int64_t *descriptor) {
  if (!tensor->data)
    return onebit_fail(model, ONEBIT_ERROR_INVALID_ARGUMENT,
                "%s '%s': data is NULL", role, spec->name);
  if (tensor->dtype != spec->dtype)
    return onebit_fail(model, ONEBIT_ERROR_INVALID_ARGUMENT,
                "%s '%s': dtype %s, expected %s", role, spec->name,
                onebit_dtype_name(tensor->dtype),
                onebit_dtype_name(spec->dtype));
  /* The caller's shape array is only read for the rank the model expects:
   * a bogus rank must not make us read past it. */
  if (tensor->rank != spec->rank || (spec->rank && !tensor->shape))
    return onebit_fail(model, ONEBIT_ERROR_INVALID_ARGUMENT,
                "%s '%s': rank %d%s, expected rank %d", role, spec->name,
                (int)tensor->rank, tensor->shape ? "" : " with shape NULL",
                (int)spec->rank);
  int same = 1;
  for (int32_t d = 0; same && d < spec->rank; ++d)
    same = tensor->shape[d] == spec->shape[d] ||
           (spec->shape[d] < 0 && tensor->shape[d] > 0);
  if (!same) {
    char expected[256] = "", got[256] = "";
    size_t e = 0, g = 0;
    for (int32_t d = 0; d < spec->rank && e < sizeof(expected) - 24; ++d)
      e += (size_t)snprintf(expected + e, sizeof(expected) - e, "%s%lld",
                            d ? "x" : "", (long long)spec->shape[d]);
    for (int32_t d = 0; d < spec->rank && g < sizeof(got) - 24; ++d)
      g += (size_t)snprintf(got + g, sizeof(got) - g, "%s%lld", d ? "x" : "",
                            (long long)tensor->shape[d]);
    return onebit_fail(model, ONEBIT_ERROR_INVALID_ARGUMENT,
                "%s '%s': shape [%s], expected [%s]", role, spec->name, got,
                expected);
  }
  descriptor[0] = (int64_t)(intptr_t)tensor->data;
  descriptor[1] = (int64_t)(intptr_t)tensor->data;
  descriptor[2] = 0;
  int64_t stride = 1;
  for (int32_t d = spec->rank - 1; d >= 0; --d) {
    descriptor[3 + d] = tensor->shape[d];
    descriptor[3 + spec->rank + d] = stride;
    stride *= tensor->shape[d];
  }
  return ONEBIT_OK;
}

/* Fails naming the first index out of range that the index-check result
 * `offenders` holds (0 where an index is in range). */
static int report_index_checks(onebit_model *model, const int64_t *offenders) {
  for (int32_t c = 0; c < model->num_checks; ++c) {
    const index_check *check = &model->checks[c];
    for (int64_t i = 0; i < check->count; ++i)
      if (offenders[i])
        return onebit_fail(model, ONEBIT_ERROR_INVALID_ARGUMENT,
                           "%s: index %lld (element %lld) is out of range "
                           "for a dimension of %lld (valid: %lld to %lld)",
                           check->what, (long long)offenders[i],
                           (long long)i, (long long)check->dim,
                           (long long)-check->dim,
                           (long long)(check->dim - 1));
    offenders += check->count;
  }
  return ONEBIT_OK;
}

int onebit_run_entry(onebit_model *model, void *device,
                     const onebit_tensor *args, const onebit_tensor *outputs) {
  int32_t results = onebit_entry_results(model);
  int32_t total = model->num_args + results;
  size_t words = 0;
  for (int32_t i = 0; i < total; ++i) {
    const tensor_spec *spec = i < model->num_args
                                  ? &model->args[i]
                                  : &model->outputs[i - model->num_args];
    words += 3 + 2 * (size_t)spec->rank;
  }
  /* The caller's outputs, then the index checks' buffer. */
  int64_t checked =
      model->has_check ? model->outputs[model->num_outputs].shape[0] : 0;
  int64_t *storage = (int64_t *)malloc(words * sizeof(int64_t) + 1);
  void **descriptors = (void **)malloc((size_t)total * sizeof(void *) + 1);
  onebit_tensor *all_outputs =
      (onebit_tensor *)malloc((size_t)results * sizeof(onebit_tensor) + 1);
  int64_t *offenders = (int64_t *)calloc((size_t)checked + 1, sizeof(int64_t));
  if (!storage || !descriptors || !all_outputs || !offenders) {
    free(storage);
    free(descriptors);
    free(all_outputs);
    free(offenders);
    return onebit_fail(model, ONEBIT_ERROR_RUNTIME, "out of memory");
  }
  if (model->num_outputs)
    memcpy(all_outputs, outputs,
           (size_t)model->num_outputs * sizeof(onebit_tensor));
  if (model->has_check) {
    const tensor_spec *spec = &model->outputs[model->num_outputs];
    onebit_tensor check = {offenders, spec->dtype, spec->rank, spec->shape};
    all_outputs[model->num_outputs] = check;
  }
  outputs = all_outputs;
  int status = ONEBIT_OK;
  int64_t *next = storage;
  for (int32_t i = 0; i < total && status == ONEBIT_OK; ++i) {
    int is_arg = i < model->num_args;
    const tensor_spec *spec =
        is_arg ? &model->args[i] : &model->outputs[i - model->num_args];
    const onebit_tensor *tensor =
        is_arg ? &args[i] : &outputs[i - model->num_args];
    status = check_tensor(model, is_arg ? "input" : "output", spec, tensor,
                          next);
    descriptors[i] = next;
    next += 3 + 2 * spec->rank;
  }
#ifdef ONEBIT_RUNTIME_CUDA
  if (status == ONEBIT_OK)
    status = onebit_cuda_model_run(device, descriptors, args, outputs,
                                   model->error, sizeof(model->error));
#else
  (void)device;
  if (status == ONEBIT_OK)
    onebit_main_graph_packed(descriptors);
#endif
  if (status == ONEBIT_OK && model->has_check)
    status = report_index_checks(model, offenders);
  free(storage);
  free(descriptors);
  free(all_outputs);
  free(offenders);
  return status;
}

int onebit_model_run(onebit_model *model, const onebit_tensor *inputs,
                     int32_t num_inputs, const onebit_tensor *outputs,
                     int32_t num_outputs) {
  if (!model)
    return ONEBIT_ERROR_INVALID_ARGUMENT;
  model->error[0] = '\0';
  if (model->num_state)
    return onebit_fail(model, ONEBIT_ERROR_INVALID_ARGUMENT,
                "this model is a decoding step that keeps its key/value "
                "cache in the library: run it through a session "
                "(onebit_session_create), or compile it with "
                "--resident-cache=false");
  if (num_inputs != model->num_inputs || num_outputs != model->num_outputs)
    return onebit_fail(model, ONEBIT_ERROR_INVALID_ARGUMENT,
                "expected %d inputs and %d outputs, got %d and %d",
                model->num_inputs, model->num_outputs, num_inputs,
                num_outputs);
  if ((num_inputs && !inputs) || (num_outputs && !outputs))
    return onebit_fail(model, ONEBIT_ERROR_INVALID_ARGUMENT,
                "inputs or outputs is NULL");
  return onebit_run_entry(model, model->device, inputs, outputs);
}

int onebit_model_time(onebit_model *model, const onebit_tensor *inputs,
                      int32_t num_inputs, const onebit_tensor *outputs,
                      int32_t num_outputs, int32_t iterations,
                      double *microseconds) {
  if (!model)
    return ONEBIT_ERROR_INVALID_ARGUMENT;
  if (iterations < 1 || !microseconds)
    return onebit_fail(model, ONEBIT_ERROR_INVALID_ARGUMENT,
                "iterations must be at least 1 and microseconds not NULL");
  /* A worker thread starts on its creator's core and the scheduler moves
   * it only after a while: until then two threads share one core and a
   * forward takes more than twice as long. */
  struct timespec warm_start, now;
  clock_gettime(CLOCK_MONOTONIC, &warm_start);
  for (int warm = 0;; ++warm) {
    clock_gettime(CLOCK_MONOTONIC, &now);
    double elapsed_ms = (double)(now.tv_sec - warm_start.tv_sec) * 1e3 +
                       (double)(now.tv_nsec - warm_start.tv_nsec) * 1e-6;
    if (warm >= 2 && elapsed_ms >= ONEBIT_WARM_UP_MS)
      break;
    int status =
        onebit_model_run(model, inputs, num_inputs, outputs, num_outputs);
    if (status != ONEBIT_OK)
      return status;
  }
#ifdef ONEBIT_RUNTIME_CUDA
  return onebit_cuda_model_time(model->device, iterations, microseconds,
                                model->error, sizeof(model->error));
#else
  struct timespec start, end;
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (int32_t i = 0; i < iterations; ++i) {
    int status =
        onebit_model_run(model, inputs, num_inputs, outputs, num_outputs);
    if (status != ONEBIT_OK)
      return status;
  }
  clock_gettime(CLOCK_MONOTONIC, &end);
  *microseconds = ((double)(end.tv_sec - start.tv_sec) * 1e6 +
                   (double)(end.tv_nsec - start.tv_nsec) * 1e-3) /
                  iterations;
  return ONEBIT_OK;
#endif
}

/* MLIR lowers memref.copy between non-contiguous memrefs to a call of
 * memrefCopy(element size, unranked source, unranked target), which
 * upstream implements in its runner utilities; model libraries carry their
 * own. An unranked descriptor is {rank, pointer to the ranked descriptor
 * {allocated, aligned, offset, sizes[rank], strides[rank]}}. */
typedef struct unranked_memref {
  int64_t rank;
  int64_t *descriptor;
} unranked_memref;

void memrefCopy(int64_t element_size, unranked_memref *source,
                unranked_memref *target) {
  int64_t rank = source->rank;
  const int64_t *s = source->descriptor, *t = target->descriptor;
  const char *from = (const char *)(intptr_t)s[1] + s[2] * element_size;
  char *to = (char *)(intptr_t)t[1] + t[2] * element_size;
  const int64_t *sizes = s + 3, *from_strides = s + 3 + rank,
                *to_strides = t + 3 + rank;
  int64_t count = 1;
  for (int64_t d = 0; d < rank; ++d)
    count *= sizes[d];
  if (count == 0)
    return;
  int64_t index[64] = {0};
  if (rank > 64)
    return;
  for (int64_t n = 0; n < count; ++n) {
    int64_t from_offset = 0, to_offset = 0;
    for (int64_t d = 0; d < rank; ++d) {
      from_offset += index[d] * from_strides[d];
      to_offset += index[d] * to_strides[d];
    }
    memcpy(to + to_offset * element_size, from + from_offset * element_size,
           (size_t)element_size);
    for (int64_t d = rank - 1; d >= 0; --d) {
      if (++index[d] < sizes[d])
        break;
      index[d] = 0;
    }
  }
}
