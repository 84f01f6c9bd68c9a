/* Two compiled models in one program, each called through its own prefix.
 *
 *   onebit-compile double.onnx -o libdouble.so --name twice
 *   onebit-compile negate.onnx -o libnegate.so --name negated
 *   cc two_models.c -I include -L. -ldouble -lnegate -Wl,-rpath,. -o two_models
 *   ./two_models 1 2 3 4
 *
 * Each model takes one float32 input of 4 values and returns one output of
 * 4; the program prints both outputs, one line each, and exits non-zero if
 * a call fails. test/e2e/test_two_models.py builds and runs it. */

#include "onebit/Runtime/onebit_runtime.h"

#include <stdio.h>
#include <stdlib.h>

ONEBIT_DECLARE_MODEL_API(twice)
ONEBIT_DECLARE_MODEL_API(negated)

/* Runs `model` on `x` into `y` (4 values each); prints the error of a
 * failed call. */
static int run(onebit_model *model, const char *(*last_error)(const onebit_model *),
               int (*run_model)(onebit_model *, const onebit_tensor *, int32_t,
                                const onebit_tensor *, int32_t),
               float *x, float *y) {
  const int64_t shape[1] = {4};
  onebit_tensor input = {x, ONEBIT_FLOAT32, 1, shape};
  onebit_tensor output = {y, ONEBIT_FLOAT32, 1, shape};
  if (run_model(model, &input, 1, &output, 1) != ONEBIT_OK) {
    fprintf(stderr, "run failed: %s\n", last_error(model));
    return 1;
  }
  return 0;
}

int main(int argc, char **argv) {
  float x[4] = {0, 0, 0, 0}, first[4], second[4];
  for (int i = 0; i < 4 && i + 1 < argc; ++i)
    x[i] = strtof(argv[i + 1], NULL);
  onebit_model *a = twice_model_open();
  onebit_model *b = negated_model_open();
  if (!a || !b || twice_model_last_error(a)[0] || negated_model_last_error(b)[0]) {
    fprintf(stderr, "cannot open the models\n");
    return 1;
  }
  int failed = run(a, twice_model_last_error, twice_model_run, x, first) ||
               run(b, negated_model_last_error, negated_model_run, x, second);
  if (!failed) {
    printf("%s: %g %g %g %g\n", "twice", first[0], first[1], first[2], first[3]);
    printf("%s: %g %g %g %g\n", "negated", second[0], second[1], second[2], second[3]);
  }
  twice_model_close(a);
  negated_model_close(b);
  return failed;
}
