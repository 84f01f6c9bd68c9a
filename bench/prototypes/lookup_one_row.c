// The lookup-table loop of one input row, in C with AVX-512 intrinsics: the
// prototype that sized convert-onebit-to-linalg's lookup-table kernel
// (docs/benchmarks.md). Signs [N/16][K/8][16] bytes (interleaved by 16 rows),
// one table of 16 signed sums per 4 inputs, B index vectors of 16 rows per
// step, two accumulators per vector (low and high nibbles). K = 4096.
//   gcc -O2 -march=native -fopenmp lookup_one_row.c -o lookup_one_row
//   OMP_NUM_THREADS=2 ./lookup_one_row 14336 4     # N, B (1, 2, 4 or 8)
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <time.h>
#include <omp.h>
// W: [N/16][K/8][16] bytes; table: [K/4][16] floats
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
int main(int argc,char**argv){
  int K=4096,N=atoi(argv[1]); int B=atoi(argv[2]); // blocks of 16 per step
  uint8_t*W=aligned_alloc(64,(size_t)N*K/8); for(size_t i=0;i<(size_t)N*K/8;i++)W[i]=rand();
  float*x=aligned_alloc(64,K*4); for(int i=0;i<K;i++)x[i]=rand()/(float)RAND_MAX-0.5f;
  float*T=aligned_alloc(64,K/4*16*4); float*y=aligned_alloc(64,N*4);
  __m512 s[4]; for(int j=0;j<4;j++){float v[16];for(int i=0;i<16;i++)v[i]=(i>>j&1)?-1.f:1.f;s[j]=_mm512_loadu_ps(v);}
  double best=1e9;
  for(int it=0;it<200;it++){
    double t0=now();
    for(int g=0;g<K/4;g++){__m512 t=_mm512_mul_ps(_mm512_set1_ps(x[4*g]),s[0]);
      for(int j=1;j<4;j++)t=_mm512_fmadd_ps(_mm512_set1_ps(x[4*g+j]),s[j],t);_mm512_store_ps(T+16*g,t);}
    #pragma omp parallel for
    for(int nb=0;nb<N/16;nb+=B){
      __m512 a0[8],a1[8];for(int b=0;b<B;b++){a0[b]=_mm512_setzero_ps();a1[b]=_mm512_setzero_ps();}
      for(int w=0;w<K/8;w++){
        __m512 t0=_mm512_load_ps(T+32*w), t1=_mm512_load_ps(T+32*w+16);
        for(int b=0;b<B;b++){
          __m512i v=_mm512_cvtepu8_epi32(_mm_load_si128((__m128i*)(W+((size_t)(nb+b)*(K/8)+w)*16)));
          a0[b]=_mm512_add_ps(a0[b],_mm512_permutexvar_ps(v,t0));
          a1[b]=_mm512_add_ps(a1[b],_mm512_permutexvar_ps(_mm512_srli_epi32(v,4),t1));
        }}
      for(int b=0;b<B;b++)_mm512_store_ps(y+16*(nb+b),_mm512_add_ps(a0[b],a1[b]));
    }
    double dt=now()-t0; if(dt<best)best=dt;
  }
  // check
  int n=37; float ref=0; int nb=n/16,r=n%16; for(int k=0;k<K;k++){int bit=(W[((size_t)nb*(K/8)+k/8)*16+r]>>(k%8))&1; ref+=bit?-x[k]:x[k];}
  printf("N=%d B=%d best %.1f us  y[37]=%f ref=%f\n",N,B,best*1e6,y[37],ref);
}
