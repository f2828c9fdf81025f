/* Input file names; see inputs.h. */
#include "inputs.h"

#include <sys/stat.h>

#include <stdio.h>
#include <string.h>

int nn_input_files(const nn_config *cfg, char paths[4][NN_INPUT_PATH_MAX], const char *option[4])
{
  static const char *const names[4] = { "train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                        "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte" };
  static const char *const idx_options[4] = { "--train-images", "--train-labels", "--test-images",
                                              "--test-labels" };
  if (strcmp(cfg->data, "synthetic") == 0 || strcmp(cfg->data, "regression") == 0) return 0;
  if (strcmp(cfg->data, "csv") == 0) {
    snprintf(paths[0], NN_INPUT_PATH_MAX, "%s", cfg->csv);
    if (option) option[0] = "--csv";
    return 1;
  }
  int idx = strcmp(cfg->data, "idx") == 0;
  /* Fashion-MNIST ships gzipped in the usual MNIST layout */
  const char *suffix = strcmp(cfg->data, "fashion-mnist") == 0 ? ".gz" : "";
  const char *given[4] = { cfg->train_images, cfg->train_labels, cfg->test_images, cfg->test_labels };
  for (int i = 0; i < 4; i++) {
    if (idx)
      snprintf(paths[i], NN_INPUT_PATH_MAX, "%s", given[i]);
    else
      snprintf(paths[i], NN_INPUT_PATH_MAX, "%.1023s/%s%s", cfg->data_dir, names[i], suffix);
    if (option) option[i] = idx ? idx_options[i] : "--data-dir";
  }
  return 4;
}

const char *nn_file_kind(mode_t m)
{
  if (S_ISDIR(m)) return "a directory";
  if (S_ISFIFO(m)) return "a FIFO (named pipe)";
  if (S_ISCHR(m)) return "a character device";
  if (S_ISBLK(m)) return "a block device";
  if (S_ISSOCK(m)) return "a socket";
  if (S_ISLNK(m)) return "a symbolic link";
  return "a special file";
}

void nn_input_sizes(const nn_config *cfg, long *n_all, long *n_test)
{
  int images = strcmp(cfg->data, "mnist") == 0 || strcmp(cfg->data, "fashion-mnist") == 0;
  int synthetic = strcmp(cfg->data, "synthetic") == 0 || strcmp(cfg->data, "regression") == 0;
  *n_all = cfg->n_train > 0 ? cfg->n_train : images ? 60000 : synthetic ? 2048 : 0;
  *n_test = cfg->n_test > 0 ? cfg->n_test : images ? 10000 : synthetic ? 512 : 0;
}
