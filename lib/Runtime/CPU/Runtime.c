/*===- Runtime.c - the C API of a compiled onebit model (CPU) --------------===//
 *
 * Linked into every model library. Parses the signature the compiler
 * embeds (onebit_model_signature), checks the caller's tensors against it,
 * builds MLIR memref descriptors over the caller's buffers and calls the
 * packed entry point (onebit_main_graph_packed). Plain C and libc only, so
 * the library needs nothing beyond libc/libm.
 *
 *===----------------------------------------------------------------------===*/

#include "onebit/Runtime/onebit_runtime.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Emitted by onebit-compile into the same library. */
extern const char onebit_model_signature[];
extern void onebit_main_graph_packed(void **descriptors);

#ifdef ONEBIT_RUNTIME_CUDA
/* lib/Runtime/CUDA/CudaRuntime.c: the same API for -target=cuda. */
void *onebit_cuda_model_open(int32_t num_inputs, const size_t *input_bytes,
                             int32_t num_outputs, const size_t *output_bytes);
void onebit_cuda_model_close(void *state);
int onebit_cuda_model_run(void *state, void **descriptors,
                          const onebit_tensor *inputs,
                          const onebit_tensor *outputs, char *error,
                          size_t size);
int onebit_cuda_model_time(void *state, int32_t iterations,
                           double *microseconds, char *error, size_t size);
#define ONEBIT_DEVICE "cuda"
#else
#define ONEBIT_DEVICE "cpu"
#endif

typedef struct tensor_spec {
  char *name;
  onebit_dtype dtype;
  int32_t rank;
  int64_t *shape;
} tensor_spec;

struct onebit_model {
  int32_t num_inputs, num_outputs;
  tensor_spec *inputs, *outputs;
  char error[512];
  void *device; /* the CUDA runtime's state (-target=cuda) */
};

const char *onebit_model_device(void) { return ONEBIT_DEVICE; }

static const char *const dtype_names[] = {"float32", "float16", "bfloat16",
                                          "int64",   "int32",   "int8",
                                          "uint8",   "bool"};
static const int32_t dtype_sizes[] = {4, 2, 2, 8, 4, 1, 1, 1};
#define NUM_DTYPES ((int)(sizeof(dtype_sizes) / sizeof(dtype_sizes[0])))

const char *onebit_dtype_name(onebit_dtype dtype) {
  return (int)dtype >= 0 && (int)dtype < NUM_DTYPES ? dtype_names[dtype]
                                                    : "unknown";
}

int32_t onebit_dtype_size(onebit_dtype dtype) {
  return (int)dtype >= 0 && (int)dtype < NUM_DTYPES ? dtype_sizes[dtype] : 0;
}

static int fail(onebit_model *model, int code, const char *format, ...) {
  va_list args;
  va_start(args, format);
  vsnprintf(model->error, sizeof(model->error), format, args);
  va_end(args);
  return code;
}

/* Parses one "input|output LEN:NAME DTYPE RANK D0 D1 ..." line. */
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
  free_specs(model->inputs, model->num_inputs);
  free_specs(model->outputs, model->num_outputs);
  free(model);
}

onebit_model *onebit_model_open(void) {
  onebit_model *model = (onebit_model *)calloc(1, sizeof(onebit_model));
  if (!model)
    return NULL;
  const char *p = onebit_model_signature;
  int inputs = 0, outputs = 0;
  if (sscanf(p, "onebit-signature 1 %d %d", &inputs, &outputs) != 2) {
    fail(model, ONEBIT_ERROR_RUNTIME, "corrupt model signature");
    return model;
  }
  p = strchr(p, '\n');
  model->inputs = (tensor_spec *)calloc((size_t)inputs + 1, sizeof(tensor_spec));
  model->outputs =
      (tensor_spec *)calloc((size_t)outputs + 1, sizeof(tensor_spec));
  if (!p || !model->inputs || !model->outputs) {
    onebit_model_close(model);
    return NULL;
  }
  ++p;
  for (int i = 0; i < inputs + outputs; ++i) {
    int is_input = strncmp(p, "input ", 6) == 0;
    if (!is_input && strncmp(p, "output ", 7) != 0)
      break;
    p += is_input ? 6 : 7;
    tensor_spec *spec = is_input ? &model->inputs[model->num_inputs++]
                                 : &model->outputs[model->num_outputs++];
    if (!parse_spec(&p, spec))
      break;
  }
  if (model->num_inputs != inputs || model->num_outputs != outputs) {
    fail(model, ONEBIT_ERROR_RUNTIME, "corrupt model signature");
    return model;
  }
#ifdef ONEBIT_RUNTIME_CUDA
  size_t *bytes = (size_t *)calloc((size_t)(inputs + outputs) + 1,
                                   sizeof(size_t));
  if (!bytes) {
    onebit_model_close(model);
    return NULL;
  }
  for (int i = 0; i < inputs + outputs; ++i) {
    const tensor_spec *spec =
        i < inputs ? &model->inputs[i] : &model->outputs[i - inputs];
    size_t count = (size_t)onebit_dtype_size(spec->dtype);
    for (int32_t d = 0; d < spec->rank; ++d)
      count *= (size_t)spec->shape[d];
    bytes[i] = count;
  }
  /* A missing driver or GPU is reported by every run, not here: the
   * model's inputs and outputs stay inspectable. */
  model->device =
      onebit_cuda_model_open(inputs, bytes, outputs, bytes + inputs);
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
  return model ? get_info(model->inputs, model->num_inputs, index, info)
               : ONEBIT_ERROR_INVALID_ARGUMENT;
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
    return fail(model, ONEBIT_ERROR_INVALID_ARGUMENT,
                "%s '%s': data is NULL", role, spec->name);
  if (tensor->dtype != spec->dtype)
    return fail(model, ONEBIT_ERROR_INVALID_ARGUMENT,
                "%s '%s': dtype %s, expected %s", role, spec->name,
                onebit_dtype_name(tensor->dtype),
                onebit_dtype_name(spec->dtype));
  int same = tensor->rank == spec->rank &&
             (spec->rank == 0 || tensor->shape != NULL);
  for (int32_t d = 0; same && d < spec->rank; ++d)
    same = tensor->shape[d] == spec->shape[d];
  if (!same) {
    char expected[256] = "", got[256] = "";
    size_t e = 0, g = 0;
    for (int32_t d = 0; d < spec->rank && e < sizeof(expected) - 24; ++d)
      e += (size_t)snprintf(expected + e, sizeof(expected) - e, "%s%lld",
                            d ? "x" : "", (long long)spec->shape[d]);
    for (int32_t d = 0; tensor->shape && d < tensor->rank && d < 32 &&
                        g < sizeof(got) - 24;
         ++d)
      g += (size_t)snprintf(got + g, sizeof(got) - g, "%s%lld", d ? "x" : "",
                            (long long)tensor->shape[d]);
    return fail(model, ONEBIT_ERROR_INVALID_ARGUMENT,
                "%s '%s': shape [%s] (rank %d), expected [%s]", role,
                spec->name, got, (int)tensor->rank, expected);
  }
  descriptor[0] = (int64_t)(intptr_t)tensor->data;
  descriptor[1] = (int64_t)(intptr_t)tensor->data;
  descriptor[2] = 0;
  int64_t stride = 1;
  for (int32_t d = spec->rank - 1; d >= 0; --d) {
    descriptor[3 + d] = spec->shape[d];
    descriptor[3 + spec->rank + d] = stride;
    stride *= spec->shape[d];
  }
  return ONEBIT_OK;
}

int onebit_model_run(onebit_model *model, const onebit_tensor *inputs,
                     int32_t num_inputs, const onebit_tensor *outputs,
                     int32_t num_outputs) {
  if (!model)
    return ONEBIT_ERROR_INVALID_ARGUMENT;
  model->error[0] = '\0';
  if (num_inputs != model->num_inputs || num_outputs != model->num_outputs)
    return fail(model, ONEBIT_ERROR_INVALID_ARGUMENT,
                "expected %d inputs and %d outputs, got %d and %d",
                model->num_inputs, model->num_outputs, num_inputs,
                num_outputs);
  if ((num_inputs && !inputs) || (num_outputs && !outputs))
    return fail(model, ONEBIT_ERROR_INVALID_ARGUMENT,
                "inputs or outputs is NULL");
  int32_t total = num_inputs + num_outputs;
  size_t words = 0;
  for (int32_t i = 0; i < total; ++i) {
    const tensor_spec *spec =
        i < num_inputs ? &model->inputs[i] : &model->outputs[i - num_inputs];
    words += 3 + 2 * (size_t)spec->rank;
  }
  int64_t *storage = (int64_t *)malloc(words * sizeof(int64_t) + 1);
  void **descriptors = (void **)malloc((size_t)total * sizeof(void *) + 1);
  if (!storage || !descriptors) {
    free(storage);
    free(descriptors);
    return fail(model, ONEBIT_ERROR_RUNTIME, "out of memory");
  }
  int status = ONEBIT_OK;
  int64_t *next = storage;
  for (int32_t i = 0; i < total && status == ONEBIT_OK; ++i) {
    int is_input = i < num_inputs;
    const tensor_spec *spec =
        is_input ? &model->inputs[i] : &model->outputs[i - num_inputs];
    const onebit_tensor *tensor =
        is_input ? &inputs[i] : &outputs[i - num_inputs];
    status = check_tensor(model, is_input ? "input" : "output", spec, tensor,
                          next);
    descriptors[i] = next;
    next += 3 + 2 * spec->rank;
  }
#ifdef ONEBIT_RUNTIME_CUDA
  if (status == ONEBIT_OK)
    status = onebit_cuda_model_run(model->device, descriptors, inputs, outputs,
                                   model->error, sizeof(model->error));
#else
  if (status == ONEBIT_OK)
    onebit_main_graph_packed(descriptors);
#endif
  free(storage);
  free(descriptors);
  return status;
}

int onebit_model_time(onebit_model *model, const onebit_tensor *inputs,
                      int32_t num_inputs, const onebit_tensor *outputs,
                      int32_t num_outputs, int32_t iterations,
                      double *microseconds) {
  if (!model)
    return ONEBIT_ERROR_INVALID_ARGUMENT;
  if (iterations < 1 || !microseconds)
    return fail(model, ONEBIT_ERROR_INVALID_ARGUMENT,
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
