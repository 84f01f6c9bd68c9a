// The fp16 lm_head of a 7B-shaped model at batch 1 (y[32000] = x[4096] ·
// W[4096, 32000]) as a hand-written AVX-512 loop over the weight stored block
// by block (blocks of 2048 columns, each block's rows contiguous), OpenMP
// over the blocks: what onebit-split-contraction-columns' generated loop is
// compared with in docs/benchmarks.md. The argument is a software prefetch
// distance in weight rows (0: none).
//   clang -O3 -march=native -fopenmp -o lm_head_stream lm_head_stream.c
//   OMP_NUM_THREADS=2 OMP_PROC_BIND=spread ./lm_head_stream 0
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { K = 4096, N = 32000, BLOCK = 2048 };

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
  int prefetch = argc > 1 ? atoi(argv[1]) : 0;
  _Float16 *w = aligned_alloc(64, (size_t)K * N * 2);
  for (size_t i = 0; i < (size_t)K * N; ++i)
    w[i] = (_Float16)(i % 7);
  static float x[K];
  for (int k = 0; k < K; ++k)
    x[k] = 1.0f / (k + 1);
  float *y = aligned_alloc(64, N * 4);
  for (int round = 0; round < 5; ++round) {
    double start = now();
    memset(y, 0, N * 4);
    // Whole blocks only (15 of 2048 columns): the rate is what matters.
#pragma omp parallel for schedule(static)
    for (int b = 0; b < N / BLOCK; ++b) {
      _Float16 *block = w + (size_t)b * BLOCK * K;
      float *out = y + b * BLOCK;
      for (int k = 0; k < K; ++k) {
        _Float16 *row = block + (size_t)k * BLOCK;
        if (prefetch)
          for (int c = 0; c < BLOCK; c += 32)
            _mm_prefetch((const char *)(row + (size_t)prefetch * BLOCK + c),
                         _MM_HINT_T0);
        __m512 xk = _mm512_set1_ps(x[k]);
        for (int c = 0; c < BLOCK; c += 16) {
          __m512 wv = _mm512_cvtph_ps(_mm256_load_si256((__m256i *)(row + c)));
          _mm512_store_ps(out + c,
                          _mm512_fmadd_ps(xk, wv, _mm512_load_ps(out + c)));
        }
      }
    }
    double seconds = now() - start;
    printf("prefetch %d rows: %.2f ms, %.1f GB/s (y[5] = %f)\n", prefetch,
           seconds * 1e3, (double)K * (N / BLOCK * BLOCK) * 2 / seconds / 1e9,
           y[5]);
  }
  return 0;
}
