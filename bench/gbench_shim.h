/* gbench_shim.h - a small C interface over Google Benchmark, so that mnet's benchmarks are C. */
#ifndef MNET_GBENCH_SHIM_H
#define MNET_GBENCH_SHIM_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One running benchmark (wraps benchmark::State).  Valid only inside the benchmark function. */
typedef struct mnet_bench_state mnet_bench_state;

/* A benchmark body: set up, loop while mnet_bench_keep_running(), then set counters.  It is
 * called several times per registered benchmark (Google Benchmark first probes for an
 * iteration count, then runs each repetition), so the setup is done once per call, outside
 * the timed loop. */
typedef void (*mnet_bench_fn)(mnet_bench_state *state, void *arg);

/* Counter flags, combinable.  The value of a counter is transformed, in this order:
 * PER_ITERATION multiplies it by the iteration count (the value describes one iteration),
 * AVG_ITERATIONS divides it by the iteration count, RATE divides it by the measured seconds
 * (CPU time unless the benchmark uses real time).  So a per-iteration amount of work becomes
 * a throughput with PER_ITERATION | RATE. */
enum {
    MNET_BENCH_COUNTER_DEFAULT = 0,
    MNET_BENCH_COUNTER_RATE = 1 << 0,
    MNET_BENCH_COUNTER_PER_ITERATION = 1 << 1,
    MNET_BENCH_COUNTER_AVG_ITERATIONS = 1 << 2
};

/* Optional settings of one benchmark; zero means "Google Benchmark's default or the
 * command-line flag".  Setting min_time overrides --benchmark_min_time for this benchmark,
 * so leave it 0 unless the benchmark truly needs a different time. */
typedef struct mnet_bench_options {
    double min_time;        /* seconds */
    int repetitions;        /* overrides --benchmark_repetitions */
    int use_real_time;      /* 1: time (and rates) by the wall clock instead of CPU time */
    char time_unit;         /* 'n', 'u' (default here), 'm' or 's' */
} mnet_bench_options;

/* 1 while the timed loop should run one more iteration, then 0 exactly once; after it has
 * returned 0 it keeps returning 0.  Returns 0 at once after mnet_bench_skip_with_error(). */
int mnet_bench_keep_running(mnet_bench_state *state);

/* Iterations run so far (the final count after the loop). */
int64_t mnet_bench_iterations(const mnet_bench_state *state);

/* Exclude work inside the loop from the timing (expensive: a clock read each). */
void mnet_bench_pause_timing(mnet_bench_state *state);
void mnet_bench_resume_timing(mnet_bench_state *state);

/* Reported next to the timings; name is copied. */
void mnet_bench_set_counter(mnet_bench_state *state, const char *name, double value, int flags);
void mnet_bench_set_label(mnet_bench_state *state, const char *label);

/* Mark the run as failed with `message` (it is reported instead of timings).  Call it before
 * the loop, then let mnet_bench_keep_running() return 0 and return. */
void mnet_bench_skip_with_error(mnet_bench_state *state, const char *message);

/* Register a benchmark; name is copied, arg is passed to fn untouched and must outlive
 * mnet_bench_main().  opt may be NULL.  Returns 0, or -1 if the name is empty or fn NULL. */
int mnet_bench_register(const char *name, mnet_bench_fn fn, void *arg,
        const mnet_bench_options *opt);

/* A key/value pair for the "context" block of the report (JSON) and the console header. */
void mnet_bench_add_context(const char *key, const char *value);

/* Parse Google Benchmark's own flags (--benchmark_filter, --benchmark_format=json,
 * --benchmark_out=FILE, --benchmark_repetitions, --benchmark_min_time, --benchmark_list_tests,
 * ...), run the selected benchmarks, shut down.  Returns the process exit status: 0, or 1
 * for an unrecognised argument or when no benchmark matched the filter. */
int mnet_bench_main(int argc, char **argv);

#ifdef __cplusplus
}
#endif

#endif /* MNET_GBENCH_SHIM_H */
