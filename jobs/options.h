/* The command line: one table of options (name, type, default, help) that drives parsing,
 * --help, the start-up echo and the /config attributes of the results file; which methods
 * take which options, and the methods' own defaults and checks, come from the method registry
 * (solver/method.h). Parsing runs on every rank (argv is the same everywhere) and fails on all
 * of them together. */
#ifndef NN_OPTIONS_H
#define NN_OPTIONS_H

#include "../io/results.h"
#include "../common/config.h"

/* 0: run; 1: --help or --version was printed (exit 0). Bad input: a one-line error and exit 2
 * on all ranks. --config RUN.h5 starts from the options in RUN.h5's /config (a replay). */
int nn_options_parse(nn_config *cfg, int argc, char **argv);
void nn_options_print_help(void);
/* The effective options as attributes (for /config) and as one "key=value ..." line. */
int nn_options_attrs(const nn_config *cfg, nn_attr *out, int max);
void nn_options_echo(const nn_config *cfg);
/* The effective value of option NAME (without --) as text, as the echo prints it. */
void nn_options_value(const nn_config *cfg, const char *name, char *out, size_t len);
/* Options added with a default other than the behaviour before them: for a results file or
 * checkpoint of `method` written before the option existed (no attribute `attr`, the option's
 * name with '_'), the value its run behaved as, which a replay or resume restores; else NULL. */
const char *nn_options_implied_when_absent(const char *method, const char *attr);

#endif
