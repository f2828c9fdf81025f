# Floating-point operations of one sweep of --method bcd (solver/bcd.c), by
# the BLAS and ScaLAPACK calls it makes; elementwise work is left out. Input: none; set
#   -v layers=784,2048,2048,10 -v N=<global training samples>
# Prints the count. Conventions: GEMM m x n x k = 2mnk, SYRK n x n x k = n^2 k, Cholesky
# n^3/3, inverse from the factor 2n^3/3, triangular solves 2 n^2 per right-hand side.
BEGIN {
  L = split(layers, n, ",") - 1
  for (l = 0; l <= L; l++) w[l] = n[l + 1]
  f = 0
  for (l = L - 1; l >= 1; l--) {
    u = l + 1; s = w[l] < w[u] ? w[l] : w[u]; b = w[l] < w[u] ? w[u] : w[l]
    f += s * s * b + s * s * s + 2 * w[l] * w[u] * s   # activation: P, its inverse, K
    f += 4 * w[l] * w[u] * N                           # a_l = h + K (t - W_u h - b_u)
    f += 2 * w[l] * w[l - 1] * N                       # z step: W_l a_{l-1}
    if (l > 1) f += w[l - 1] * w[l - 1] * N + (w[l - 1] + 1) ^ 3 / 3   # Gram of a_{l-1}, factor
    f += 2 * w[l - 1] * w[l] * N + 2 * (w[l - 1] + 1) ^ 2 * w[l]       # cross product, solve
  }
  for (l = 1; l < L; l++) f += 2 * w[l] * w[l - 1] * N                 # re-anchoring forward pass
  f += w[L - 1] * w[L - 1] * N + (w[L - 1] + 1) ^ 3 / 3 + 2 * (w[L - 1] + 1) ^ 2 * w[L]   # output solve
  printf "%.6e\n", f
}
