/* The training driver: data, model, method, the epoch loop with evaluation, early stopping
 * on the validation slice, best-model restore and the results file. Collective. Compiled
 * once per precision (see solver/real.h). Returns the process exit status. */
#ifndef NN_TRAIN_H
#define NN_TRAIN_H

#include "../common/config.h"

int nn_train_run_f64(const nn_config *cfg);
int nn_train_run_f32(const nn_config *cfg);

#endif
