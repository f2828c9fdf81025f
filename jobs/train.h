/* The training driver: data, model, method, the epoch loop with evaluation, early stopping
 * on the validation slice, best-model restore and the results file. Collective. Built once:
 * the numerics of cfg's precision are reached through their table (solver/numerics.h).
 * Returns the process exit status. */
#ifndef NN_TRAIN_H
#define NN_TRAIN_H

#include "../common/config.h"

int nn_train_run(const nn_config *cfg);

#endif
