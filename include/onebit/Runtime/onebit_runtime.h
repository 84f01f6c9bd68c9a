/*===- onebit_runtime.h - the C API of a compiled onebit model ----*- C -*-===//
 *
 * `onebit-compile model.onnx -target=cpu -o model.so` produces a shared
 * library that exports these functions; load it with dlopen (or link it)
 * and call them. Every function reports misuse (wrong count, dtype or
 * shape, null pointers) as an error code with a message, never a crash.
 *
 * Thread safety: separate onebit_model handles may run concurrently; one
 * handle must not be used by two threads at once (it holds the last error).
 *
 *===----------------------------------------------------------------------===*/

#ifndef ONEBIT_RUNTIME_ONEBIT_RUNTIME_H
#define ONEBIT_RUNTIME_ONEBIT_RUNTIME_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Status codes. */
#define ONEBIT_OK 0
#define ONEBIT_ERROR_INVALID_ARGUMENT 1
#define ONEBIT_ERROR_RUNTIME 2

/* Element types, named as numpy names them. */
typedef enum onebit_dtype {
  ONEBIT_FLOAT32 = 0,
  ONEBIT_FLOAT16 = 1,
  ONEBIT_BFLOAT16 = 2,
  ONEBIT_INT64 = 3,
  ONEBIT_INT32 = 4,
  ONEBIT_INT8 = 5,
  ONEBIT_UINT8 = 6,
  ONEBIT_BOOL = 7
} onebit_dtype;

/* A graph input or output: name, element type and static shape. */
typedef struct onebit_tensor_info {
  const char *name;
  onebit_dtype dtype;
  int32_t rank;
  const int64_t *shape;
} onebit_tensor_info;

/* A caller-owned buffer: dense, row-major, of `dtype` and `shape`. */
typedef struct onebit_tensor {
  void *data;
  onebit_dtype dtype;
  int32_t rank;
  const int64_t *shape;
} onebit_tensor;

typedef struct onebit_model onebit_model;

/* Opens the model compiled into this library. Weights are used in place
 * (read-only data of the library), nothing is copied. Returns NULL only if
 * memory runs out. */
onebit_model *onebit_model_open(void);
void onebit_model_close(onebit_model *model);

/* The message of the last failed call on `model` ("" if none). */
const char *onebit_model_last_error(const onebit_model *model);

int32_t onebit_model_num_inputs(const onebit_model *model);
int32_t onebit_model_num_outputs(const onebit_model *model);
/* Fills `info` (pointers stay valid until close). */
int onebit_model_input_info(const onebit_model *model, int32_t index,
                            onebit_tensor_info *info);
int onebit_model_output_info(const onebit_model *model, int32_t index,
                             onebit_tensor_info *info);

/* Runs the model: `inputs` and `outputs` in the order of the info calls,
 * each matching its dtype and shape exactly. Outputs are written in place. */
int onebit_model_run(onebit_model *model, const onebit_tensor *inputs,
                     int32_t num_inputs, const onebit_tensor *outputs,
                     int32_t num_outputs);

/* Times the model for benchmarks: runs it as onebit_model_run does (at
 * least twice, so a CUDA model has captured its graph, and for at least
 * ONEBIT_WARM_UP_MS, so the OS has spread a CPU model's OpenMP threads over
 * the cores), then `iterations` forwards back to back, and stores the mean
 * time of one forward in `*microseconds`. On the CPU that is the host clock
 * around whole runs; on CUDA the forwards are replays of the model's CUDA
 * graph queued on its stream with no host synchronisation in between and
 * no input/output copies, timed with device events. Same thread-safety as
 * onebit_model_run. */
#define ONEBIT_WARM_UP_MS 200
int onebit_model_time(onebit_model *model, const onebit_tensor *inputs,
                      int32_t num_inputs, const onebit_tensor *outputs,
                      int32_t num_outputs, int32_t iterations,
                      double *microseconds);

/* "float32", "float16", ...; "unknown" for an invalid value. */
const char *onebit_dtype_name(onebit_dtype dtype);
/* Bytes per element (bool: 1). */
int32_t onebit_dtype_size(onebit_dtype dtype);

#ifdef __cplusplus
}
#endif

#endif /* ONEBIT_RUNTIME_ONEBIT_RUNTIME_H */
