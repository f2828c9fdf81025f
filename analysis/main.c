/* admm-analyze: turns a folder of admm-train results files (io/SCHEMA.md) into the thesis's tables
 * and figures: OUTDIR/report.md, OUTDIR/tables/ (Markdown and CSV), OUTDIR/figures/ (PNG). Reads
 * files only, never re-runs anything; refuses, and lists, any file that is neither a complete
 * results file nor a partial run; lists partial runs (stopped by a signal, or a .h5.part left by
 * a run that died) apart from the complete ones and averages them in only with --include-partial.
 * Serial program: HDF5 is used with its default driver and MPI is never initialised. */
#define _XOPEN_SOURCE 700 /* POSIX 2008 with XSI: realpath, strnlen, strtok_r, lstat */

#include "group.h"
#include "groups.h"
#include "plot.h"
#include "report.h"
#include "results.h"
#include "scaling.h"
#include "util.h"
#include "git_revision.h" /* generated at build time: NN_GIT_REVISION (CMakeLists.txt) */

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const struct {
    const char *name, *arg, *def, *help;
} options[] = {
    {"--out", "DIR", "(required)",
     "folder for report.md, tables/ and figures/; created if missing"},
    {"--ignore", "KEY", "(none)",
     "also leave the /config attribute KEY out of the grouping key (repeatable; not anderson: "
     "runs with other Anderson memories are never pooled)"},
    {"--no-plots", "", "off", "write the tables and report only; do not run gnuplot"},
    {"--include-partial", "", "off",
     "average partial runs (stopped by a signal, or .h5.part files of runs that died) into the "
     "groups of complete runs; without it they are listed apart and left out of every aggregate"},
    {"--scaling", "DIR", "(none)",
     "analyse a jobs/study-scaling.sh folder instead: scaling tables, the performance model "
     "against every run, the projection (OUTDIR/scaling.md)"},
    {"--help", "", "", "print this help and exit"},
    {"--version", "", "", "print the version and exit"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: admm-analyze RESULTS_DIR_OR_FILE... --out OUTDIR [options]\n\n"
               "Reads admm-train results files (folders are searched recursively for *.h5 and\n"
               "*.h5.part; checkpoints, *.checkpoint.h5, are left out) and writes\n"
               "OUTDIR/report.md, OUTDIR/tables/*.{md,csv} and OUTDIR/figures/*.png. Runs\n"
               "differing only in seed are aggregated (mean +- std).\n"
               "Each method's configuration is chosen by mean validation accuracy (the test\n"
               "accuracy is only reported) and set against its random-features floor.\n"
               "Files that are not results files are listed in the report and on stderr, never\n"
               "averaged in; they do not change the exit status. Partial runs (stopped by a\n"
               "signal, or *.h5.part of a run that died) are read and marked partial in every\n"
               "table, and averaged in only with --include-partial.\n\n");
    fprintf(f, "%-17s %-5s %-10s %s\n", "option", "arg", "default", "help");
    for (size_t k = 0; k < sizeof options / sizeof options[0]; k++)
        fprintf(f, "%-17s %-5s %-10s %s\n", options[k].name, options[k].arg, options[k].def,
                options[k].help);
    fprintf(f, "\nExit status: 0 when the report was written, 1 when a figure or output file\n"
               "could not be made or no results file was found, 2 on bad usage.\n");
}

static void bad_usage(const char *fmt, const char *arg)
{
    fprintf(stderr, "admm-analyze: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, " (see --help)\n");
    exit(2);
}

/* ---------------------------------------------------------------------------------------------- */
/* finding files */

typedef struct {
    int n, cap;
    char **path;
} List;

static void list_add(List *l, char *path)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 64;
        l->path = admm_xrealloc(l->path, (size_t)l->cap * sizeof *l->path);
    }
    l->path[l->n++] = path;
}

/* *.h5 and *.h5.part, but not admm-train's checkpoints beside them (*.checkpoint.h5: the
 * state to resume a run from, no results of their own). */
static int is_result_name(const char *name)
{
    if (admm_ends_with(name, ".checkpoint.h5")) return 0;
    return admm_ends_with(name, ".h5") || admm_ends_with(name, ".h5.part");
}

/* Adds every *.h5 and *.h5.part below dir. Symbolic links to folders are not followed (a link
 * back up the tree would never end); links to files are. */
static void scan(const char *dir, List *out)
{
    DIR *d = opendir(dir);
    CHECK(d, "cannot read folder %s: %s", dir, strerror(errno));
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char *p = admm_xasprintf("%s%s%s", dir, admm_ends_with(dir, "/") ? "" : "/", e->d_name);
        struct stat ls, st;
        if (lstat(p, &ls) == 0 && S_ISDIR(ls.st_mode)) {
            scan(p, out);
            free(p);
        } else if (is_result_name(e->d_name) && stat(p, &st) == 0 && S_ISREG(st.st_mode)) {
            list_add(out, p);
        } else {
            free(p);
        }
    }
    closedir(d);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Drops a path naming the same file as an earlier one (overlapping arguments). */
static void dedupe(List *l)
{
    char **real = admm_xcalloc((size_t)l->n, sizeof *real);
    int m = 0;
    for (int k = 0; k < l->n; k++) {
        char buf[PATH_MAX];
        real[k] = admm_xstrdup(realpath(l->path[k], buf) ? buf : l->path[k]);
        int dup = 0;
        for (int j = 0; j < k && !dup; j++)
            dup = real[j] && !strcmp(real[j], real[k]);
        if (dup) {
            free(l->path[k]);
            free(real[k]);
            real[k] = NULL;
        } else {
            l->path[m++] = l->path[k];
        }
    }
    for (int k = 0; k < l->n; k++)
        free(real[k]);
    free(real);
    l->n = m;
}

/* ---------------------------------------------------------------------------------------------- */

int main(int argc, char **argv)
{
    const char *outdir = NULL, *scaling = NULL;
    int plots = 1, ninput = 0, nignore = 0, include_partial = 0;
    const char **input = admm_xcalloc((size_t)argc, sizeof *input);
    const char **ignore = admm_xcalloc((size_t)argc, sizeof *ignore);
    for (int k = 1; k < argc; k++) {
        const char *a = argv[k];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--version")) {
            printf("admm-analyze %s (git %s)\n", NN_VERSION, NN_GIT_REVISION);
            return 0;
        } else if (!strcmp(a, "--out") || !strcmp(a, "--ignore")) {
            if (k + 1 >= argc || !argv[k + 1][0]) bad_usage("%s needs a value", a);
            if (a[2] == 'o')
                outdir = argv[++k];
            else
                ignore[nignore++] = argv[++k];
        } else if (!strncmp(a, "--out=", 6)) {
            outdir = a + 6;
        } else if (!strncmp(a, "--ignore=", 9)) {
            ignore[nignore++] = a + 9;
        } else if (!strcmp(a, "--no-plots")) {
            plots = 0;
        } else if (!strcmp(a, "--include-partial")) {
            include_partial = 1;
        } else if (!strcmp(a, "--scaling")) {
            if (k + 1 >= argc || !argv[k + 1][0]) bad_usage("%s needs a value", a);
            scaling = argv[++k];
        } else if (a[0] == '-' && a[1]) {
            bad_usage("unknown option %s", a);
        } else {
            input[ninput++] = a;
        }
    }
    if (!outdir || !outdir[0]) bad_usage("--out OUTDIR is required%s", "");
    /* pooling runs of other Anderson memories would blur the convergence comparison it is for */
    for (int k = 0; k < nignore; k++)
        if (!strcmp(ignore[k], "anderson"))
            bad_usage("--ignore anderson: runs with other --anderson M are never pooled%s", "");
    if (scaling) {
        if (ninput) bad_usage("--scaling takes its study folder alone, not also %s", input[0]);
        char why[512];
        if (plots && !admm_plot_available(why, sizeof why)) {
            fprintf(stderr, "admm-analyze: %s\n", why);
            return 1;
        }
        return admm_scaling_main(scaling, outdir, plots);
    }
    if (!ninput) bad_usage("no results folder or file given%s", "");

    List files = {0, 0, NULL};
    for (int k = 0; k < ninput; k++) {
        struct stat st;
        if (stat(input[k], &st) != 0) {
            fprintf(stderr, "admm-analyze: cannot read %s: %s\n", input[k], strerror(errno));
            return 2;
        }
        if (S_ISDIR(st.st_mode)) {
            List here = {0, 0, NULL};
            scan(input[k], &here);
            qsort(here.path, (size_t)here.n, sizeof *here.path, cmp_str);
            for (int j = 0; j < here.n; j++)
                list_add(&files, here.path[j]);
            free(here.path);
        } else {
            list_add(&files, admm_xstrdup(input[k])); /* named explicitly: read whatever its name */
        }
    }
    dedupe(&files);
    if (files.n == 0) {
        fprintf(stderr, "admm-analyze: no *.h5 results files found in the given paths\n");
        return 1;
    }
    char why[512];
    if (plots && !admm_plot_available(why, sizeof why)) {
        fprintf(stderr, "admm-analyze: %s\n", why);
        return 1;
    }

    admm_Run *run = admm_xcalloc((size_t)files.n, sizeof *run);
    admm_Flag *flag = admm_xcalloc((size_t)files.n, sizeof *flag);
    int nrun = 0, nflag = 0, npartial = 0;
    for (int k = 0; k < files.n; k++) {
        const char *p = files.path[k];
        if (admm_run_read(&run[nrun], p, why, sizeof why) != 0) {
            char *problem = admm_ends_with(p, ".part")
                                ? admm_xasprintf("unfinished run (.h5.part file): %s", why)
                                : admm_xstrdup(why);
            fprintf(stderr, "admm-analyze: refused %s: %s\n", p, problem);
            flag[nflag].path = admm_xstrdup(p);
            flag[nflag++].problem = problem;
            continue;
        }
        if (run[nrun].partial) {
            npartial++;
            if (include_partial)
                fprintf(stderr, "admm-analyze: averaged in (--include-partial) %s: partial run: %s\n",
                        p, run[nrun].partial_why);
            else
                fprintf(stderr, "admm-analyze: refused from the averages %s: partial run: %s; "
                                "listed apart (--include-partial averages it in)\n",
                        p, run[nrun].partial_why);
        }
        nrun++;
    }
    /* The guard: without --include-partial a partial run never enters a group, so no mean, floor,
     * family or figure holds it; it is listed apart (report.md, tables/partial). The analysed runs
     * come first, in file order, the partial ones set apart after them. */
    int nanalysed = nrun;
    if (!include_partial) {
        admm_Run *sorted = admm_xcalloc((size_t)(nrun ? nrun : 1), sizeof *sorted);
        int m = 0;
        for (int pass = 0; pass < 2; pass++)
            for (int k = 0; k < nrun; k++)
                if (run[k].partial == pass) sorted[m++] = run[k];
        memcpy(run, sorted, (size_t)nrun * sizeof *run);
        free(sorted);
        nanalysed = nrun - npartial;
    }

    admm_Analysis an;
    admm_analysis_build(&an, run, nanalysed, ignore, nignore);
    admm_ReportOptions opt = {outdir, ninput, input, nflag, flag, plots, include_partial, nrun, run};
    int nfail = admm_report_write(&an, &opt);
    nfail += admm_groups_write(outdir, run, nanalysed, plots); /* resnet-admm --layer-groups */
    printf("admm-analyze: %d results files: %d analysed in %d groups, %d flagged, %d partial%s; "
           "wrote %s/report.md\n",
           files.n, nanalysed, an.ngroup, nflag, npartial,
           !npartial ? "" : include_partial ? " (averaged in)" : " (listed apart, not averaged)",
           outdir);
    if (nfail)
        fprintf(stderr, "admm-analyze: %d figure(s) could not be made (see report.md)\n", nfail);

    admm_analysis_free(&an);
    for (int k = 0; k < nrun; k++)
        admm_run_free(&run[k]);
    for (int k = 0; k < nflag; k++) {
        free(flag[k].path);
        free(flag[k].problem);
    }
    for (int k = 0; k < files.n; k++)
        free(files.path[k]);
    free(files.path);
    free(run);
    free(flag);
    free(input);
    free(ignore);
    return nfail ? 1 : 0;
}
