/*===- Session.c - decoding sessions over a compiled decoder
 *---------------===//
 *
 * A decoder compiled with its key/value cache in the library
 * (onebit-resident-kv-cache) has state arguments: per layer a key and a
 * value cache [1, kv_heads, rows, head_dim] whose rows are dynamic. A
 * session owns one set of them, `max_len` rows each (host memory on the
 * CPU, GPU memory on CUDA, where they never cross the bus), and drives the
 * entry through its `input_ids` and `position` inputs: T tokens per step
 * (the elements of `input_ids`, 1 for a decoding step), a step of fewer
 * padded with copies of its last token. The entry appends each token's
 * keys and values at row `position + t` and attends over rows
 * [0, position + t]: nothing is reset between prompts but the position,
 * and the padding's rows, past the position, are written over by the next
 * step.
 *
 *===----------------------------------------------------------------------===*/

#include "Model.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct onebit_session {
  onebit_model *model;
  int64_t max_len, position, vocab;
  int64_t tokens;    /* T, the new positions of one step */
  int64_t last_rows; /* the tokens of the last step that were not padding */
  int32_t ids_arg, position_arg, logits_output;
  onebit_tensor *args, *outputs; /* over the buffers below */
  int64_t *state_shapes;         /* the state's shapes, rows = max_len */
  void **buffers;                /* per argument, then per output */
  void *device;                  /* the CUDA state (-target=cuda) */
  char error[512];
};

#ifdef ONEBIT_RUNTIME_CUDA
/* Non-null data for state that lives on the GPU only. */
static char device_resident;
#endif

static int session_fail(onebit_session *session, int code, const char *format,
                        ...) {
  va_list args;
  va_start(args, format);
  vsnprintf(session->error, sizeof(session->error), format, args);
  va_end(args);
  return code;
}

static int is_integer(onebit_dtype dtype) {
  return dtype == ONEBIT_INT64 || dtype == ONEBIT_INT32;
}

static int is_float(onebit_dtype dtype) {
  return dtype == ONEBIT_FLOAT32 || dtype == ONEBIT_FLOAT16 ||
         dtype == ONEBIT_BFLOAT16;
}

static int64_t element_count(const tensor_spec *spec) {
  int64_t count = 1;
  for (int32_t d = 0; d < spec->rank; ++d)
    count *= spec->shape[d];
  return count;
}

void onebit_session_free(onebit_session *session) {
  if (!session)
    return;
#ifdef ONEBIT_RUNTIME_CUDA
  onebit_cuda_model_close(session->device);
#endif
  onebit_model *model = session->model;
  for (int32_t i = 0;
       session->buffers && i < model->num_args + model->num_outputs; ++i)
    free(session->buffers[i]);
  free(session->buffers);
  free(session->args);
  free(session->outputs);
  free(session->state_shapes);
  free(session);
}

/* Finds the inputs and the logits a session drives; 0 with the model's
 * error set where the decoder has others. */
static int find_roles(onebit_model *model, onebit_session *session) {
  session->ids_arg = session->position_arg = -1;
  for (int32_t i = 0; i < model->num_args; ++i) {
    const tensor_spec *spec = &model->args[i];
    if (spec->state)
      continue;
    int32_t *role = strcmp(spec->name, "input_ids") == 0 ? &session->ids_arg
                    : strcmp(spec->name, "position") == 0
                        ? &session->position_arg
                        : NULL;
    int64_t elements = element_count(spec);
    if (!role || !is_integer(spec->dtype) || elements < 1 ||
        (role == &session->position_arg && elements != 1))
      return onebit_fail(model, ONEBIT_ERROR_INVALID_ARGUMENT,
                         "a session feeds a decoder its token ids "
                         "('input_ids', integers) and the position of the "
                         "first ('position', one integer); this decoder "
                         "takes '%s' (%s, %lld elements)",
                         spec->name, onebit_dtype_name(spec->dtype),
                         (long long)elements),
             0;
    *role = i;
    if (role == &session->ids_arg)
      session->tokens = elements;
  }
  if (session->ids_arg < 0 || session->position_arg < 0)
    return onebit_fail(model, ONEBIT_ERROR_INVALID_ARGUMENT,
                       "the decoder has no '%s' input",
                       session->ids_arg < 0 ? "input_ids" : "position"),
           0;
  session->logits_output = 0;
  for (int32_t i = 0; i < model->num_outputs; ++i)
    if (strcmp(model->outputs[i].name, "logits") == 0)
      session->logits_output = i;
  const tensor_spec *logits = &model->outputs[session->logits_output];
  if (model->num_outputs == 0 || !is_float(logits->dtype) || logits->rank < 1)
    return onebit_fail(model, ONEBIT_ERROR_INVALID_ARGUMENT,
                       "the decoder has no floating-point 'logits' output"),
           0;
  session->vocab = logits->shape[logits->rank - 1];
  if (element_count(logits) != session->tokens * session->vocab)
    return onebit_fail(model, ONEBIT_ERROR_INVALID_ARGUMENT,
                       "'logits' has %lld elements, expected %lld (a row "
                       "of the vocabulary for each of the step's %lld "
                       "tokens)",
                       (long long)element_count(logits),
                       (long long)(session->tokens * session->vocab),
                       (long long)session->tokens),
           0;
  return 1;
}

onebit_session *onebit_session_create(onebit_model *model, int64_t max_len) {
  if (!model)
    return NULL;
  model->error[0] = '\0';
  if (model->window < 0 || !model->num_state) {
    onebit_fail(model, ONEBIT_ERROR_INVALID_ARGUMENT,
                "this model is not a decoding step with its key/value cache "
                "in the library (compile a decoder, docs/decoding.md)");
    return NULL;
  }
  onebit_session *session = (onebit_session *)calloc(1, sizeof(onebit_session));
  if (!session)
    return NULL;
  session->model = model;
  if (!find_roles(model, session)) {
    free(session);
    return NULL;
  }
  /* A step of T tokens uses positions up to position + T - 1, padding
   * included: they must stay inside the window. */
  int64_t most = model->window > 0 ? model->window - (session->tokens - 1) : 0;
  if (max_len <= 0)
    max_len = most;
  if (max_len <= 0 || (model->window > 0 && max_len > most)) {
    if (model->window > 0 && session->tokens > 1)
      onebit_fail(model, ONEBIT_ERROR_INVALID_ARGUMENT,
                  "max_len %lld: the decoder holds 1 to %lld positions (a "
                  "window of %lld, less the padding of its steps of %lld "
                  "tokens)",
                  (long long)max_len, (long long)most,
                  (long long)model->window, (long long)session->tokens);
    else
      onebit_fail(model, ONEBIT_ERROR_INVALID_ARGUMENT,
                  model->window > 0
                      ? "max_len %lld: the decoder holds 1 to %lld positions"
                      : "max_len %lld: give the most positions the session "
                        "holds (the decoder sets no bound)",
                  (long long)max_len, (long long)model->window);
    free(session);
    return NULL;
  }
  session->max_len = max_len;
  int32_t total = model->num_args + model->num_outputs;
  size_t shape_words = 0;
  for (int32_t i = 0; i < model->num_args; ++i)
    shape_words += (size_t)model->args[i].rank;
  session->buffers = (void **)calloc((size_t)total + 1, sizeof(void *));
  session->args = (onebit_tensor *)calloc((size_t)model->num_args + 1,
                                          sizeof(onebit_tensor));
  session->outputs = (onebit_tensor *)calloc((size_t)model->num_outputs + 1,
                                             sizeof(onebit_tensor));
  session->state_shapes = (int64_t *)calloc(shape_words + 1, sizeof(int64_t));
  /* The CUDA state also holds the entry's index checks (onebit_run_entry
   * passes their buffer). */
  size_t *bytes = (size_t *)calloc((size_t)total + 2, sizeof(size_t));
  char *resident = (char *)calloc((size_t)total + 2, 1);
  if (bytes && model->has_check)
    bytes[total] = onebit_spec_bytes(&model->outputs[model->num_outputs], 0);
  int ok = session->buffers && session->args && session->outputs &&
           session->state_shapes && bytes && resident;
  int64_t *shape = session->state_shapes;
  for (int32_t i = 0; ok && i < total; ++i) {
    int is_arg = i < model->num_args;
    const tensor_spec *spec =
        is_arg ? &model->args[i] : &model->outputs[i - model->num_args];
    onebit_tensor *tensor =
        is_arg ? &session->args[i] : &session->outputs[i - model->num_args];
    bytes[i] = onebit_spec_bytes(spec, max_len);
    tensor->dtype = spec->dtype;
    tensor->rank = spec->rank;
    tensor->shape = spec->shape;
    if (is_arg) {
      for (int32_t d = 0; d < spec->rank; ++d)
        shape[d] = spec->shape[d] < 0 ? max_len : spec->shape[d];
      tensor->shape = shape;
      shape += spec->rank;
    }
#ifdef ONEBIT_RUNTIME_CUDA
    resident[i] = is_arg && spec->state;
    if (resident[i]) {
      tensor->data = &device_resident;
      continue;
    }
#endif
    session->buffers[i] = calloc(bytes[i] ? bytes[i] : 1, 1);
    tensor->data = session->buffers[i];
    ok = tensor->data != NULL;
  }
#ifdef ONEBIT_RUNTIME_CUDA
  if (ok) {
    session->device =
        onebit_cuda_model_open(model->num_args, bytes, resident,
                               onebit_entry_results(model),
                               bytes + model->num_args);
    ok = session->device != NULL;
  }
#endif
  free(bytes);
  free(resident);
  if (!ok) {
    onebit_session_free(session);
    return NULL;
  }
  return session;
}

const char *onebit_session_last_error(const onebit_session *session) {
  return session ? session->error : "session is NULL";
}

int64_t onebit_session_position(const onebit_session *session) {
  return session ? session->position : -1;
}

int64_t onebit_session_max_len(const onebit_session *session) {
  return session ? session->max_len : -1;
}

int64_t onebit_session_vocab_size(const onebit_session *session) {
  return session ? session->vocab : -1;
}

int onebit_session_reset(onebit_session *session) {
  if (!session)
    return ONEBIT_ERROR_INVALID_ARGUMENT;
  /* Rows at and past the position are never read: they need no clearing. */
  session->position = 0;
  session->error[0] = '\0';
  return ONEBIT_OK;
}

static void store_integer(onebit_tensor *tensor, int64_t index,
                          int64_t value) {
  if (tensor->dtype == ONEBIT_INT64)
    ((int64_t *)tensor->data)[index] = value;
  else
    ((int32_t *)tensor->data)[index] = (int32_t)value;
}

/* IEEE half and bfloat16 to float. */
static float half_to_float(uint16_t h) {
  uint32_t sign = (uint32_t)(h >> 15) << 31, exponent = (h >> 10) & 0x1f,
           mantissa = h & 0x3ff, bits;
  if (exponent == 0x1f)
    bits = sign | 0x7f800000u | (mantissa << 13);
  else if (exponent)
    bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
  else if (mantissa) {
    exponent = 113;
    while (!(mantissa & 0x400)) {
      mantissa <<= 1;
      --exponent;
    }
    bits = sign | (exponent << 23) | ((mantissa & 0x3ff) << 13);
  } else
    bits = sign;
  float value;
  memcpy(&value, &bits, sizeof(value));
  return value;
}

static float logit(const onebit_tensor *logits, int64_t index) {
  if (logits->dtype == ONEBIT_FLOAT32)
    return ((const float *)logits->data)[index];
  uint16_t h = ((const uint16_t *)logits->data)[index];
  if (logits->dtype == ONEBIT_FLOAT16)
    return half_to_float(h);
  uint32_t bits = (uint32_t)h << 16;
  float value;
  memcpy(&value, &bits, sizeof(value));
  return value;
}

/* The step at `position` for the `count` (1..T) tokens at `ids`, padded to
 * T with the last. */
static int run_step(onebit_session *session, const int64_t *ids,
                    int64_t count, int64_t position) {
  for (int64_t t = 0; t < session->tokens; ++t)
    store_integer(&session->args[session->ids_arg], t,
                  ids[t < count ? t : count - 1]);
  store_integer(&session->args[session->position_arg], 0, position);
  session->last_rows = count;
  onebit_model *model = session->model;
  int status =
      onebit_run_entry(model, session->device, session->args, session->outputs);
  if (status != ONEBIT_OK)
    return session_fail(session, status, "%s", model->error);
  return ONEBIT_OK;
}

/* The argmax of 16-bit floats (f16 or bf16) on their bits: with the sign
 * bit flipped for positive values and all bits for negative ones, the
 * order of the keys as integers is the order of the values. NaNs (all
 * exponent bits and a mantissa, above `infinity`) never win. */
static int64_t argmax_16bit(const uint16_t *values, int64_t count,
                            uint16_t infinity) {
  int64_t best = 0;
  uint32_t best_key = 0;
  for (int64_t v = 0; v < count; ++v) {
    uint16_t h = values[v];
    if ((h & 0x7fff) > infinity)
      continue;
    uint32_t key = (h & 0x8000) ? (uint16_t)~h : (uint32_t)h | 0x8000u;
    if (key > best_key) {
      best = v;
      best_key = key;
    }
  }
  return best;
}

/* The logits of the last step's last token that was not padding. */
static void read_logits(const onebit_session *session, float *logits,
                        int64_t *next_token) {
  const onebit_tensor *output = &session->outputs[session->logits_output];
  int64_t row = (session->last_rows - 1) * session->vocab;
  if (!logits && output->dtype != ONEBIT_FLOAT32) {
    if (next_token)
      *next_token = argmax_16bit(
          (const uint16_t *)output->data + row, session->vocab,
          output->dtype == ONEBIT_FLOAT16 ? 0x7c00 : 0x7f80);
    return;
  }
  int64_t best = 0;
  float best_value = 0;
  for (int64_t v = 0; v < session->vocab; ++v) {
    float value = logit(output, row + v);
    if (logits)
      logits[v] = value;
    if (v == 0 || value > best_value) {
      best = v;
      best_value = value;
    }
  }
  if (next_token)
    *next_token = best;
}

int onebit_session_prefill(onebit_session *session, const int64_t *ids,
                           int64_t count, float *logits, int64_t *next_token) {
  if (!session)
    return ONEBIT_ERROR_INVALID_ARGUMENT;
  session->error[0] = '\0';
  if (count < 1 || !ids)
    return session_fail(session, ONEBIT_ERROR_INVALID_ARGUMENT,
                        "a prefill needs at least one token id");
  if (count > session->max_len - session->position)
    return session_fail(session, ONEBIT_ERROR_INVALID_ARGUMENT,
                        "%lld tokens at position %lld do not fit the "
                        "session's %lld positions (reset it, or create it "
                        "with a larger max_len)",
                        (long long)count, (long long)session->position,
                        (long long)session->max_len);
  for (int64_t i = 0; i < count; ++i)
    if (ids[i] < 0 || ids[i] >= session->vocab)
      return session_fail(session, ONEBIT_ERROR_INVALID_ARGUMENT,
                          "token id %lld (at %lld of %lld) is outside the "
                          "vocabulary [0, %lld)",
                          (long long)ids[i], (long long)i, (long long)count,
                          (long long)session->vocab);
  for (int64_t i = 0; i < count; i += session->tokens) {
    int64_t step = count - i < session->tokens ? count - i : session->tokens;
    int status = run_step(session, ids + i, step, session->position);
    if (status != ONEBIT_OK)
      return status;
    session->position += step;
  }
  read_logits(session, logits, next_token);
  return ONEBIT_OK;
}

int onebit_session_decode(onebit_session *session, int64_t id, float *logits,
                          int64_t *next_token) {
  return onebit_session_prefill(session, &id, 1, logits, next_token);
}

int onebit_session_time(onebit_session *session, int64_t id, int32_t iterations,
                        double *microseconds) {
  if (!session)
    return ONEBIT_ERROR_INVALID_ARGUMENT;
  session->error[0] = '\0';
  if (iterations < 1 || !microseconds)
    return session_fail(session, ONEBIT_ERROR_INVALID_ARGUMENT,
                        "iterations must be at least 1 and microseconds "
                        "not NULL");
  if (session->position >= session->max_len)
    return session_fail(session, ONEBIT_ERROR_INVALID_ARGUMENT,
                        "the session is full (%lld positions)",
                        (long long)session->max_len);
  if (id < 0 || id >= session->vocab)
    return session_fail(session, ONEBIT_ERROR_INVALID_ARGUMENT,
                        "token id %lld is outside the vocabulary [0, %lld)",
                        (long long)id, (long long)session->vocab);
  /* Every step writes row `position` and reads rows [0, position]: the
   * same work as decoding the next token, repeated. Warm-up as in
   * onebit_model_time (threads spread, CUDA graph captured). */
  struct timespec start, now;
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (int warm = 0;; ++warm) {
    clock_gettime(CLOCK_MONOTONIC, &now);
    double elapsed_ms = (double)(now.tv_sec - start.tv_sec) * 1e3 +
                        (double)(now.tv_nsec - start.tv_nsec) * 1e-6;
    if (warm >= 2 && elapsed_ms >= ONEBIT_WARM_UP_MS)
      break;
    int status = run_step(session, &id, 1, session->position);
    if (status != ONEBIT_OK)
      return status;
  }
#ifdef ONEBIT_RUNTIME_CUDA
  int status = onebit_cuda_model_time(session->device, iterations, microseconds,
                                      session->error, sizeof(session->error));
  return status;
#else
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (int32_t i = 0; i < iterations; ++i) {
    int status = run_step(session, &id, 1, session->position);
    if (status != ONEBIT_OK)
      return status;
  }
  clock_gettime(CLOCK_MONOTONIC, &now);
  *microseconds = ((double)(now.tv_sec - start.tv_sec) * 1e6 +
                   (double)(now.tv_nsec - start.tv_nsec) * 1e-3) /
                  iterations;
  return ONEBIT_OK;
#endif
}
