/* The data files a configuration reads, with the option that names each (none for --data
 * synthetic): one list, so that the loader reads exactly the files the output guard protects.
 * Local; touches no file. */
#ifndef NN_INPUTS_H
#define NN_INPUTS_H

#include <sys/types.h>

#include "../common/config.h"

enum { NN_INPUT_PATH_MAX = 1100 };

/* Fills paths[0..3] (train images, train labels, test images, test labels) and, when given,
 * option[0..3] (e.g. "--train-images", "--data-dir"); returns 4, or 0 for synthetic and
 * regression data, or 1 for --data csv (paths[0] = --csv). */
int nn_input_files(const nn_config *cfg, char paths[4][NN_INPUT_PATH_MAX], const char *option[4]);

/* The training and test samples a configuration will use, as far as the options tell before
 * any file is read: --n-train / --n-test, else MNIST's and Fashion-MNIST's 60000 and 10000,
 * synthetic and regression data's 2048 and 512; IDX and CSV files give 0 (known once read). */
void nn_input_sizes(const nn_config *cfg, long *n_all, long *n_test);

/* "a directory", "a FIFO (named pipe)", ... for messages about a file of the wrong type. */
const char *nn_file_kind(mode_t mode);

#endif
