/*
 * What every C test program here shares: pass/fail counting with CHECK, and a monotonic clock in
 * milliseconds. Each program is one translation unit, so the counters are static. Include it after
 * the feature-test macros and hctoken.h.
 */
#ifndef HCTOKEN_TESTS_CHECK_H
#define HCTOKEN_TESTS_CHECK_H

#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "hctoken.h"

static int passed, failed;

/* Counts a check; a failure prints where, what, this process's id (the fork tests run two
   processes) and this thread's last hctoken error. */
#define CHECK(cond, what)                                                                      \
  do {                                                                                         \
    if (cond) {                                                                                \
      passed++;                                                                                \
    } else {                                                                                   \
      failed++;                                                                                \
      printf("FAIL [%d] %s:%d: %s (last error: %s)\n", (int)getpid(), __FILE__, __LINE__, what, \
             hct_last_error_message());                                                        \
    }                                                                                          \
  } while (0)

static inline double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1000.0 + (double)t.tv_nsec / 1e6;
}

#endif
