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

/* The element types a model's inputs and outputs can have, in enum order:
 * X(enum suffix, numpy name, bytes per element). The compiler, the runtime
 * and the Python binding all read this one table. */
#define ONEBIT_DTYPE_LIST(X)                                                   \
  X(FLOAT32, "float32", 4)                                                     \
  X(FLOAT16, "float16", 2)                                                     \
  X(BFLOAT16, "bfloat16", 2)                                                   \
  X(INT64, "int64", 8)                                                         \
  X(INT32, "int32", 4)                                                         \
  X(INT8, "int8", 1)                                                           \
  X(UINT8, "uint8", 1)                                                         \
  X(BOOL, "bool", 1)

/* Element types, named as numpy names them (ONEBIT_FLOAT32 = 0, ...). */
typedef enum onebit_dtype {
#define ONEBIT_DTYPE_ENUM(suffix, name, size) ONEBIT_##suffix,
  ONEBIT_DTYPE_LIST(ONEBIT_DTYPE_ENUM)
#undef ONEBIT_DTYPE_ENUM
  ONEBIT_NUM_DTYPES
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

/*--- Decoding sessions ----------------------------------------------------
 *
 * A decoder compiled with its key/value cache in the library (a decoding
 * step in either form of docs/decoding.md; onebit_model_window >= 0) runs
 * through sessions. A session holds one sequence's cache (on the GPU for
 * -target=cuda, where it never crosses the bus) and its position: prefill
 * appends a prompt, decode appends one token, each returning the last
 * token's logits (as float32, `vocab` of them; NULL: not wanted) and their
 * argmax (NULL: not wanted). Token ids outside [0, vocab) and positions
 * past max_len are errors, with a message from onebit_session_last_error.
 * A session is used by one thread at a time; sessions of one model may run
 * concurrently. */
typedef struct onebit_session onebit_session;

/* The most positions a session of `model` may hold: 0 where the model
 * sets no bound, -1 if the model is not a decoder. */
int64_t onebit_model_window(const onebit_model *model);

/* A session of at most `max_len` positions (0: the model's window). NULL
 * if `model` is not a decoder, max_len is out of range (the message is
 * onebit_model_last_error) or memory runs out. */
onebit_session *onebit_session_create(onebit_model *model, int64_t max_len);
void onebit_session_free(onebit_session *session);
const char *onebit_session_last_error(const onebit_session *session);

/* Positions held; the most it holds; the logits per token. */
int64_t onebit_session_position(const onebit_session *session);
int64_t onebit_session_max_len(const onebit_session *session);
int64_t onebit_session_vocab_size(const onebit_session *session);

/* Forgets the sequence: the next prefill starts at position 0. */
int onebit_session_reset(onebit_session *session);

/* Appends `count` >= 1 tokens at positions position .. position+count-1
 * (nothing is appended if any id or the length is out of range). */
int onebit_session_prefill(onebit_session *session, const int64_t *ids,
                           int64_t count, float *logits, int64_t *next_token);
/* Appends one token. */
int onebit_session_decode(onebit_session *session, int64_t id, float *logits,
                          int64_t *next_token);

/* Times one decoding step at the session's position for benchmarks: the
 * step that decode(id) runs, repeated without advancing (after the warm-up
 * of onebit_model_time; on CUDA, graph replays timed on the GPU). */
int onebit_session_time(onebit_session *session, int64_t id,
                        int32_t iterations, double *microseconds);

/* "float32", "float16", ...; "unknown" for an invalid value. */
const char *onebit_dtype_name(onebit_dtype dtype);
/* Bytes per element (bool: 1). */
int32_t onebit_dtype_size(onebit_dtype dtype);

/* What the library was compiled for: "cpu" or "cuda". */
const char *onebit_model_device(void);

/*--- Several models in one program -----------------------------------------
 *
 * Every library exports the functions above. A library compiled with
 * `onebit-compile --name NAME` also exports each under NAME_ in place of
 * onebit_ (NAME_model_open, NAME_session_create, ...), bound to its own
 * model, so that a program linking several libraries calls each one's:
 *
 *   ONEBIT_DECLARE_MODEL_API(first)   // first_model_open, ...
 *   ONEBIT_DECLARE_MODEL_API(second)
 *   onebit_model *a = first_model_open(), *b = second_model_open();
 *
 * docs/examples/two_models.c links two models and runs both. */
#define ONEBIT_API_NAMES(X, arg)                                              \
  X(arg, model_open) X(arg, model_close) X(arg, model_last_error)             \
  X(arg, model_num_inputs) X(arg, model_num_outputs)                          \
  X(arg, model_input_info) X(arg, model_output_info) X(arg, model_run)        \
  X(arg, model_time) X(arg, model_window) X(arg, model_device)                \
  X(arg, session_create) X(arg, session_free) X(arg, session_last_error)      \
  X(arg, session_position) X(arg, session_max_len)                            \
  X(arg, session_vocab_size) X(arg, session_reset) X(arg, session_prefill)    \
  X(arg, session_decode) X(arg, session_time) X(arg, dtype_name)              \
  X(arg, dtype_size)
#define ONEBIT_DECLARE_PREFIXED_(prefix, name)                                \
  __typeof__(onebit_##name) prefix##_##name;
#define ONEBIT_DECLARE_MODEL_API(prefix)                                      \
  ONEBIT_API_NAMES(ONEBIT_DECLARE_PREFIXED_, prefix)

#ifdef __cplusplus
}
#endif

#endif /* ONEBIT_RUNTIME_ONEBIT_RUNTIME_H */
