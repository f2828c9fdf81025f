/* resnet-admm's --layer-groups inside the method: resnet_groups.c runs the groups (their parts'
 * set-up, the boundary messages, the schedules, the piped forward pass and the export) with the
 * steps of resnet_admm.c, and resnet_method.c, the method's entry, chooses between the plain
 * method and the groups. This header is the seam between those three files (the entry calls
 * both, the groups call the steps, the steps call neither); nothing else includes it.
 * "Collective" below: over MPI_COMM_WORLD (on one rank: local). */
#ifndef NN_RESNET_SEAM_H
#define NN_RESNET_SEAM_H

#include "../common/timer.h"
#include "resnet_admm.h"
#include "shard.h"

/* The phases this method times in its own slots (timer.h), named in its entry below. */
static const enum nn_phase PH_W = PH_STEP1;
static const enum nn_phase PH_U = PH_STEP2;
static const enum nn_phase PH_V = PH_STEP3;
static const enum nn_phase PH_MULT = PH_STEP4;

/* The scratch A and B hold s->chunk columns (rows x chunk each), not N: every step that needs
 * them runs over its samples chunk by chunk, as model.c's forward pass does. Per column the
 * arithmetic is unchanged; the sums over samples that go through the scratch (a weight step's
 * cross product) are added chunk by chunk. */
#define FOR_CHUNKS(s, j0, nc) \
  for (long j0 = 0, nc = (s)->N < (s)->chunk ? (s)->N : (s)->chunk; j0 < (s)->N; \
       j0 += nc, nc = (s)->N - j0 < (s)->chunk ? (s)->N - j0 : (s)->chunk)


/* ---------------------------------------------- from resnet_admm.c: the steps the groups run */

/* The serial sweep of a part's layers, input to output. Collective over the part's comm. */
void nn_radmm_sweep(nn_resnet_admm *s);
/* A part's constraint terms over its columns (sums[0] the loss, [1] the Lagrangian's terms,
 * [2] |r_V|^2, [3] |r_U|^2), with update first the multiplier steps. Local. */
void nn_radmm_constraint_terms(nn_resnet_admm *s, int update, double sums[4]);
/* The backward share group g + 1 forms for group g's last V step: columns j0 .. j0 + nc - 1 into
 * out (n x nc), or every column into out (n x N). Local. */
void nn_radmm_form_back_cols(nn_resnet_admm *s, long j0, long nc, real *out);
void nn_radmm_form_back(nn_resnet_admm *s, real *out);
/* V and U of a part's layers at the forward pass of the current weights (its ghost set). Local. */
void nn_radmm_part_forward(nn_resnet_admm *p);
/* Frees a part's arrays (the plain method is one part). Local. */
void nn_radmm_part_free(nn_resnet_admm *p);
/* Starts phase p of the epoch's timer, if an epoch is running. */
void nn_radmm_phase(enum nn_phase p);
/* The timer the steps' phases go to (NULL: none, outside an epoch). */
void nn_radmm_set_timer(nn_timer *t);
/* The plain method's multiplier steps (update) and augmented Lagrangian / n_global, the
 * residuals into *res_v, *res_u. Collective. */
double nn_radmm_plain_terms(nn_resnet_admm *s, int update, double *res_v, double *res_u);

/* ---------------------------------------------- from resnet_groups.c: the groups */

/* The communicators, the pipe's samples, the parts, V and U at the forward pass piped group to
 * group, and the first backward arrays. Collective. */
void nn_radmm_grouped_init(nn_resnet_admm *s, const nn_shard *train);
void nn_radmm_grouped_fini(nn_resnet_admm *s);
/* One iteration's primal steps by the schedule, and the forward messages. Collective. */
void nn_radmm_grouped_iteration(nn_resnet_admm *s);
/* The multiplier steps (update) and the augmented Lagrangian / n_global over every group, the
 * residuals into *res_v, *res_u. Collective. */
double nn_radmm_grouped_terms(nn_resnet_admm *s, int update, double *res_v, double *res_u);
/* The backward arrays and weights of the sending groups of `colour` (-1: all). Collective. */
void nn_radmm_send_backward(nn_resnet_admm *s, int colour);
/* method.h forward_eval and weights_export. Collective. */
int nn_radmm_forward_eval(void *self, const void *shard, enum nn_loss loss, long *correct, double *loss_sum);
void nn_radmm_weights_export(const void *self, void *model);

#endif
