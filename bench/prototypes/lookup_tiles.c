// The lookup-table loop for M input rows in tiles of R rows with B index
// vectors of 16 rows per step, one accumulator per (row, vector): the
// prototype that chose the tile sizes of convert-onebit-to-linalg's
// lookup-table kernel (docs/benchmarks.md). K = 4096.
//   gcc -O2 -march=native -fopenmp -DR=6 -DB=2 lookup_tiles.c -o lookup_tiles
//   OMP_NUM_THREADS=2 ./lookup_tiles 14336 120     # N, M (a multiple of R)
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <time.h>
#include <omp.h>
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
#ifndef R
#define R 4
#endif
#ifndef B
#define B 4
#endif
int main(int argc,char**argv){
  int K=4096,N=atoi(argv[1]); int M=atoi(argv[2]);
  uint8_t*W=aligned_alloc(64,(size_t)N*K/8); for(size_t i=0;i<(size_t)N*K/8;i++)W[i]=rand();
  float*x=aligned_alloc(64,(size_t)M*K*4); for(int i=0;i<M*K;i++)x[i]=rand()/(float)RAND_MAX-0.5f;
  float*T=aligned_alloc(64,(size_t)M*K/4*16*4); float*y=aligned_alloc(64,(size_t)M*N*4);
  __m512 s[4]; for(int j=0;j<4;j++){float v[16];for(int i=0;i<16;i++)v[i]=(i>>j&1)?-1.f:1.f;s[j]=_mm512_loadu_ps(v);}
  double best=1e9;
  for(int it=0;it<5;it++){
    double t0=now();
    #pragma omp parallel for
    for(int m=0;m<M;m++) for(int g=0;g<K/4;g++){const float*xx=x+(size_t)m*K;__m512 t=_mm512_mul_ps(_mm512_set1_ps(xx[4*g]),s[0]);
      for(int j=1;j<4;j++)t=_mm512_fmadd_ps(_mm512_set1_ps(xx[4*g+j]),s[j],t);_mm512_store_ps(T+((size_t)m*K/4+g)*16,t);}
    for(int m0=0;m0<M;m0+=R){
    #pragma omp parallel for
    for(int nb=0;nb<N/16;nb+=B){
      __m512 a[R][B];for(int r=0;r<R;r++)for(int b=0;b<B;b++)a[r][b]=_mm512_setzero_ps();
      for(int w=0;w<K/8;w++){
        __m512i v[B],h[B];
        for(int b=0;b<B;b++){v[b]=_mm512_cvtepu8_epi32(_mm_load_si128((__m128i*)(W+((size_t)(nb+b)*(K/8)+w)*16)));h[b]=_mm512_srli_epi32(v[b],4);}
        for(int r=0;r<R;r++){ const float*TT=T+((size_t)(m0+r)*K/4)*16;
          __m512 t0=_mm512_load_ps(TT+32*w), t1=_mm512_load_ps(TT+32*w+16);
          for(int b=0;b<B;b++){
          a[r][b]=_mm512_add_ps(a[r][b],_mm512_permutexvar_ps(v[b],t0));
          a[r][b]=_mm512_add_ps(a[r][b],_mm512_permutexvar_ps(h[b],t1));
        }}}
      for(int r=0;r<R;r++)for(int b=0;b<B;b++)_mm512_store_ps(y+(size_t)(m0+r)*N+16*(nb+b),a[r][b]);
    }}
    double dt=now()-t0; if(dt<best)best=dt;
  }
  int n=37; float ref=0; int nb=n/16,r=n%16; for(int k=0;k<K;k++){int bit=(W[((size_t)nb*(K/8)+k/8)*16+r]>>(k%8))&1; ref+=bit?-x[k]:x[k];}
  printf("R=%d B=%d N=%d M=%d best %.1f us  y[37]=%f ref=%f\n",R,B,N,M,best*1e6,y[37],ref);
}
