/*===- CudaRuntime.c - the CUDA side of a compiled onebit model ------------===//
 *
 * Linked into every `-target=cuda` model library, with Runtime.c (built
 * with ONEBIT_RUNTIME_CUDA) for the C API. Plain C over the CUDA driver
 * API, which is opened at run time with dlopen("libcuda.so.1"): the
 * library has no link dependency on CUDA, loads on any machine, and
 * onebit_model_run reports a clear error where there is no driver or GPU.
 *
 * - The mgpu* functions that MLIR's gpu-to-llvm lowering calls (module
 *   load, launch, streams, allocation, copies) are implemented here.
 *   Kernel modules register in global constructors when the library loads
 *   and are loaded into the GPU lazily, on the first launch.
 * - Weights (onebit_cuda_constant_table, written by the compiler) are
 *   uploaded once per process when the first model opens; host code reads
 *   their device addresses from onebit_cuda_constants.
 * - One device arena per model: the n-th gpu.alloc of a run gets the same
 *   buffer on every run; nothing is freed before close.
 * - One stream per model. Inputs and outputs go through device staging
 *   buffers (host or device pointers alike, found out with
 *   cuPointerGetAttribute), so every run launches the same kernels on the
 *   same addresses: the first run executes eagerly, the second is captured
 *   into a CUDA graph, and later runs replay it (ONEBIT_CUDA_GRAPHS=0
 *   turns graphs off).
 * - A session's key/value cache is a resident input: its staging buffer is
 *   the cache itself, never copied, kept across runs. An output whose
 *   caller buffer is NULL is not copied back (a session that asks only for
 *   the next token).
 * - Where the library's kernels wait for their predecessors on the GPU
 *   (onebit_cuda_dependent_launch, set by onebit-cuda-dependent-launch),
 *   each is launched with programmatic stream serialization, so that it
 *   starts while the kernel before it ends (ONEBIT_CUDA_DEPENDENT_LAUNCH=0
 *   turns that off).
 *
 * One file over 600 lines on purpose: the mgpu* functions, the model
 * state and the C API share the driver's function pointers and the
 * per-thread current model, which would otherwise become symbols visible
 * across the objects of a runtime linked into every model library.
 *
 *===----------------------------------------------------------------------===*/

#include "onebit/Runtime/onebit_runtime.h"

#include <dlfcn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*--- The driver API subset, declared here (no cuda.h needed) -------------*/

typedef int CUresult;
typedef int CUdevice;
typedef unsigned long long CUdeviceptr;
typedef struct CUctx_st *CUcontext;
typedef struct CUmod_st *CUmodule;
typedef struct CUfunc_st *CUfunction;
typedef struct CUstream_st *CUstream;
typedef struct CUevent_st *CUevent;
typedef struct CUgraph_st *CUgraph;
typedef struct CUgraphExec_st *CUgraphExec;

#define CUDA_SUCCESS 0
#define CU_STREAM_NON_BLOCKING 1
#define CU_POINTER_ATTRIBUTE_MEMORY_TYPE 2
#define CU_MEMORYTYPE_DEVICE 2
#define CU_STREAM_CAPTURE_MODE_THREAD_LOCAL 1
#define CU_EVENT_DISABLE_TIMING 2
#define CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION 6

/* cuda.h's launch attribute and configuration, as laid out there. */
typedef struct CUlaunchAttribute {
  int id;
  char pad[4];
  union {
    char pad[64];
    int programmatic_stream_serialization_allowed;
  } value;
} CUlaunchAttribute;

typedef struct CUlaunchConfig {
  unsigned grid_x, grid_y, grid_z;
  unsigned block_x, block_y, block_z;
  unsigned shared_memory_bytes;
  CUstream stream;
  CUlaunchAttribute *attributes;
  unsigned num_attributes;
} CUlaunchConfig;

#define CUDA_FUNCTIONS(X)                                                      \
  X(cuInit, "cuInit", (unsigned))                                              \
  X(cuDeviceGet, "cuDeviceGet", (CUdevice *, int))                             \
  X(cuDeviceGetCount, "cuDeviceGetCount", (int *))                             \
  X(cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain",                      \
    (CUcontext *, CUdevice))                                                   \
  X(cuCtxPushCurrent, "cuCtxPushCurrent_v2", (CUcontext))                      \
  X(cuCtxPopCurrent, "cuCtxPopCurrent_v2", (CUcontext *))                      \
  X(cuGetErrorName, "cuGetErrorName", (CUresult, const char **))               \
  X(cuModuleLoadData, "cuModuleLoadData", (CUmodule *, const void *))          \
  X(cuModuleGetFunction, "cuModuleGetFunction",                                \
    (CUfunction *, CUmodule, const char *))                                    \
  X(cuLaunchKernel, "cuLaunchKernel",                                          \
    (CUfunction, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned,   \
     unsigned, CUstream, void **, void **))                                    \
  X(cuStreamCreate, "cuStreamCreate", (CUstream *, unsigned))                  \
  X(cuStreamDestroy, "cuStreamDestroy_v2", (CUstream))                         \
  X(cuStreamSynchronize, "cuStreamSynchronize", (CUstream))                    \
  X(cuStreamWaitEvent, "cuStreamWaitEvent", (CUstream, CUevent, unsigned))     \
  X(cuEventCreate, "cuEventCreate", (CUevent *, unsigned))                     \
  X(cuEventDestroy, "cuEventDestroy_v2", (CUevent))                            \
  X(cuEventRecord, "cuEventRecord", (CUevent, CUstream))                       \
  X(cuEventSynchronize, "cuEventSynchronize", (CUevent))                       \
  X(cuEventElapsedTime, "cuEventElapsedTime", (float *, CUevent, CUevent))     \
  X(cuMemAlloc, "cuMemAlloc_v2", (CUdeviceptr *, size_t))                      \
  X(cuMemFree, "cuMemFree_v2", (CUdeviceptr))                                  \
  X(cuMemcpyHtoD, "cuMemcpyHtoD_v2", (CUdeviceptr, const void *, size_t))      \
  X(cuMemcpyAsync, "cuMemcpyAsync", (CUdeviceptr, CUdeviceptr, size_t,         \
                                     CUstream))                                \
  X(cuMemcpyHtoDAsync, "cuMemcpyHtoDAsync_v2",                                 \
    (CUdeviceptr, const void *, size_t, CUstream))                             \
  X(cuMemcpyDtoHAsync, "cuMemcpyDtoHAsync_v2",                                 \
    (void *, CUdeviceptr, size_t, CUstream))                                   \
  X(cuMemsetD32Async, "cuMemsetD32Async",                                      \
    (CUdeviceptr, unsigned, size_t, CUstream))                                 \
  X(cuMemsetD16Async, "cuMemsetD16Async",                                      \
    (CUdeviceptr, unsigned short, size_t, CUstream))                           \
  X(cuPointerGetAttribute, "cuPointerGetAttribute",                            \
    (void *, int, CUdeviceptr))                                                \
  X(cuStreamBeginCapture, "cuStreamBeginCapture_v2", (CUstream, int))          \
  X(cuStreamEndCapture, "cuStreamEndCapture", (CUstream, CUgraph *))           \
  X(cuGraphInstantiate, "cuGraphInstantiateWithFlags",                         \
    (CUgraphExec *, CUgraph, unsigned long long))                              \
  X(cuGraphLaunch, "cuGraphLaunch", (CUgraphExec, CUstream))                   \
  X(cuGraphDestroy, "cuGraphDestroy", (CUgraph))                               \
  X(cuGraphExecDestroy, "cuGraphExecDestroy", (CUgraphExec))

#define DECLARE(name, symbol, args) static CUresult(*p_##name) args;
CUDA_FUNCTIONS(DECLARE)
#undef DECLARE
/* Optional: launches that overlap the kernel before them, from drivers
 * that also capture them into graphs (CUDA 12.3). */
static CUresult (*p_cuLaunchKernelEx)(const CUlaunchConfig *, CUfunction,
                                      void **, void **);
#define DEPENDENT_LAUNCH_DRIVER 12030

/* Process-wide driver state. */
static int driver_state; /* 0: not tried, 1: ready, -1: unavailable */
static char driver_error[256];
static CUcontext context;

static const char *error_name(CUresult result) {
  const char *name = NULL;
  if (p_cuGetErrorName)
    p_cuGetErrorName(result, &name);
  return name ? name : "unknown CUDA error";
}

static int load_driver(void) {
  if (driver_state)
    return driver_state == 1;
  driver_state = -1;
  void *library = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!library) {
    const char *why = dlerror();
    snprintf(driver_error, sizeof(driver_error),
             "CUDA is not available: cannot load libcuda.so.1 (%s); this "
             "model was compiled with -target=cuda and needs an NVIDIA "
             "driver and GPU",
             why ? why : "not found");
    return 0;
  }
#define LOAD(name, symbol, args)                                               \
  p_##name = (CUresult(*) args)dlsym(library, symbol);                         \
  if (!p_##name) {                                                             \
    snprintf(driver_error, sizeof(driver_error),                               \
             "CUDA driver too old: libcuda.so.1 lacks %s", symbol);            \
    return 0;                                                                  \
  }
  CUDA_FUNCTIONS(LOAD)
#undef LOAD
  CUresult (*driver_version)(int *) =
      (CUresult(*)(int *))dlsym(library, "cuDriverGetVersion");
  int version = 0;
  if (driver_version && driver_version(&version) == CUDA_SUCCESS &&
      version >= DEPENDENT_LAUNCH_DRIVER)
    p_cuLaunchKernelEx =
        (CUresult(*)(const CUlaunchConfig *, CUfunction, void **,
                     void **))dlsym(library, "cuLaunchKernelEx");
  CUresult result = p_cuInit(0);
  int count = 0;
  if (result == CUDA_SUCCESS)
    result = p_cuDeviceGetCount(&count);
  if (result != CUDA_SUCCESS || count == 0) {
    snprintf(driver_error, sizeof(driver_error),
             "CUDA is not available: %s",
             result != CUDA_SUCCESS ? error_name(result) : "no GPU found");
    return 0;
  }
  CUdevice device;
  const char *ordinal = getenv("ONEBIT_CUDA_DEVICE");
  result = p_cuDeviceGet(&device, ordinal ? atoi(ordinal) : 0);
  if (result == CUDA_SUCCESS)
    result = p_cuDevicePrimaryCtxRetain(&context, device);
  if (result != CUDA_SUCCESS) {
    snprintf(driver_error, sizeof(driver_error),
             "cannot create a CUDA context: %s", error_name(result));
    return 0;
  }
  driver_state = 1;
  return 1;
}

/*--- Per-model state ------------------------------------------------------*/

typedef struct allocation {
  CUdeviceptr pointer;
  uint64_t bytes;
} allocation;

typedef struct cuda_model {
  char error[256]; /* the driver's error, reported by every run */
  CUstream stream;
  int32_t num_inputs, num_outputs;
  CUdeviceptr *staging; /* inputs then outputs */
  size_t *bytes;
  char *resident; /* inputs that live on the GPU (a session's cache) */
  allocation *arena;
  size_t arena_count, arena_capacity, arena_next;
  int runs;
  int use_graphs;
  int dependent_launch; /* launch with programmatic stream serialization */
  CUgraphExec graph;
  int capturing;
  CUresult first_failure; /* of an mgpu* call during this run */
  const char *failed_call;
} cuda_model;

/* The model being run on this thread: mgpu* calls have no model argument. */
static __thread cuda_model *current;

static void record(CUresult result, const char *call) {
  if (result != CUDA_SUCCESS && current && !current->first_failure) {
    current->first_failure = result;
    current->failed_call = call;
  }
}

/*--- Weights: uploaded once per process -----------------------------------*/

typedef struct constant_entry {
  const void *host;
  int64_t bytes;
} constant_entry;

extern const constant_entry onebit_cuda_constant_table[];
extern const int64_t onebit_cuda_num_constants;
extern void *onebit_cuda_constants[];
/* 1 where every kernel of the library waits for its predecessors
 * (griddepcontrol.wait) before touching memory; absent otherwise. */
extern const int32_t onebit_cuda_dependent_launch __attribute__((weak));

static int weights_users;
static CUdeviceptr weights;

static CUresult upload_weights(void) {
  if (weights_users++ > 0)
    return CUDA_SUCCESS;
  size_t total = 0;
  for (int64_t i = 0; i < onebit_cuda_num_constants; ++i)
    total += ((size_t)onebit_cuda_constant_table[i].bytes + 255) & ~(size_t)255;
  if (total == 0)
    return CUDA_SUCCESS;
  CUresult result = p_cuMemAlloc(&weights, total);
  if (result != CUDA_SUCCESS) {
    weights_users = 0;
    weights = 0;
    return result;
  }
  size_t offset = 0;
  for (int64_t i = 0; i < onebit_cuda_num_constants; ++i) {
    const constant_entry *entry = &onebit_cuda_constant_table[i];
    if (entry->bytes > 0)
      result = p_cuMemcpyHtoD(weights + offset, entry->host,
                              (size_t)entry->bytes);
    if (result != CUDA_SUCCESS)
      return result;
    onebit_cuda_constants[i] = (void *)(uintptr_t)(weights + offset);
    offset += ((size_t)entry->bytes + 255) & ~(size_t)255;
  }
  return CUDA_SUCCESS;
}

static void release_weights(void) {
  if (weights_users > 0 && --weights_users == 0 && weights) {
    p_cuMemFree(weights);
    weights = 0;
  }
}

/*--- The model's lifetime (called by Runtime.c) ---------------------------*/

void *onebit_cuda_model_open(int32_t num_inputs, const size_t *input_bytes,
                             const char *resident, int32_t num_outputs,
                             const size_t *output_bytes) {
  cuda_model *model = (cuda_model *)calloc(1, sizeof(cuda_model));
  if (!model)
    return NULL;
  const char *graphs = getenv("ONEBIT_CUDA_GRAPHS");
  model->use_graphs = !(graphs && strcmp(graphs, "0") == 0);
  model->num_inputs = num_inputs;
  model->num_outputs = num_outputs;
  int32_t total = num_inputs + num_outputs;
  model->staging = (CUdeviceptr *)calloc((size_t)total + 1, sizeof(CUdeviceptr));
  model->bytes = (size_t *)calloc((size_t)total + 1, sizeof(size_t));
  model->resident = (char *)calloc((size_t)total + 1, 1);
  if (!model->staging || !model->bytes || !model->resident) {
    free(model->staging);
    free(model->bytes);
    free(model->resident);
    free(model);
    return NULL;
  }
  for (int32_t i = 0; i < total; ++i)
    model->bytes[i] =
        i < num_inputs ? input_bytes[i] : output_bytes[i - num_inputs];
  for (int32_t i = 0; resident && i < num_inputs; ++i)
    model->resident[i] = resident[i];
  if (!load_driver()) {
    snprintf(model->error, sizeof(model->error), "%s", driver_error);
    return model;
  }
  const char *dependent = getenv("ONEBIT_CUDA_DEPENDENT_LAUNCH");
  model->dependent_launch = &onebit_cuda_dependent_launch &&
                            onebit_cuda_dependent_launch == 1 &&
                            p_cuLaunchKernelEx &&
                            !(dependent && strcmp(dependent, "0") == 0);
  p_cuCtxPushCurrent(context);
  CUresult result = p_cuStreamCreate(&model->stream, CU_STREAM_NON_BLOCKING);
  const char *step = "cuStreamCreate";
  if (result == CUDA_SUCCESS) {
    result = upload_weights();
    step = "uploading the weights";
  }
  for (int32_t i = 0; result == CUDA_SUCCESS && i < total; ++i) {
    result = p_cuMemAlloc(&model->staging[i],
                          model->bytes[i] ? model->bytes[i] : 1);
    step = "allocating input/output buffers";
  }
  CUcontext ignored;
  p_cuCtxPopCurrent(&ignored);
  if (result != CUDA_SUCCESS)
    snprintf(model->error, sizeof(model->error), "CUDA error %s while %s",
             error_name(result), step);
  return model;
}

void onebit_cuda_model_close(void *state) {
  cuda_model *model = (cuda_model *)state;
  if (!model)
    return;
  if (driver_state == 1) {
    p_cuCtxPushCurrent(context);
    if (model->stream)
      p_cuStreamSynchronize(model->stream);
    if (model->graph)
      p_cuGraphExecDestroy(model->graph);
    for (size_t i = 0; i < model->arena_count; ++i)
      p_cuMemFree(model->arena[i].pointer);
    for (int32_t i = 0; i < model->num_inputs + model->num_outputs; ++i)
      if (model->staging[i])
        p_cuMemFree(model->staging[i]);
    if (model->stream) {
      p_cuStreamDestroy(model->stream);
      release_weights();
    }
    CUcontext ignored;
    p_cuCtxPopCurrent(&ignored);
  }
  free(model->arena);
  free(model->staging);
  free(model->bytes);
  free(model->resident);
  free(model);
}

extern void onebit_main_graph_packed(void **descriptors);

static int fail(char *error, size_t size, const char *format, ...) {
  va_list args;
  va_start(args, format);
  vsnprintf(error, size, format, args);
  va_end(args);
  return ONEBIT_ERROR_RUNTIME;
}

static int is_device_pointer(const void *pointer) {
  unsigned type = 0;
  if (p_cuPointerGetAttribute(&type, CU_POINTER_ATTRIBUTE_MEMORY_TYPE,
                              (CUdeviceptr)(uintptr_t)pointer) != CUDA_SUCCESS)
    return 0;
  return type == CU_MEMORYTYPE_DEVICE;
}

/* One run of the model's host code on the staging buffers. */
static int launch(cuda_model *model, void **descriptors, char *error,
                  size_t size) {
  model->arena_next = 0;
  model->first_failure = CUDA_SUCCESS;
  current = model;
  onebit_main_graph_packed(descriptors);
  current = NULL;
  if (model->first_failure)
    return fail(error, size, "CUDA error %s in %s",
                error_name(model->first_failure), model->failed_call);
  return ONEBIT_OK;
}

/* Pops the context a call pushed and turns its outcome into a status: an
 * earlier failure `status`, else the CUDA error `result` met while `step`. */
static int leave_context(int status, CUresult result, const char *step,
                         char *error, size_t size) {
  CUcontext ignored;
  p_cuCtxPopCurrent(&ignored);
  if (status != ONEBIT_OK)
    return status;
  if (result != CUDA_SUCCESS)
    return fail(error, size, "CUDA error %s while %s", error_name(result),
                step);
  return ONEBIT_OK;
}

/* Runs the model: `descriptors` are memref descriptors over the caller's
 * buffers (inputs then outputs); their pointers are replaced by the
 * staging buffers. */
int onebit_cuda_model_run(void *state, void **descriptors,
                          const onebit_tensor *inputs,
                          const onebit_tensor *outputs, char *error,
                          size_t size) {
  cuda_model *model = (cuda_model *)state;
  if (model->error[0])
    return fail(error, size, "%s", model->error);
  int32_t total = model->num_inputs + model->num_outputs;
  for (int32_t i = 0; i < total; ++i) {
    int64_t *descriptor = (int64_t *)descriptors[i];
    descriptor[0] = descriptor[1] = (int64_t)model->staging[i];
  }
  p_cuCtxPushCurrent(context);
  CUresult result = CUDA_SUCCESS;
  const char *step = "copying the inputs to the GPU";
  for (int32_t i = 0; result == CUDA_SUCCESS && i < model->num_inputs; ++i) {
    if (!model->bytes[i] || model->resident[i])
      continue;
    if (is_device_pointer(inputs[i].data))
      result = p_cuMemcpyAsync(model->staging[i],
                               (CUdeviceptr)(uintptr_t)inputs[i].data,
                               model->bytes[i], model->stream);
    else
      result = p_cuMemcpyHtoDAsync(model->staging[i], inputs[i].data,
                                   model->bytes[i], model->stream);
  }
  int status = ONEBIT_OK;
  if (result == CUDA_SUCCESS) {
    if (model->graph) {
      step = "cuGraphLaunch";
      result = p_cuGraphLaunch(model->graph, model->stream);
    } else if (model->use_graphs && model->runs >= 1) {
      /* Capture the second run (the arena is complete after the first). */
      step = "capturing a CUDA graph";
      result = p_cuStreamBeginCapture(model->stream,
                                      CU_STREAM_CAPTURE_MODE_THREAD_LOCAL);
      if (result == CUDA_SUCCESS) {
        model->capturing = 1;
        status = launch(model, descriptors, error, size);
        model->capturing = 0;
        CUgraph graph = NULL;
        result = p_cuStreamEndCapture(model->stream, &graph);
        if (result == CUDA_SUCCESS && status == ONEBIT_OK)
          result = p_cuGraphInstantiate(&model->graph, graph, 0);
        if (graph)
          p_cuGraphDestroy(graph);
        if (result == CUDA_SUCCESS && status == ONEBIT_OK) {
          step = "cuGraphLaunch";
          result = p_cuGraphLaunch(model->graph, model->stream);
        }
      }
    } else {
      step = "running the model";
      status = launch(model, descriptors, error, size);
    }
  }
  for (int32_t i = 0; status == ONEBIT_OK && result == CUDA_SUCCESS &&
                      i < model->num_outputs;
       ++i) {
    int32_t slot = model->num_inputs + i;
    step = "copying the outputs from the GPU";
    if (!model->bytes[slot] || !outputs[i].data)
      continue;
    if (is_device_pointer(outputs[i].data))
      result = p_cuMemcpyAsync((CUdeviceptr)(uintptr_t)outputs[i].data,
                               model->staging[slot], model->bytes[slot],
                               model->stream);
    else
      result = p_cuMemcpyDtoHAsync(outputs[i].data, model->staging[slot],
                                   model->bytes[slot], model->stream);
  }
  if (status == ONEBIT_OK && result == CUDA_SUCCESS) {
    step = "running the model";
    result = p_cuStreamSynchronize(model->stream);
  }
  status = leave_context(status, result, step, error, size);
  if (status == ONEBIT_OK)
    ++model->runs;
  return status;
}

/* `iterations` graph replays queued back to back between two timing
 * events; the model has run twice before (its graph is captured). */
int onebit_cuda_model_time(void *state, int32_t iterations,
                           double *microseconds, char *error, size_t size) {
  cuda_model *model = (cuda_model *)state;
  p_cuCtxPushCurrent(context);
  CUevent start = NULL, end = NULL;
  const char *step = "creating timing events";
  CUresult result = p_cuEventCreate(&start, 0);
  if (result == CUDA_SUCCESS)
    result = p_cuEventCreate(&end, 0);
  if (result == CUDA_SUCCESS) {
    step = "timing the model";
    result = p_cuEventRecord(start, model->stream);
  }
  int status = ONEBIT_OK;
  if (!model->graph)
    status = fail(error, size,
                  "timing replays the model's CUDA graph, and graphs are off "
                  "(ONEBIT_CUDA_GRAPHS=0)");
  for (int32_t i = 0;
       result == CUDA_SUCCESS && status == ONEBIT_OK && i < iterations; ++i)
    result = p_cuGraphLaunch(model->graph, model->stream);
  float milliseconds = 0;
  if (result == CUDA_SUCCESS && status == ONEBIT_OK)
    result = p_cuEventRecord(end, model->stream);
  if (result == CUDA_SUCCESS && status == ONEBIT_OK)
    result = p_cuEventSynchronize(end);
  if (result == CUDA_SUCCESS && status == ONEBIT_OK)
    result = p_cuEventElapsedTime(&milliseconds, start, end);
  if (start)
    p_cuEventDestroy(start);
  if (end)
    p_cuEventDestroy(end);
  status = leave_context(status, result, step, error, size);
  if (status == ONEBIT_OK)
    *microseconds = 1e3 * (double)milliseconds / iterations;
  return status;
}

/*--- The mgpu* functions of MLIR's gpu-to-llvm lowering -------------------*/

/* A kernel module, registered when the library loads (global
 * constructors) and loaded on the GPU at its first use. */
typedef struct module_handle {
  const void *data;
  CUmodule module;
  struct function_entry {
    const char *name;
    CUfunction function;
  } functions[32];
  int num_functions;
} module_handle;

static module_handle *register_module(const void *data) {
  module_handle *handle = (module_handle *)calloc(1, sizeof(module_handle));
  if (handle)
    handle->data = data;
  return handle;
}

void *mgpuModuleLoad(void *data, int64_t size) {
  (void)size;
  return register_module(data);
}

void *mgpuModuleLoadJIT(void *data, int32_t optLevel) {
  (void)optLevel;
  return register_module(data);
}

void mgpuModuleUnload(void *module) {
  /* At process exit the driver may be gone already: the primary context
   * owns the module and frees it. */
  free(module);
}

void *mgpuModuleGetFunction(void *module, const char *name) {
  module_handle *handle = (module_handle *)module;
  if (!handle) {
    record(1, "mgpuModuleGetFunction");
    return NULL;
  }
  for (int i = 0; i < handle->num_functions; ++i)
    if (handle->functions[i].name == name)
      return handle->functions[i].function;
  if (!handle->module) {
    CUresult result = p_cuModuleLoadData(&handle->module, handle->data);
    if (result != CUDA_SUCCESS) {
      record(result, "cuModuleLoadData");
      return NULL;
    }
  }
  CUfunction function = NULL;
  CUresult result = p_cuModuleGetFunction(&function, handle->module, name);
  if (result != CUDA_SUCCESS) {
    record(result, "cuModuleGetFunction");
    return NULL;
  }
  if (handle->num_functions < 32) {
    handle->functions[handle->num_functions].name = name;
    handle->functions[handle->num_functions++].function = function;
  }
  return function;
}

void mgpuLaunchKernel(void *function, intptr_t gridX, intptr_t gridY,
                      intptr_t gridZ, intptr_t blockX, intptr_t blockY,
                      intptr_t blockZ, int32_t smem, void *stream,
                      void **params, void **extra, size_t paramsCount) {
  (void)paramsCount;
  if (!function)
    return; /* the failure is recorded already */
  if (current && current->dependent_launch) {
    CUlaunchAttribute attribute;
    memset(&attribute, 0, sizeof(attribute));
    attribute.id = CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION;
    attribute.value.programmatic_stream_serialization_allowed = 1;
    CUlaunchConfig config = {(unsigned)gridX,  (unsigned)gridY,
                             (unsigned)gridZ,  (unsigned)blockX,
                             (unsigned)blockY, (unsigned)blockZ,
                             (unsigned)smem,   (CUstream)stream,
                             &attribute,       1};
    record(p_cuLaunchKernelEx(&config, (CUfunction)function, params, extra),
           "cuLaunchKernelEx");
    return;
  }
  record(p_cuLaunchKernel((CUfunction)function, (unsigned)gridX,
                          (unsigned)gridY, (unsigned)gridZ, (unsigned)blockX,
                          (unsigned)blockY, (unsigned)blockZ, (unsigned)smem,
                          (CUstream)stream, params, extra),
         "cuLaunchKernel");
}

void *mgpuStreamCreate(void) { return current ? current->stream : NULL; }

void mgpuStreamDestroy(void *stream) { (void)stream; }

void mgpuStreamSynchronize(void *stream) {
  /* The run synchronizes once at its end (and must not during capture). */
  (void)stream;
}

void mgpuStreamWaitEvent(void *stream, void *event) {
  record(p_cuStreamWaitEvent((CUstream)stream, (CUevent)event, 0),
         "cuStreamWaitEvent");
}

void *mgpuEventCreate(void) {
  CUevent event = NULL;
  record(p_cuEventCreate(&event, CU_EVENT_DISABLE_TIMING), "cuEventCreate");
  return event;
}

void mgpuEventDestroy(void *event) {
  record(p_cuEventDestroy((CUevent)event), "cuEventDestroy");
}

void mgpuEventSynchronize(void *event) {
  if (!current || !current->capturing)
    record(p_cuEventSynchronize((CUevent)event), "cuEventSynchronize");
}

void mgpuEventRecord(void *event, void *stream) {
  record(p_cuEventRecord((CUevent)event, (CUstream)stream), "cuEventRecord");
}

/* The n-th allocation of a run: the arena's n-th buffer, the same on every
 * run (the model's shapes are static, its host code straight-line). */
void *mgpuMemAlloc(uint64_t bytes, void *stream, int8_t hostShared) {
  (void)stream;
  (void)hostShared;
  cuda_model *model = current;
  if (!model) {
    record(1, "mgpuMemAlloc");
    return NULL;
  }
  if (model->arena_next < model->arena_count) {
    allocation *slot = &model->arena[model->arena_next++];
    if (slot->bytes >= bytes)
      return (void *)(uintptr_t)slot->pointer;
    record(1, "mgpuMemAlloc (the allocations changed between runs)");
    return NULL;
  }
  if (model->capturing) {
    record(1, "mgpuMemAlloc (a new allocation while capturing a graph)");
    return NULL;
  }
  if (model->arena_count == model->arena_capacity) {
    size_t capacity = model->arena_capacity ? 2 * model->arena_capacity : 64;
    allocation *arena =
        (allocation *)realloc(model->arena, capacity * sizeof(allocation));
    if (!arena) {
      record(2, "mgpuMemAlloc (out of host memory)");
      return NULL;
    }
    model->arena = arena;
    model->arena_capacity = capacity;
  }
  CUdeviceptr pointer = 0;
  CUresult result = p_cuMemAlloc(&pointer, bytes ? bytes : 1);
  if (result != CUDA_SUCCESS) {
    record(result, "cuMemAlloc");
    return NULL;
  }
  model->arena[model->arena_count].pointer = pointer;
  model->arena[model->arena_count].bytes = bytes;
  ++model->arena_count;
  ++model->arena_next;
  return (void *)(uintptr_t)pointer;
}

void mgpuMemFree(void *pointer, void *stream) {
  /* Arena buffers live until the model closes. */
  (void)pointer;
  (void)stream;
}

void mgpuMemcpy(void *destination, void *source, size_t bytes, void *stream) {
  record(p_cuMemcpyAsync((CUdeviceptr)(uintptr_t)destination,
                         (CUdeviceptr)(uintptr_t)source, bytes,
                         (CUstream)stream),
         "cuMemcpyAsync");
}

void mgpuMemset32(void *destination, unsigned value, size_t count,
                  void *stream) {
  record(p_cuMemsetD32Async((CUdeviceptr)(uintptr_t)destination, value, count,
                            (CUstream)stream),
         "cuMemsetD32Async");
}

void mgpuMemset16(void *destination, unsigned short value, size_t count,
                  void *stream) {
  record(p_cuMemsetD16Async((CUdeviceptr)(uintptr_t)destination, value, count,
                            (CUstream)stream),
         "cuMemsetD16Async");
}
