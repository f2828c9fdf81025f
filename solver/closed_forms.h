/* The elementwise ADMM steps, each the exact global minimiser of its 1-D problem. Local,
 * no MPI. Arrays are flat (any shape), `count` entries each. */
#ifndef NN_CLOSED_FORMS_H
#define NN_CLOSED_FORMS_H

#include "real.h"

/* Hidden pre-activation: z = argmin_z gamma (a - relu(z))^2 + beta (z - m)^2, by comparing
 * the minimiser of each branch (z >= 0 and z <= 0). Returns sum (z - m)^2 and, in *res_a,
 * sum (a - relu(z))^2 with the new z. */
double nn_relu_z_update(real *restrict z, const real *restrict a, const real *restrict m, long count, double beta,
                        double gamma, double *res_a);

/* Output layer, multiplier lambda, y in {0,1} (one-hot):
 *   least squares: z = argmin 1/2 (z - y)^2 + lambda z + beta/2 (z - m)^2
 *                    = (y - lambda + beta m) / (1 + beta)          (thesis eq. 3.12)
 *   hinge (Taylor): z = argmin l(z, y) + lambda z + beta/2 (z - m)^2, with
 *                    l = max(1 - z, 0) if y = 1 and max(z, 0) if y = 0.
 * y is given as the class index per column: Y is k x N implicitly. */
void nn_output_z_update(real *z, const int *label, const real *lambda, const real *m, int k,
                        long N, double beta, int hinge);

/* Squared-hinge targets: T (k x C, the network's outputs on entry) becomes their projection
 * onto {T_yj >= 1 for the class y = label[j] of column j, T_ij <= 0 for the others}: the class
 * output raised to at least 1, the others lowered to at most 0, the rest left where they are.
 * Adds sum T^2 (after) to *tsq and sum (after - before)^2, twice the squared-hinge loss of the
 * outputs, to *dist2. */
void nn_hinge_targets(real *T, const int *label, int k, long C, double *tsq, double *dist2);

/* The 1-D objectives above, for tests and for the record. */
double nn_relu_z_objective(double z, double a, double m, double beta, double gamma);
double nn_output_objective(double z, double y, double lambda, double m, double beta, int hinge);

#endif
