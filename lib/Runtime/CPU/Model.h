/*===- Model.h - what Runtime.c and Session.c share -------------*- C -*-===//
 *
 * Private to the runtime: the parsed signature of the library's entry and
 * the calls that run it.
 *
 *===----------------------------------------------------------------------===*/

#ifndef ONEBIT_LIB_RUNTIME_MODEL_H
#define ONEBIT_LIB_RUNTIME_MODEL_H

#include "onebit/Runtime/onebit_runtime.h"

#include <stddef.h>

typedef struct tensor_spec {
  char *name;
  onebit_dtype dtype;
  int32_t rank;
  int64_t *shape; /* -1: the rows of a session's state */
  int state;      /* a decoder's key/value cache, held by sessions */
} tensor_spec;

/* One segment of the entry's index-check result (#onebit.index_check):
 * `count` indices into a dimension of `dim`, each 0 or out of range. */
typedef struct index_check {
  int64_t dim, count;
  char *what; /* the ONNX node and the indices */
} index_check;

struct onebit_model {
  /* The entry's arguments in order: inputs and state. */
  int32_t num_args, num_state;
  tensor_spec *args;
  /* The inputs a caller passes (the arguments that are not state). */
  int32_t num_inputs, *input_args;
  int32_t num_outputs;
  /* The entry's results: the outputs, then (has_check) the index-check
   * result at outputs[num_outputs], which callers never see. */
  tensor_spec *outputs;
  int32_t has_check, num_checks;
  index_check *checks;
  int64_t window; /* -1: not a decoder; 0: any number of positions */
  char error[512];
  void *device; /* the CUDA runtime's state (-target=cuda, not a decoder) */
};

/* Stores the formatted message as `model`'s last error; returns `code`. */
int onebit_fail(onebit_model *model, int code, const char *format, ...);

/* Bytes of a tensor of `spec`, with `rows` for its dynamic dimension. */
size_t onebit_spec_bytes(const tensor_spec *spec, int64_t rows);

/* The entry's results: the caller's outputs and the index checks. */
static inline int32_t onebit_entry_results(const onebit_model *model) {
  return model->num_outputs + model->has_check;
}

/* Runs the entry on `args` (every argument, state included, in order) and
 * `outputs` (the caller's) after checking them against the signature, then
 * fails if an index check found an index out of range; `device` is the
 * CUDA state to run on (-target=cuda), sized for onebit_entry_results. */
int onebit_run_entry(onebit_model *model, void *device,
                     const onebit_tensor *args, const onebit_tensor *outputs);

#ifdef ONEBIT_RUNTIME_CUDA
/* lib/Runtime/CUDA/CudaRuntime.c: the same API for -target=cuda. */
void *onebit_cuda_model_open(int32_t num_inputs, const size_t *input_bytes,
                             const char *resident, int32_t num_outputs,
                             const size_t *output_bytes);
void onebit_cuda_model_close(void *state);
int onebit_cuda_model_run(void *state, void **descriptors,
                          const onebit_tensor *inputs,
                          const onebit_tensor *outputs, char *error,
                          size_t size);
int onebit_cuda_model_time(void *state, int32_t iterations,
                           double *microseconds, char *error, size_t size);
#endif

#endif /* ONEBIT_LIB_RUNTIME_MODEL_H */
