# Floating-point operations of one iteration (sweep) of --method dladmm, admm or bcd, counted
# call by call from solver/dladmm.c, solver/admm.c and solver/bcd.c (the BLAS, LAPACK and
# ScaLAPACK calls each makes; elementwise loops, the z steps' closed forms and dladmm's
# per-sample Newton output step, all O(width x N) or O(k x N), are left out). No input; set
#   -v method=dladmm|admm|bcd -v layers=784,W,W,10 -v N=<global training samples> -v P=<ranks>
# Prints "total=<flops> rank=<flops> fixed=<flops>":
#   total  what the method computes, every operation once: per-sample terms x N, replicated
#          and distributed terms once;
#   rank   what the busiest rank computes, i.e. the critical path the time is bounded by:
#          per-sample terms x ceil(N/P), replicated terms (computed whole on every rank)
#          x 1, ScaLAPACK terms on the P-rank grid x 1/P. This is what the results file's
#          phase_flops sums to (io/SCHEMA.md), so bench-complexity.sh prints both as a check.
#   fixed  of total, the terms with no factor N (width^3 and width^2 x k): what a wide
#          network pays per iteration independently of the samples.
# Conventions, as solver/real.h counts them: GEMM m x n x k = 2mnk, SYRK n x n x k = n(n+1)k,
# GEMV/GER m x n = 2mn, AXPY n = 2n, Cholesky p?potrf n^3/3, inverse from the factor p?potri
# 2n^3/3, triangular solves p?potrs 2n^2 per right-hand side.
#
# In words, with W the hidden width (784-W-W-10) and N the samples, per iteration (the
# coefficients of this file's count, fitted at W = 4096 and 8192):
#   dladmm  18 W^2 N + 8,100 W N: two GEMMs per weight step (D = E a^T, then D a for the exact
#           line search) and two per activation step (W^T E, then W g), every block visited
#           backward and forward, plus the products P; nothing factored: no W^3 term (the
#           only N-free work is O(W^2) axpy/ger on the weights).
#   admm    12 W^2 N + 3,250 W N + 7.75 W^3: Gram SYRK and cross product, the activation's
#           two GEMMs (K z and Pinv h), the z products; N-free: the Gram Cholesky and weight
#           solve, the activation system's SYRK (W^T W), inverse and K = Pinv W^T (SYRK and K
#           replicated on every rank, the rest on the grid).
#   bcd     12 W^2 N + 5,800 W N + 6.75 W^3 (with --bcd-reanchor 1 and the squared hinge).
# So per sample the exact methods are O(W^2) too; their W^3 is per iteration and weighs as
# W / N against the sample terms. dladmm's count is the smaller than admm's only where
# 7.75 W^3 > 6 W^2 N + 4,800 W N: W above about 0.9 N (3,800 at N = 4,000).
function S(f) { ps += f }        # per sample (data-parallel over ranks)
function R(f) { rep += f }       # replicated: every rank computes it whole
function G(f) { grid += f }      # ScaLAPACK on the P-rank grid: each rank its 1/P share
# a Gram matrix by panel GEMMs (solver/layer_fit.c, GRAM_PANEL 512), per sample, + bias GEMV
function gram_panels(n, bias,   j0, w, f) {
  f = 0
  for (j0 = 0; j0 < n; j0 += 512) { w = n - j0 < 512 ? n - j0 : 512; f += 2 * (n - j0) * w }
  return f + (bias ? 2 * n : 0)
}
BEGIN {
  L = split(layers, w, ",") - 1
  for (l = 0; l <= L; l++) n[l] = w[l + 1]
  k = n[L]
  if (P == "") P = 2
  ps = rep = grid = 0
  if (method == "dladmm") {
    # products P_l = W_l a_{l-1}
    for (l = 1; l <= L; l++) S(2 * n[l] * n[l - 1])
    # weight steps: each layer twice (backward with b first, forward with b after)
    for (l = 1; l <= L; l++) {
      o = n[l]; i = n[l - 1]
      S(2 * (2 * o * i + 2 * o + 2 * i + 2 * o * i + 2 * o))   # D GEMM, 2 GEMVs, D a GEMM, P axpy; x2
      R(2 * o * i + 2 * o * i)                                  # W axpy both passes
      R(2 * o * i + 2 * o * i)                                  # backward: ger (D - db sa^T); forward: gemv
    }
    # activation steps: each hidden layer twice
    for (l = 1; l < L; l++) {
      a = n[l]; u = n[l + 1]
      S(2 * (2 * a * u + 2 * u * a + 2 * a + 2 * u))           # W^T E, W g, two axpys; x2
    }
  } else if (method == "admm") {
    for (l = 1; l <= L; l++) {
      i = n[l - 1]; o = n[l]
      if (l > 1) { S(i * (i + 1)); G(i * i * i / 3) }          # Gram SYRK, Cholesky (layer 1: once, at init)
      S(2 * i * o); G(2 * i * i * o)                            # cross product, potrs
      S(2 * o * i)                                              # z step / output: W a
      if (l < L) {                                              # activation step of layer l (u = l + 1)
        a = o; u = n[l + 1]
        R(a * (a + 1) * u)                                      # P = beta W^T W + gamma I (SYRK)
        G(a * a * a / 3 + 2 * a * a * a / 3)                    # potrf + potri
        R(2 * a * u * a)                                        # K = beta Pinv W^T
        S(2 * a * u + 2 * a * a)                                # K z_{l+1}, gamma Pinv relu(z_l)
      }
    }
  } else if (method == "bcd") {
    for (l = L - 1; l >= 1; l--) {                              # top hidden layer first
      a = n[l]; u = n[l + 1]; s = a < u ? a : u
      R(s * (s + 1) * (a + u - s))                              # SYRK of the smaller order
      G(s * s * s)                                              # potrf + potri
      R(2 * a * u * s)                                          # K
      S(4 * a * u)                                              # W_u h, K r
      S(2 * a * n[l - 1])                                       # z step: Wbar_l abar_{l-1}
      i = n[l - 1]; ld = i + 1
      if (l > 1) { S(gram_panels(i, 1)); G(ld * ld * ld / 3) } # Gram of abar, Cholesky
      S(2 * i * a + 2 * a); G(2 * ld * ld * a)                  # cross product (+ bias row), potrs
    }
    for (l = 1; l < L; l++) S(2 * n[l] * n[l - 1])              # re-anchoring (--bcd-reanchor 1)
    i = n[L - 1]; ld = i + 1
    S(2 * k * i)                                                # targets: outputs (squared hinge, the default)
    S(gram_panels(i, 1) + 2 * i * k + 2 * k)                    # output Gram, cross product
    G(ld * ld * ld / 3 + 2 * ld * ld * k)                       # output Cholesky, potrs
    R(2 * ld * ld * k)                                          # anchored merit: SYMM
  } else {
    print "complexity-flops.awk: method must be dladmm, admm or bcd" > "/dev/stderr"
    exit 1
  }
  Nr = int((N + P - 1) / P)
  printf "total=%.6e rank=%.6e fixed=%.6e\n", ps * N + rep + grid, ps * Nr + rep + grid / P, rep + grid
}
