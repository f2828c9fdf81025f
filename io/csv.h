/* A numeric table from a text file (--data csv): rows of fields separated by commas, or by
 * blanks in a file without commas, read plain or gzip-compressed; an optional header row
 * names the columns. Local: every rank that calls it reads the whole file (tables of this kind
 * are small), so all ranks reach the same verdict on a bad file. */
#ifndef NN_CSV_H
#define NN_CSV_H

#include <stddef.h>

/* Reads `path`, after skipping its first `skip` lines (as the count line above the header of
 * scikit-learn's boston_house_prices.csv). The first non-blank row is the header when any of
 * its fields is not a number. Every other non-blank row must hold as many fields as the first
 * row, each a finite number. `target` names the target column: a header name, a 0-based
 * column number, or "last". On success returns 0 with *values (rows x cols, row-major,
 * malloc'd), *rows, *cols and *target_col; otherwise -1 and one line in err naming the file
 * (and the line) and the problem. */
int nn_csv_read(const char *path, int skip, const char *target, double **values, long *rows, int *cols,
                int *target_col, char *err, size_t errlen);

#endif
