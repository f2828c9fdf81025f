/* plot: turns series into a PNG by writing a gnuplot script and its data (kept beside the figure,
 * in DIR/src/, so a figure can be restyled without re-running the analysis) and running gnuplot on
 * it; leaves out which figures to make (report.c). */
#ifndef ADMM_ANALYSIS_PLOT_H
#define ADMM_ANALYSIS_PLOT_H

#include <stddef.h>

typedef struct {
    const char *label;
    int n;
    const double *x, *y;   /* n points */
    const double *lo, *hi; /* n, or NULL: spread drawn as a band (lines) or error bars */
    int ideal;             /* 1: a reference line, dashed black, no points; 2: a model of the
                              series before it, dashed in its colour; 3: marks on the series
                              before it (large open circles in its colour, no line): some of its
                              points singled out, NaN elsewhere */
} admm_Series;

typedef enum {
    ADMM_PLOT_LINES,     /* line per series, min-max band where lo/hi are given */
    ADMM_PLOT_ERRORBARS, /* points joined by lines, error bars where lo/hi are given */
    ADMM_PLOT_BARS,      /* one series: a bar per point at x = 1..n, labelled with xtics */
    ADMM_PLOT_POINTS,    /* points only (a scatter); reference lines as lines */
    ADMM_PLOT_STACKED    /* a stacked bar per category i = 0..n-1 (labelled with xtics), one
                            layer per series, all series n points; NaN counts as 0 */
} admm_PlotStyle;

typedef struct {
    const char *title, *xlabel, *ylabel;
    admm_PlotStyle style;
    const char *const *xtics; /* ADMM_PLOT_BARS, ADMM_PLOT_STACKED: n labels */
    int integer_x;            /* x takes integer values (epochs, ranks): integer tics only, at
                                 most about ten of them (gnuplot chooses the step) */
    int log_x, log_y;         /* logarithmic axes: 0 linear, else the base (2 for ranks, 10); a
                                 value <= 0 on such an axis is left out (NaN) */
} admm_PlotSpec;

/* 1 when gnuplot can be run; the reason otherwise. */
int admm_plot_available(char *why, size_t len);

/* Writes dir/src/stem.dat and dir/src/stem.gp, runs gnuplot, which writes dir/stem.png.
 * 0, or -1 with gnuplot's last message in why. */
int admm_plot(const char *dir, const char *stem, const admm_PlotSpec *spec, int ns,
              const admm_Series *s, char *why, size_t len);

#endif
