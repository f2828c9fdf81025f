/* make_fixture: writes one admm-nn-results file (io/SCHEMA.md, version 1) with known values, so
 * admm-analyze can be tested without running the trainer; also damages files on purpose. Serial
 * HDF5 calls, sharing no code with analysis/.
 *
 *   analysis-fixture OUT.h5 [key=value]...    write a file (keys below)
 *   analysis-fixture --set-status FILE VALUE  rewrite the root attribute status in place
 *
 * Keys (default): method (admm: Taylor's ADMM; also bcd, random-features, gd, sgd, momentum, adam),
 * ranks (1), threads (1: root threads_per_rank; omit=threads_per_rank writes a file from before
 * the attribute), seed (1), beta (1), gamma (10), warmup (0), init (he), loss (admm, random-features:
 * least-squares; bcd: squared-hinge; gradient methods: cross-entropy), biases (admm: no, others:
 * yes), preset (none: written only when given, as files from the days of --preset have it),
 * lr (0.01), batch (128), patience (5), precision (float64), n_train (256), n_test (128),
 * layers (16,8,4), epochs (3: epochs_run, warm-up included), host (node1), acc (0.5: final test
 * accuracy), val (acc: final validation accuracy), t (1: t_epoch of epoch 1), tstep (0: added per
 * epoch), comm (0.15: share of t_epoch in comm_ phases), imb (0.1: load imbalance, below), rss
 * (100: MiB), status (complete), stop (max_epochs: stop_reason; "signal" also writes stop_signal
 * SIGTERM), format (admm-nn-results), omit (a dataset under /epochs or a root attribute to leave
 * out), badshape (an /epochs dataset written one row short), torn (an /epochs dataset: it and every
 * dataset after it in the writer's order hold one row fewer, as when a run dies in the middle of
 * appending an epoch), anderson (none: /config/anderson and the /epochs/anderson_* datasets are
 * left out, as in a file older than --anderson; M: written, the datasets NaN when M = 0), objq (none:
 * objective = loss + 0.1 as below; q: objective = q^e, a curve that falls a decade per
 * ln(10)/ln(1/q) epochs).
 *
 * status=running writes what the .part file of a run that died holds: no final root attributes
 * (epochs_run, best_epoch, final_*, stop_reason, total_time_s, train_time_s) and no /weights.
 *
 * As admm-train does, /config holds only the options that apply to the method: lr, batch and
 * momentum for the gradient methods, beta and gamma for admm and bcd, warmup and pinv_rcond (NaN,
 * as admm-train stores its "auto") for admm.
 *
 * Values per epoch e = 1..E, rank r = 0..R-1 (what the expected tables are computed from):
 *   test_acc = acc * e / E, val_acc = val * e / E, train_acc = min(1, test_acc + 0.01),
 *   loss = 1 / e, t_epoch = t + tstep * (e - 1), phase_avg: comm_reduce = 2/3 comm t_epoch,
 *   comm_gather = 1/3 comm t_epoch, gram = solve = (1 - comm) t_epoch / 2, others 0,
 *   phase_min = (1 - imb) phase_avg, phase_max = (1 + imb) phase_avg, rss_mb = rss + 10 r + e,
 *   objective = loss + 0.1, residual_z = 0.5 / e and residual_a = 0.25 / e (admm, bcd; else NaN),
 *   multiplier = 0 through warm-up, then 0.1 / e (admm; else NaN); with anderson=M > 0,
 *   anderson_accepted = NaN at epoch 1, then 0 (refused) at every epoch divisible by 4, else 1,
 *   anderson_residual = 10 objective, anderson_coef_norm = 0.5 (NaN at epoch 1); the work counters (phase_flops
 *   (E, 9), comm_calls and comm_bytes (E, 8), bytes_sent and bytes_recv (E, ranks), stream_bytes,
 *   stream_calls, flops_narrow) hold small known numbers: phase_flops = 1e6 e (p + 1), comm_calls =
 *   e (k + 1), comm_bytes = 8 comm_calls, bytes_sent = bytes_recv = 1000 e (r + 1), stream_bytes =
 *   4096 e, stream_calls = 10 e, flops_narrow = 100 e. */
#define _XOPEN_SOURCE 700

#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAIL(...)                                                                                  \
    do {                                                                                           \
        fprintf(stderr, "analysis-fixture: " __VA_ARGS__);                                         \
        fputc('\n', stderr);                                                                       \
        exit(1);                                                                                   \
    } while (0)
#define H5OK(call)                                                                                 \
    do {                                                                                           \
        if ((call) < 0) FAIL("%s:%d: HDF5 call failed: %s", __FILE__, __LINE__, #call);            \
    } while (0)

typedef struct {
    const char *key;
    char val[256];
} Opt;

static Opt opts[] = {
    {"method", "admm"},
    {"ranks", "1"},
    {"threads", "1"},
    {"seed", "1"},
    {"beta", "1"},
    {"gamma", "10"},
    {"warmup", "0"},
    {"init", "he"},
    {"loss", ""},
    {"biases", ""},
    {"preset", ""},
    {"lr", "0.01"},
    {"batch", "128"},
    {"patience", "5"},
    {"precision", "float64"},
    {"n_train", "256"},
    {"n_test", "128"},
    {"layers", "16,8,4"},
    {"epochs", "3"},
    {"host", "node1"},
    {"acc", "0.5"},
    {"val", ""},
    {"t", "1"},
    {"tstep", "0"},
    {"comm", "0.15"},
    {"imb", "0.1"},
    {"rss", "100"},
    {"status", "complete"},
    {"stop", "max_epochs"},
    {"format", "admm-nn-results"},
    {"omit", ""},
    {"badshape", ""},
    {"torn", ""},
    {"anderson", ""},
    {"objq", ""},
};
enum { NOPT = sizeof opts / sizeof opts[0] };

static const char *get(const char *key)
{
    for (int k = 0; k < NOPT; k++)
        if (!strcmp(opts[k].key, key)) return opts[k].val;
    FAIL("internal: no key %s", key);
}
static double num(const char *key)
{
    return atof(get(key));
}
static long long inum(const char *key)
{
    return atoll(get(key));
}
static int omitted(const char *name)
{
    return !strcmp(get("omit"), name);
}

static void attr_str(hid_t obj, const char *name, const char *v)
{
    if (omitted(name)) return;
    hid_t t = H5Tcopy(H5T_C_S1), s = H5Screate(H5S_SCALAR);
    H5OK(H5Tset_size(t, H5T_VARIABLE));
    H5OK(H5Tset_cset(t, H5T_CSET_UTF8));
    hid_t a = H5Acreate2(obj, name, t, s, H5P_DEFAULT, H5P_DEFAULT);
    H5OK(a);
    H5OK(H5Awrite(a, t, &v));
    H5Aclose(a);
    H5Sclose(s);
    H5Tclose(t);
}

static void attr_i64(hid_t obj, const char *name, int n, const long long *v)
{
    if (omitted(name)) return;
    hsize_t d = (hsize_t)n;
    hid_t s = n == 1 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &d, NULL);
    hid_t a = H5Acreate2(obj, name, H5T_STD_I64LE, s, H5P_DEFAULT, H5P_DEFAULT);
    H5OK(a);
    H5OK(H5Awrite(a, H5T_NATIVE_LLONG, v));
    H5Aclose(a);
    H5Sclose(s);
}

static void attr_f64(hid_t obj, const char *name, double v)
{
    if (omitted(name)) return;
    hid_t s = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(obj, name, H5T_IEEE_F64LE, s, H5P_DEFAULT, H5P_DEFAULT);
    H5OK(a);
    H5OK(H5Awrite(a, H5T_NATIVE_DOUBLE, &v));
    H5Aclose(a);
    H5Sclose(s);
}

/* The /epochs datasets in the order admm-train appends an epoch's row to them (io/results.c). */
static const char *const writer_order[] = {
    "loss",         "objective",    "residual_z",        "residual_a",        "train_acc",
    "val_acc",      "test_acc",     "t_epoch",           "t_eval",            "t_wall",
    "multiplier",   "stream_bytes", "stream_calls",      "flops_narrow",      "anderson_accepted",
    "anderson_residual", "anderson_coef_norm", "epoch",  "warmup",            "phase_min",
    "phase_avg",    "phase_max",    "rss_mb",            "phase_flops",       "comm_calls",
    "comm_bytes",   "bytes_sent",   "bytes_recv"};

static int order_of(const char *name)
{
    for (size_t k = 0; k < sizeof writer_order / sizeof writer_order[0]; k++)
        if (!strcmp(writer_order[k], name)) return (int)k;
    FAIL("internal: %s is not in the writer's order", name);
}

/* An /epochs dataset, chunked and extendable along epochs as the schema says; rows x cols
 * (cols == 0: one dimension). */
static hid_t epochs_ds(hid_t g, const char *name, hsize_t rows, hsize_t cols, int integer,
                       const void *data)
{
    if (omitted(name)) return -1;
    if (!strcmp(get("badshape"), name)) rows--;
    if (get("torn")[0] && order_of(name) >= order_of(get("torn"))) rows--;
    int rank = cols ? 2 : 1;
    hsize_t dims[2] = {rows, cols}, maxd[2] = {H5S_UNLIMITED, cols},
            chunk[2] = {16, cols ? cols : 1};
    hid_t s = H5Screate_simple(rank, dims, maxd), p = H5Pcreate(H5P_DATASET_CREATE);
    H5OK(H5Pset_chunk(p, rank, chunk));
    hid_t d = H5Dcreate2(g, name, integer ? H5T_STD_I64LE : H5T_IEEE_F64LE, s, H5P_DEFAULT, p,
                         H5P_DEFAULT);
    H5OK(d);
    if (rows > 0)
        H5OK(H5Dwrite(d, integer ? H5T_NATIVE_LLONG : H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL,
                      H5P_DEFAULT, data));
    H5Pclose(p);
    H5Sclose(s);
    return d;
}

static void write_file(const char *path)
{
    const int E = (int)inum("epochs"), R = (int)inum("ranks"), P = 9;
    const char *method = get("method");
    const int admm = !strcmp(method, "admm"), bcd = !strcmp(method, "bcd");
    const int gradient = !strcmp(method, "gd") || !strcmp(method, "sgd") ||
                         !strcmp(method, "momentum") || !strcmp(method, "adam");
    double acc = num("acc"), val = get("val")[0] ? num("val") : acc, t = num("t"),
           tstep = num("tstep"), comm = num("comm"), rss = num("rss"), imb = num("imb");
    const int running = !strcmp(get("status"), "running"); /* a .part of a run that died */
    const char *loss_name = get("loss")[0] ? get("loss")
                            : gradient     ? "cross-entropy"
                            : bcd          ? "squared-hinge"
                                           : "least-squares";
    const char *biases = get("biases")[0] ? get("biases") : admm ? "no" : "yes";
    long long sizes[16];
    int nsize = 0;
    char layers[256];
    snprintf(layers, sizeof layers, "%s", get("layers"));
    for (char *tok = strtok(layers, ","); tok && nsize < 16; tok = strtok(NULL, ","))
        sizes[nsize++] = atoll(tok);
    snprintf(layers, sizeof layers, "%s", get("layers"));

    long long *epoch = calloc((size_t)E, sizeof *epoch), *warm = calloc((size_t)E, sizeof *warm);
    double *v[14];
    for (int k = 0; k < 14; k++)
        v[k] = calloc((size_t)E, sizeof(double));
    double *loss = v[0], *obj = v[1], *rz = v[2], *ra = v[3], *tra = v[4], *va = v[5], *te = v[6],
           *tep = v[7], *tev = v[8], *tw = v[9], *mult = v[10], *sb = v[11], *sc = v[12],
           *fn = v[13];
    double *flops = calloc((size_t)(E * P), sizeof(double)), *calls = calloc((size_t)(E * 8), sizeof(double));
    double *cbytes = calloc((size_t)(E * 8), sizeof(double)), *sent = calloc((size_t)(E * R), sizeof(double));
    double *pavg = calloc((size_t)(E * P), sizeof(double)),
           *pmin = calloc((size_t)(E * P), sizeof(double));
    double *pmax = calloc((size_t)(E * P), sizeof(double)),
           *rssm = calloc((size_t)(E * R), sizeof(double));
    double wall = 0.0, train_time = 0.0;
    const int has_aa = get("anderson")[0] != '\0';
    const long long aa = has_aa ? inum("anderson") : 0;
    double *aa_acc = calloc((size_t)E, sizeof(double)), *aa_res = calloc((size_t)E, sizeof(double)),
           *aa_coef = calloc((size_t)E, sizeof(double));
    for (int i = 0; i < E; i++) {
        int e = i + 1;
        epoch[i] = e;
        warm[i] = admm && e <= inum("warmup");
        te[i] = acc * e / E;
        va[i] = val * e / E;
        tra[i] = fmin(1.0, te[i] + 0.01);
        loss[i] = 1.0 / e;
        obj[i] = get("objq")[0] ? pow(num("objq"), e) : loss[i] + 0.1;
        aa_acc[i] = aa > 0 && e > 1 ? (e % 4 == 0 ? 0.0 : 1.0) : NAN;
        aa_res[i] = aa > 0 ? 10.0 * obj[i] : NAN;
        aa_coef[i] = aa > 0 && e > 1 ? 0.5 : NAN;
        rz[i] = admm || bcd ? 0.5 / e : NAN;
        ra[i] = admm || bcd ? 0.25 / e : NAN;
        mult[i] = !admm ? NAN : warm[i] ? 0.0 : 0.1 / e;
        sb[i] = 4096.0 * e;
        sc[i] = 10.0 * e;
        fn[i] = 100.0 * e;
        for (int p = 0; p < P; p++)
            flops[i * P + p] = 1e6 * e * (p + 1);
        for (int k = 0; k < 8; k++) {
            calls[i * 8 + k] = (double)e * (k + 1);
            cbytes[i * 8 + k] = 8.0 * calls[i * 8 + k];
        }
        for (int r = 0; r < R; r++)
            sent[i * R + r] = 1000.0 * e * (r + 1);
        tep[i] = t + tstep * i;
        tev[i] = 0.1 * tep[i];
        wall += tep[i] + tev[i];
        tw[i] = wall;
        train_time += tep[i];
        double ph[9] = {(1 - comm) * tep[i] / 2,
                        comm * tep[i] * 2 / 3,
                        (1 - comm) * tep[i] / 2,
                        comm * tep[i] / 3,
                        0,
                        0,
                        0,
                        0,
                        0};
        for (int p = 0; p < P; p++) {
            pavg[i * P + p] = ph[p];
            pmin[i * P + p] = (1 - imb) * ph[p];
            pmax[i * P + p] = (1 + imb) * ph[p];
        }
        for (int r = 0; r < R; r++)
            rssm[i * R + r] = rss + 10 * r + e;
    }

    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    H5OK(f);
    long long one = 1, grid[2] = {1, R}, x;
    attr_str(f, "format", get("format"));
    attr_i64(f, "format_version", 1, &one);
    attr_str(f, "status", get("status"));
    attr_str(f, "method", method);
    x = R;
    attr_i64(f, "ranks", 1, &x);
    attr_i64(f, "blacs_grid", 2, grid);
    x = inum("threads");
    attr_i64(f, "threads_per_rank", 1, &x);
    attr_str(f, "hostnames", get("host"));
    attr_str(f, "versions", "fixture");
    attr_str(f, "git_revision", "unknown");
    attr_str(f, "command_line", "analysis-fixture");
    attr_str(f, "start_time", "2024-01-01T00:00:00Z");
    x = inum("n_train") - 64; /* as admm-train: validation samples come out of --n-train */
    attr_i64(f, "n_train", 1, &x);
    x = 64;
    attr_i64(f, "n_val", 1, &x);
    x = inum("n_test");
    attr_i64(f, "n_test", 1, &x);
    if (!running) { /* written by admm-train only when the run ends */
        x = E;
        attr_i64(f, "epochs_run", 1, &x);
        attr_i64(f, "best_epoch", 1, &x);
        attr_f64(f, "final_train_acc", tra[E - 1]);
        attr_f64(f, "final_val_acc", val);
        attr_f64(f, "final_test_acc", acc);
        attr_f64(f, "final_loss", loss[E - 1]);
        attr_str(f, "stop_reason", get("stop"));
        if (!strcmp(get("stop"), "signal")) attr_str(f, "stop_signal", "SIGTERM");
        attr_f64(f, "total_time_s", wall + 1.0);
        attr_f64(f, "train_time_s", train_time);
    }

    hid_t c = H5Gcreate2(f, "config", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5OK(c);
    attr_str(c, "method", method);
    if (get("preset")[0]) attr_str(c, "preset", get("preset"));
    attr_str(c, "data", "synthetic");
    attr_str(c, "layers", layers);
    attr_i64(c, "layer_sizes", nsize, sizes);
    if (admm || bcd) {
        attr_f64(c, "beta", num("beta"));
        attr_f64(c, "gamma", num("gamma"));
    }
    if (admm) {
        x = inum("warmup");
        attr_i64(c, "warmup", 1, &x);
        attr_f64(c, "pinv_rcond", NAN); /* as admm-train stores "auto" with --weight-solve ridge */
    }
    x = admm ? E - inum("warmup") : E;
    attr_i64(c, "epochs", 1, &x);
    x = inum("patience");
    attr_i64(c, "patience", 1, &x);
    attr_str(c, "init", get("init"));
    attr_str(c, "loss", loss_name);
    attr_str(c, "biases", biases);
    attr_str(c, "precision", get("precision"));
    x = inum("seed");
    attr_i64(c, "seed", 1, &x);
    if (gradient) {
        attr_f64(c, "lr", num("lr"));
        x = inum("batch");
        attr_i64(c, "batch", 1, &x);
        attr_f64(c, "momentum", 0.9);
    }
    attr_f64(c, "ridge", 1e-8);
    x = 64;
    attr_i64(c, "validation", 1, &x);
    x = inum("n_train");
    attr_i64(c, "n_train", 1, &x);
    x = inum("n_test");
    attr_i64(c, "n_test", 1, &x);
    if (has_aa) attr_i64(c, "anderson", 1, &aa);
    attr_str(c, "output", path);
    H5Gclose(c);

    hid_t g = H5Gcreate2(f, "epochs", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5OK(g);
    hsize_t rows = (hsize_t)E;
    const char *names1[] = {"loss",    "objective", "residual_z", "residual_a",   "train_acc",
                            "val_acc", "test_acc",  "t_epoch",    "t_eval",       "t_wall",
                            "multiplier", "stream_bytes", "stream_calls", "flops_narrow"};
    hid_t d;
    if ((d = epochs_ds(g, "epoch", rows, 0, 1, epoch)) >= 0) H5Dclose(d);
    if ((d = epochs_ds(g, "warmup", rows, 0, 1, warm)) >= 0) H5Dclose(d);
    for (int k = 0; k < 14; k++)
        if ((d = epochs_ds(g, names1[k], rows, 0, 0, v[k])) >= 0) H5Dclose(d);
    const char *pn =
        "gram,comm_reduce,solve,comm_gather,a_update,z_update,forward_backward,eval,io";
    const char *pnames[] = {"phase_min", "phase_avg", "phase_max"};
    double *pdata[] = {pmin, pavg, pmax};
    for (int k = 0; k < 3; k++)
        if ((d = epochs_ds(g, pnames[k], rows, (hsize_t)P, 0, pdata[k])) >= 0) {
            attr_str(d, "phase_names", pn);
            H5Dclose(d);
        }
    if ((d = epochs_ds(g, "rss_mb", rows, (hsize_t)R, 0, rssm)) >= 0) H5Dclose(d);
    if ((d = epochs_ds(g, "phase_flops", rows, (hsize_t)P, 0, flops)) >= 0) {
        attr_str(d, "phase_names", pn);
        H5Dclose(d);
    }
    const char *kinds = "allreduce,reduce_scatter,bcast,allgather,reduce,p2p,barrier,shm";
    if ((d = epochs_ds(g, "comm_calls", rows, 8, 0, calls)) >= 0) {
        attr_str(d, "kind_names", kinds);
        H5Dclose(d);
    }
    if ((d = epochs_ds(g, "comm_bytes", rows, 8, 0, cbytes)) >= 0) {
        attr_str(d, "kind_names", kinds);
        H5Dclose(d);
    }
    if ((d = epochs_ds(g, "bytes_sent", rows, (hsize_t)R, 0, sent)) >= 0) H5Dclose(d);
    if ((d = epochs_ds(g, "bytes_recv", rows, (hsize_t)R, 0, sent)) >= 0) H5Dclose(d);
    if (has_aa) {
        if ((d = epochs_ds(g, "anderson_accepted", rows, 0, 0, aa_acc)) >= 0) H5Dclose(d);
        if ((d = epochs_ds(g, "anderson_residual", rows, 0, 0, aa_res)) >= 0) H5Dclose(d);
        if ((d = epochs_ds(g, "anderson_coef_norm", rows, 0, 0, aa_coef)) >= 0) H5Dclose(d);
    }
    H5Gclose(g);
    if (running) { /* a run that died never reached its weights */
        H5OK(H5Fclose(f));
        goto done;
    }

    hid_t w = H5Gcreate2(f, "weights", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5OK(w);
    attr_i64(w, "layer_sizes", nsize, sizes);
    for (int l = 1; l < nsize; l++) {
        hsize_t dims[2] = {(hsize_t)sizes[l], (hsize_t)sizes[l - 1]};
        double *wl = calloc(dims[0] * dims[1], sizeof *wl);
        for (hsize_t k = 0; k < dims[0] * dims[1]; k++)
            wl[k] = 0.01 * (double)(k % 7);
        char name[16];
        snprintf(name, sizeof name, "W%d", l);
        hid_t s = H5Screate_simple(2, dims, NULL);
        hid_t ds = H5Dcreate2(w, name, H5T_IEEE_F64LE, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        H5OK(ds);
        H5OK(H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, wl));
        H5Dclose(ds);
        H5Sclose(s);
        free(wl);
    }
    H5Gclose(w);
    H5OK(H5Fclose(f));
done:
    for (int k = 0; k < 14; k++)
        free(v[k]);
    free(aa_acc);
    free(aa_res);
    free(aa_coef);
    free(flops);
    free(calls);
    free(cbytes);
    free(sent);
    free(epoch);
    free(warm);
    free(pavg);
    free(pmin);
    free(pmax);
    free(rssm);
}

static void set_status(const char *path, const char *value)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    if (f < 0) FAIL("cannot open %s for writing", path);
    if (H5Aexists(f, "status") > 0) H5OK(H5Adelete(f, "status"));
    attr_str(f, "status", value);
    H5OK(H5Fclose(f));
}

int main(int argc, char **argv)
{
    if (argc == 4 && !strcmp(argv[1], "--set-status")) {
        set_status(argv[2], argv[3]);
        return 0;
    }
    if (argc < 2 || argv[1][0] == '-')
        FAIL("usage: analysis-fixture OUT.h5 [key=value]... | --set-status FILE VALUE");
    for (int k = 2; k < argc; k++) {
        char *eq = strchr(argv[k], '=');
        int found = 0;
        if (!eq) FAIL("expected key=value, got %s", argv[k]);
        for (int j = 0; j < NOPT; j++)
            if (strlen(opts[j].key) == (size_t)(eq - argv[k]) &&
                !strncmp(opts[j].key, argv[k], (size_t)(eq - argv[k]))) {
                snprintf(opts[j].val, sizeof opts[j].val, "%s", eq + 1);
                found = 1;
            }
        if (!found) FAIL("unknown key in %s", argv[k]);
    }
    if (inum("epochs") < 1 || inum("ranks") < 1) FAIL("epochs and ranks must be >= 1");
    write_file(argv[1]);
    return 0;
}
