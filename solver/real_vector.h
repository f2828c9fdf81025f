/* AVX vectors of the run's precision (real.h), for the few loops GCC will not vectorise by
 * itself (gradient.c's Adam step: square roots under -fmath-errno). Defines VLEN, vreal and the
 * v* operations only when the build targets AVX; callers keep a scalar loop for the rest. */
#ifndef NN_REAL_VECTOR_H
#define NN_REAL_VECTOR_H

#include "real.h"

#ifdef __AVX__
#include <immintrin.h>
#ifdef NN_FLOAT32
#define VLEN 8
#define vreal __m256
#define vload _mm256_loadu_ps
#define vstore _mm256_storeu_ps
#define vset1 _mm256_set1_ps
#define vadd _mm256_add_ps
#define vsub _mm256_sub_ps
#define vmul _mm256_mul_ps
#define vdiv _mm256_div_ps
#define vsqrt _mm256_sqrt_ps
#else
#define VLEN 4
#define vreal __m256d
#define vload _mm256_loadu_pd
#define vstore _mm256_storeu_pd
#define vset1 _mm256_set1_pd
#define vadd _mm256_add_pd
#define vsub _mm256_sub_pd
#define vmul _mm256_mul_pd
#define vdiv _mm256_div_pd
#define vsqrt _mm256_sqrt_pd
#endif
#endif

#endif
