// The 7B FFN's row kernel at batch 1 (LayerNorm of gate and of up over
// 11008 f32 outputs each, with weights and biases, then SiLU(gate) * up * g
// in f16) written by hand in the shapes onebit-gpu-row-reductions can take:
// k0 as it was (one block of 1024, steps one after another, centred rows
// stored, the tail after the last reduction), k1/k4 one block with every
// load first, k2/k3 B blocks per row that each reduce the whole row and run
// the tail for their slice (k2 with gate's and up's sums paired, k3 one
// after another, as the compiler's steps). The prototype that sized split
// rows (docs/benchmarks.md). Times are per kernel in a CUDA graph of 200.
//   nvcc -O3 -arch=sm_90 -o row_split row_split.cu && ./row_split
#include <cstdio>
#include <cuda_fp16.h>
#include <vector>
#include <cmath>
#define CK(x) do { cudaError_t e = (x); if (e) { printf("%s:%d %s\n", __FILE__, __LINE__, cudaGetErrorString(e)); exit(1);} } while (0)
constexpr int N = 11008;
struct Args { const float *gate, *up; const __half *wg, *bg, *wu, *bu, *g; __half *out; float *tmp1, *tmp2, *stats; };

__device__ float warpSum(float v) { for (int o = 16; o; o >>= 1) v += __shfl_xor_sync(~0u, v, o); return v; }
__device__ float2 warpSum2(float2 v) { for (int o = 16; o; o >>= 1) { v.x += __shfl_xor_sync(~0u, v.x, o); v.y += __shfl_xor_sync(~0u, v.y, o);} return v; }
template <int T> __device__ float blockSum(float v, float *sm) {
  v = warpSum(v); int lane = threadIdx.x & 31, w = threadIdx.x >> 5;
  if (!lane) sm[w] = v; __syncthreads();
  float r = lane < T / 32 ? sm[lane] : 0.f; r = warpSum(r); __syncthreads(); return r;
}
template <int T> __device__ float2 blockSum2(float2 v, float2 *sm) {
  v = warpSum2(v); int lane = threadIdx.x & 31, w = threadIdx.x >> 5;
  if (!lane) sm[w] = v; __syncthreads();
  float2 r = lane < T / 32 ? sm[lane] : make_float2(0.f, 0.f); r = warpSum2(r); __syncthreads(); return r;
}
__device__ __half tail(float gc, float gv, float uc, float uv, __half wg, __half bg, __half wu, __half bu, __half g) {
  float a = gc * rsqrtf(gv / N + 1e-5f) * __half2float(wg) + __half2float(bg);
  float u = uc * rsqrtf(uv / N + 1e-5f) * __half2float(wu) + __half2float(bu);
  __half ah = __float2half(a), uh = __float2half(u);
  __half s = ah / (__float2half(1.f) + hexp(-ah));
  return s * uh * g;
}

// K0: today's structure: one block, steps one after another, centred rows stored, tail in rounds of 4.
template <int T> __global__ void __launch_bounds__(T) k0(Args a) {
  __shared__ float sm[32]; constexpr int E = (N + T - 1) / T; int t = threadIdx.x;
  float gv[E], uv[E];
  #pragma unroll
  for (int e = 0; e < E; ++e) gv[e] = a.gate[min(e * T + t, N - 1)];
  float s = 0; for (int e = 0; e < E; ++e) s += e * T + t < N ? gv[e] : 0.f;
  float gm = blockSum<T>(s, sm) / N; __syncthreads();
  for (int e = 0; e < E; ++e) { gv[e] -= gm; if (e * T + t < N) a.tmp1[e * T + t] = gv[e]; } __syncthreads();
  s = 0; for (int e = 0; e < E; ++e) s += e * T + t < N ? gv[e] * gv[e] : 0.f;
  float gvar = blockSum<T>(s, sm); __syncthreads();
  #pragma unroll
  for (int e = 0; e < E; ++e) uv[e] = a.up[min(e * T + t, N - 1)];
  s = 0; for (int e = 0; e < E; ++e) s += e * T + t < N ? uv[e] : 0.f;
  float um = blockSum<T>(s, sm) / N; __syncthreads();
  for (int e = 0; e < E; ++e) { uv[e] -= um; if (e * T + t < N) a.tmp2[e * T + t] = uv[e]; } __syncthreads();
  s = 0; for (int e = 0; e < E; ++e) s += e * T + t < N ? uv[e] * uv[e] : 0.f;
  float uvar = blockSum<T>(s, sm); __syncthreads();
  for (int e = 0; e < E; ++e) { int i = e * T + t; if (i < N) a.out[i] = tail(gv[e], gvar, uv[e], uvar, a.wg[i], a.bg[i], a.wu[i], a.bu[i], a.g[i]); }
}

// K1: one block; every load first, gate's and up's reductions paired, no stores of centred rows.
template <int T> __global__ void __launch_bounds__(T) k1(Args a) {
  __shared__ float2 sm[32]; constexpr int E = (N + T - 1) / T; int t = threadIdx.x;
  float gv[E], uv[E]; __half p[5][E];
  #pragma unroll
  for (int e = 0; e < E; ++e) { int i = min(e * T + t, N - 1); gv[e] = a.gate[i]; uv[e] = a.up[i]; }
  #pragma unroll
  for (int e = 0; e < E; ++e) { int i = min(e * T + t, N - 1); p[0][e] = a.wg[i]; p[1][e] = a.bg[i]; p[2][e] = a.wu[i]; p[3][e] = a.bu[i]; p[4][e] = a.g[i]; }
  float2 s = {0, 0};
  #pragma unroll
  for (int e = 0; e < E; ++e) if (e * T + t < N) { s.x += gv[e]; s.y += uv[e]; }
  float2 m = blockSum2<T>(s, sm); m.x /= N; m.y /= N; s = {0, 0};
  #pragma unroll
  for (int e = 0; e < E; ++e) { gv[e] -= m.x; uv[e] -= m.y; if (e * T + t < N) { s.x += gv[e] * gv[e]; s.y += uv[e] * uv[e]; } }
  float2 v = blockSum2<T>(s, sm);
  #pragma unroll
  for (int e = 0; e < E; ++e) { int i = e * T + t; if (i < N) a.out[i] = tail(gv[e], v.x, uv[e], v.y, p[0][e], p[1][e], p[2][e], p[3][e], p[4][e]); }
}

// K2: B blocks per row: each reduces the whole row (paired), writes its slice; the slice's params loaded first.
template <int T, int B> __global__ void __launch_bounds__(T) k2(Args a) {
  __shared__ float2 sm[32]; constexpr int E = (N + T - 1) / T; constexpr int S = (N + B - 1) / B; constexpr int ES = (S + T - 1) / T;
  int t = threadIdx.x, base = blockIdx.x * S;
  __half p[5][ES]; float gs[ES], us[ES];
  #pragma unroll
  for (int e = 0; e < ES; ++e) { int i = min(base + min(e * T + t, S - 1), N - 1); p[0][e] = a.wg[i]; p[1][e] = a.bg[i]; p[2][e] = a.wu[i]; p[3][e] = a.bu[i]; p[4][e] = a.g[i]; gs[e] = a.gate[i]; us[e] = a.up[i]; }
  float gv[E], uv[E];
  #pragma unroll
  for (int e = 0; e < E; ++e) { int i = min(e * T + t, N - 1); gv[e] = a.gate[i]; uv[e] = a.up[i]; }
  float2 s = {0, 0};
  #pragma unroll
  for (int e = 0; e < E; ++e) if (e * T + t < N) { s.x += gv[e]; s.y += uv[e]; }
  float2 m = blockSum2<T>(s, sm); m.x /= N; m.y /= N; s = {0, 0};
  #pragma unroll
  for (int e = 0; e < E; ++e) { float x = gv[e] - m.x, y = uv[e] - m.y; if (e * T + t < N) { s.x += x * x; s.y += y * y; } }
  float2 v = blockSum2<T>(s, sm);
  #pragma unroll
  for (int e = 0; e < ES; ++e) { int j = e * T + t, i = base + j; if (j < S && i < N) a.out[i] = tail(gs[e] - m.x, v.x, us[e] - m.y, v.y, p[0][e], p[1][e], p[2][e], p[3][e], p[4][e]); }
}

// K3: B blocks per row, slice's loads first, reductions one after another (as the compiler's steps).
template <int T, int B> __global__ void __launch_bounds__(T) k3(Args a) {
  __shared__ float sm[32]; constexpr int E = (N + T - 1) / T; constexpr int S = (N + B - 1) / B; constexpr int ES = (S + T - 1) / T;
  int t = threadIdx.x, base = blockIdx.x * S;
  __half p[5][ES]; float gs[ES], us[ES];
  #pragma unroll
  for (int e = 0; e < ES; ++e) { int i = min(base + min(e * T + t, S - 1), N - 1); p[0][e] = a.wg[i]; p[1][e] = a.bg[i]; p[2][e] = a.wu[i]; p[3][e] = a.bu[i]; p[4][e] = a.g[i]; gs[e] = a.gate[i]; us[e] = a.up[i]; }
  float gv[E], uv[E];
  #pragma unroll
  for (int e = 0; e < E; ++e) { int i = min(e * T + t, N - 1); gv[e] = a.gate[i]; uv[e] = a.up[i]; }
  float s = 0;
  #pragma unroll
  for (int e = 0; e < E; ++e) s += e * T + t < N ? gv[e] : 0.f;
  float gm = blockSum<T>(s, sm) / N; __syncthreads(); s = 0;
  #pragma unroll
  for (int e = 0; e < E; ++e) { float x = gv[e] - gm; s += e * T + t < N ? x * x : 0.f; }
  float gvar = blockSum<T>(s, sm); __syncthreads(); s = 0;
  #pragma unroll
  for (int e = 0; e < E; ++e) s += e * T + t < N ? uv[e] : 0.f;
  float um = blockSum<T>(s, sm) / N; __syncthreads(); s = 0;
  #pragma unroll
  for (int e = 0; e < E; ++e) { float x = uv[e] - um; s += e * T + t < N ? x * x : 0.f; }
  float uvar = blockSum<T>(s, sm);
  #pragma unroll
  for (int e = 0; e < ES; ++e) { int j = e * T + t, i = base + j; if (j < S && i < N) a.out[i] = tail(gs[e] - gm, gvar, us[e] - um, uvar, p[0][e], p[1][e], p[2][e], p[3][e], p[4][e]); }
}
// K4: one block, all loads first (tail params too), reductions one after another.
template <int T> __global__ void __launch_bounds__(T) k4(Args a) {
  __shared__ float sm[32]; constexpr int E = (N + T - 1) / T; int t = threadIdx.x;
  float gv[E], uv[E]; __half p[5][E];
  #pragma unroll
  for (int e = 0; e < E; ++e) { int i = min(e * T + t, N - 1); gv[e] = a.gate[i]; uv[e] = a.up[i]; p[0][e] = a.wg[i]; p[1][e] = a.bg[i]; p[2][e] = a.wu[i]; p[3][e] = a.bu[i]; p[4][e] = a.g[i]; }
  float s = 0;
  #pragma unroll
  for (int e = 0; e < E; ++e) s += e * T + t < N ? gv[e] : 0.f;
  float gm = blockSum<T>(s, sm) / N; __syncthreads(); s = 0;
  #pragma unroll
  for (int e = 0; e < E; ++e) { gv[e] -= gm; s += e * T + t < N ? gv[e] * gv[e] : 0.f; }
  float gvar = blockSum<T>(s, sm); __syncthreads(); s = 0;
  #pragma unroll
  for (int e = 0; e < E; ++e) s += e * T + t < N ? uv[e] : 0.f;
  float um = blockSum<T>(s, sm) / N; __syncthreads(); s = 0;
  #pragma unroll
  for (int e = 0; e < E; ++e) { uv[e] -= um; s += e * T + t < N ? uv[e] * uv[e] : 0.f; }
  float uvar = blockSum<T>(s, sm);
  #pragma unroll
  for (int e = 0; e < E; ++e) { int i = e * T + t; if (i < N) a.out[i] = tail(gv[e], gvar, uv[e], uvar, p[0][e], p[1][e], p[2][e], p[3][e], p[4][e]); }
}
__global__ void empty(Args) {}

template <class K> float timeIt(K kernel, int blocks, int threads, Args a, cudaStream_t st) {
  cudaGraph_t g; cudaGraphExec_t ge; constexpr int R = 200;
  CK(cudaStreamBeginCapture(st, cudaStreamCaptureModeGlobal));
  for (int r = 0; r < R; ++r) kernel<<<blocks, threads, 0, st>>>(a);
  CK(cudaStreamEndCapture(st, &g)); CK(cudaGraphInstantiate(&ge, g, 0));
  CK(cudaGraphLaunch(ge, st)); CK(cudaStreamSynchronize(st));
  cudaEvent_t e0, e1; cudaEventCreate(&e0); cudaEventCreate(&e1);
  float best = 1e9;
  for (int it = 0; it < 10; ++it) { cudaEventRecord(e0, st); CK(cudaGraphLaunch(ge, st)); cudaEventRecord(e1, st); CK(cudaEventSynchronize(e1)); float ms; cudaEventElapsedTime(&ms, e0, e1); best = fminf(best, ms); }
  return best * 1000 / R;
}
int main() {
  std::vector<float> hg(N), hu(N); std::vector<__half> hp[5];
  for (int i = 0; i < N; ++i) { hg[i] = sinf(i * 0.37f) * 3 + 0.5f; hu[i] = cosf(i * 0.11f) * 2 - 0.2f; }
  for (int k = 0; k < 5; ++k) { hp[k].resize(N); for (int i = 0; i < N; ++i) hp[k][i] = __float2half(0.5f + 0.3f * sinf(i * (0.05f + k))); }
  Args a; float *dg, *du; __half *dp[5];
  CK(cudaMalloc(&dg, N * 4)); CK(cudaMalloc(&du, N * 4)); cudaMemcpy(dg, hg.data(), N * 4, cudaMemcpyHostToDevice); cudaMemcpy(du, hu.data(), N * 4, cudaMemcpyHostToDevice);
  for (int k = 0; k < 5; ++k) { CK(cudaMalloc(&dp[k], N * 2)); cudaMemcpy(dp[k], hp[k].data(), N * 2, cudaMemcpyHostToDevice); }
  a.gate = dg; a.up = du; a.wg = dp[0]; a.bg = dp[1]; a.wu = dp[2]; a.bu = dp[3]; a.g = dp[4];
  CK(cudaMalloc(&a.out, N * 2)); CK(cudaMalloc(&a.tmp1, N * 4)); CK(cudaMalloc(&a.tmp2, N * 4)); CK(cudaMalloc(&a.stats, 64));
  cudaStream_t st; cudaStreamCreate(&st);
  std::vector<__half> ref(N), got(N);
  k0<1024><<<1, 1024, 0, st>>>(a); CK(cudaStreamSynchronize(st)); cudaMemcpy(ref.data(), a.out, N * 2, cudaMemcpyDeviceToHost);
  auto check = [&](const char *name) { cudaMemcpy(got.data(), a.out, N * 2, cudaMemcpyDeviceToHost); float md = 0; for (int i = 0; i < N; ++i) md = fmaxf(md, fabsf(__half2float(got[i]) - __half2float(ref[i]))); printf("%-28s max diff vs k0 %.4g\n", name, md); cudaMemset(a.out, 0, N * 2); };
#define RUN(name, K, B, T) do { K<<<B, T, 0, st>>>(a); CK(cudaStreamSynchronize(st)); check(name); printf("%-28s %.2f us\n", name, timeIt(K, B, T, a, st)); } while (0)
  RUN("empty", empty, 1, 1024);
  RUN("k0 1x1024 (today)", k0<1024>, 1, 1024);
  RUN("k0 1x512", k0<512>, 1, 512);
  RUN("k1 1x1024 loads first+pair", k1<1024>, 1, 1024);
  RUN("k1 1x512", k1<512>, 1, 512);
  RUN("k2 8x1024", (k2<1024, 8>), 8, 1024);
  RUN("k2 8x512", (k2<512, 8>), 8, 512);
  RUN("k2 16x512", (k2<512, 16>), 16, 512);
  RUN("k2 32x256", (k2<256, 32>), 32, 256);
  RUN("k2 16x1024", (k2<1024, 16>), 16, 1024);
  RUN("k4 1x1024 loads first", k4<1024>, 1, 1024);
  RUN("k3 8x1024 split, 4 reductions", (k3<1024, 8>), 8, 1024);
  RUN("k3 4x1024", (k3<1024, 4>), 4, 1024);
  RUN("k3 16x512", (k3<512, 16>), 16, 512);
  return 0;
}
