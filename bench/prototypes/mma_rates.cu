// Tensor-core rates on the GPU behind docs/benchmarks.md's analysis of the
// decode kernel (onebit-gpu-sign-mma at M = 1), without global memory:
// - pure: back-to-back mma.sync with the same operands, f16 m16n8k16 (what
//   the kernel issues) and s8 m16n8k32, in cycles per mma and SM
//   sub-partition at 1.98 GHz;
// - decode loops: per 4 sign words (4096 weights a warp), 16 f16 mmas on
//   bit classes masked in place (the kernel's loop: an AND per register,
//   B fragments two at a time from workgroup memory), against 8 s8 mmas on
//   bytes masked by bit (0x01010101 << q), as many weights, for the
//   1792 warps of an 8192 -> 28672 layer.
//   nvcc -O3 -arch=sm_90 -o mma_rates mma_rates.cu && ./mma_rates
#include <cstdio>
#include <cstdint>
template <int ACC>
__global__ void hmma_pure(int iters, float* out) {
  uint32_t a0 = threadIdx.x * 0x3c003c01u, a1 = a0 ^ 1, a2 = a0 ^ 2, a3 = a0 ^ 3, b0 = a0 ^ 5, b1 = a0 ^ 9;
  float acc[ACC][4] = {};
  for (int it = 0; it < iters; ++it) {
    #pragma unroll
    for (int q = 0; q < 16; ++q) {
      float* c = acc[q % ACC];
      asm("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"
          : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3]) : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0), "r"(b1));
    }
  }
  float s = 0; for (int q = 0; q < ACC; ++q) s += acc[q][0] + acc[q][1] + acc[q][2] + acc[q][3];
  out[blockIdx.x * blockDim.x + threadIdx.x] = s;
}
template <int ACC>
__global__ void imma_pure(int iters, float* out) {
  uint32_t a0 = threadIdx.x * 0x01020301u, a1 = a0 ^ 1, a2 = a0 ^ 2, a3 = a0 ^ 3, b0 = a0 ^ 5, b1 = a0 ^ 9;
  int acc[ACC][4] = {};
  for (int it = 0; it < iters; ++it) {
    #pragma unroll
    for (int q = 0; q < 8; ++q) {
      int* c = acc[q % ACC];
      asm("mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"
          : "+r"(c[0]), "+r"(c[1]), "+r"(c[2]), "+r"(c[3]) : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0), "r"(b1));
    }
  }
  int s = 0; for (int q = 0; q < ACC; ++q) s += acc[q][0] + acc[q][1] + acc[q][2] + acc[q][3];
  out[blockIdx.x * blockDim.x + threadIdx.x] = s;
}
__device__ __forceinline__ uint32_t xs(uint32_t x){x^=x<<13;x^=x>>17;x^=x<<5;return x;}
__global__ void hmma_loop(int iters, float* out) {
  __shared__ uint4 sm[1024];
  int lane = threadIdx.x & 31;
  for (int i = threadIdx.x; i < 1024; i += blockDim.x) sm[i] = make_uint4(i*0x3c003c01u, i, i*7, i*13);
  __syncthreads();
  float acc[16][4] = {};
  uint32_t w0 = 0x12345678u ^ threadIdx.x, w1 = w0 * 3, w2 = w0 * 5, w3 = w0 * 7;
  for (int it = 0; it < iters; ++it) {
    w0 = xs(w0); w1 = xs(w1); w2 = xs(w2); w3 = xs(w3);
    #pragma unroll
    for (int q = 0; q < 16; q += 2) {
      uint4 f = sm[((it * 8 + q / 2) * 4 + (lane & 3)) & 1023];
      #pragma unroll
      for (int h = 0; h < 2; ++h) {
        uint32_t m = (1u << (q + h)) | (1u << (q + h + 16));
        uint32_t a0 = w0 & m, a1 = w1 & m, a2 = w2 & m, a3 = w3 & m;
        uint32_t b0 = h ? f.z : f.x, b1 = h ? f.w : f.y;
        float* c = acc[q + h];
        asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"
          : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3]) : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0), "r"(b1));
      }
    }
  }
  float s = 0; for (int q = 0; q < 16; ++q) s += acc[q][0] + acc[q][1] + acc[q][2] + acc[q][3];
  out[blockIdx.x * blockDim.x + threadIdx.x] = s;
}
__global__ void imma_loop(int iters, float* out) {
  __shared__ uint4 sm[1024];
  int lane = threadIdx.x & 31;
  for (int i = threadIdx.x; i < 1024; i += blockDim.x) sm[i] = make_uint4(i*0x01020301u, i, i*7, i*13);
  __syncthreads();
  int acc[8][4] = {};
  uint32_t w0 = 0x12345678u ^ threadIdx.x, w1 = w0 * 3, w2 = w0 * 5, w3 = w0 * 7;
  for (int it = 0; it < iters; ++it) {
    w0 = xs(w0); w1 = xs(w1); w2 = xs(w2); w3 = xs(w3);
    // 4 words x 32 bits = the same weights as one hmma_loop iteration.
    #pragma unroll
    for (int q = 0; q < 8; q += 2) {
      uint4 f = sm[((it * 4 + q / 2) * 4 + (lane & 3)) & 1023];
      #pragma unroll
      for (int h = 0; h < 2; ++h) {
        uint32_t m = 0x01010101u << (q + h);
        uint32_t a0 = w0 & m, a1 = w1 & m, a2 = w2 & m, a3 = w3 & m;
        uint32_t b0 = h ? f.z : f.x, b1 = h ? f.w : f.y;
        int* c = acc[q + h];
        asm volatile("mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"
          : "+r"(c[0]), "+r"(c[1]), "+r"(c[2]), "+r"(c[3]) : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0), "r"(b1));
      }
    }
  }
  int s = 0; for (int q = 0; q < 8; ++q) s += acc[q][0] + acc[q][1] + acc[q][2] + acc[q][3];
  out[blockIdx.x * blockDim.x + threadIdx.x] = s;
}
template <typename F> float timeIt(F f) {
  cudaEvent_t a, b;
  cudaEventCreate(&a);
  cudaEventCreate(&b);
  for (int r = 0; r < 3; ++r) f();
  cudaEventRecord(a);
  for (int r = 0; r < 20; ++r) f();
  cudaEventRecord(b);
  cudaEventSynchronize(b);
  float ms;
  cudaEventElapsedTime(&ms, a, b);
  return ms * 50;  // us per launch
}
int main() {
  float* out;
  cudaMalloc(&out, 1 << 24);
  int blocks = 528, iters = 64;  // 4 blocks of 4 warps per SM
  double perSmsp = (double)blocks * 4 * iters / 528;
  printf("pure hmma m16n8k16: %.1f cycles/mma/SMSP\n",
         timeIt([&] { hmma_pure<16><<<blocks, 128>>>(iters, out); }) * 1980 / (perSmsp * 16));
  printf("pure imma m16n8k32: %.1f cycles/mma/SMSP\n",
         timeIt([&] { imma_pure<8><<<blocks, 128>>>(iters, out); }) * 1980 / (perSmsp * 8));
  // 8192 x 28672 weights: 448 blocks of 4 warps, 32 iterations of 4096
  // weights per warp.
  printf("decode loop, f16 bit classes: %.2f us per 8192x28672\n",
         timeIt([&] { hmma_loop<<<448, 128>>>(32, out); }));
  printf("decode loop, s8 bit classes: %.2f us per 8192x28672\n",
         timeIt([&] { imma_loop<<<448, 128>>>(32, out); }));
  printf("%s\n", cudaGetErrorString(cudaGetLastError()));
}
