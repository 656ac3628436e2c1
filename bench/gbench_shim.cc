// gbench_shim.cc - the C interface of gbench_shim.h, implemented over Google Benchmark.
#include "gbench_shim.h"

#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstring>
#include <string>

struct mnet_bench_state {
    benchmark::State *st;
    bool finished;   // KeepRunning() returned false: calling it again would end the run twice
};

namespace {

benchmark::TimeUnit to_time_unit(char unit)
{
    switch (unit) {
    case 'n': return benchmark::kNanosecond;
    case 'm': return benchmark::kMillisecond;
    case 's': return benchmark::kSecond;
    default: return benchmark::kMicrosecond;
    }
}

// The shim's flags are a compact renumbering; Google Benchmark's values are not part of
// the C interface so that the header does not depend on them.
benchmark::Counter::Flags to_counter_flags(int flags)
{
    int f = benchmark::Counter::kDefaults;
    if (flags & MNET_BENCH_COUNTER_RATE)
        f |= benchmark::Counter::kIsRate;
    if (flags & MNET_BENCH_COUNTER_PER_ITERATION)
        f |= benchmark::Counter::kIsIterationInvariant;
    if (flags & MNET_BENCH_COUNTER_AVG_ITERATIONS)
        f |= benchmark::Counter::kAvgIterations;
    return static_cast<benchmark::Counter::Flags>(f);
}

// The CPU's name for the report's context ("mnet_cpu"), so that reports from two machines
// say which is which: x86's "model name", else the ARM implementer and part numbers, else
// the architecture; empty if /proc/cpuinfo cannot be read.
std::string cpu_name()
{
    std::FILE *f = std::fopen("/proc/cpuinfo", "r");
    if (!f)
        return "";
    std::string model, implementer, part;
    char line[512];
    while (std::fgets(line, sizeof line, f)) {
        const char *colon = std::strchr(line, ':');
        if (!colon)
            continue;
        std::string key(line, (size_t)(colon - line)), value(colon + 1);
        key.erase(key.find_last_not_of(" \t") + 1);
        value.erase(0, value.find_first_not_of(" \t"));
        value.erase(value.find_last_not_of(" \t\r\n") + 1);
        if (model.empty() && (key == "model name" || key == "Model" || key == "Hardware"))
            model = value;
        else if (implementer.empty() && key == "CPU implementer")
            implementer = value;
        else if (part.empty() && key == "CPU part")
            part = value;
        if (!model.empty() && key == "model name")
            break;
    }
    std::fclose(f);
    if (!model.empty())
        return model;
    if (!implementer.empty())
        return "arm implementer " + implementer + " part " + part;
    return "";
}

}  // namespace

extern "C" {

int mnet_bench_keep_running(mnet_bench_state *state)
{
    if (state->finished)
        return 0;
    if (state->st->KeepRunning())
        return 1;
    state->finished = true;
    return 0;
}

int64_t mnet_bench_iterations(const mnet_bench_state *state)
{
    return static_cast<int64_t>(state->st->iterations());
}

void mnet_bench_pause_timing(mnet_bench_state *state)
{
    state->st->PauseTiming();
}

void mnet_bench_resume_timing(mnet_bench_state *state)
{
    state->st->ResumeTiming();
}

void mnet_bench_set_counter(mnet_bench_state *state, const char *name, double value, int flags)
{
    state->st->counters[name] = benchmark::Counter(value, to_counter_flags(flags));
}

void mnet_bench_set_label(mnet_bench_state *state, const char *label)
{
    state->st->SetLabel(label);
}

void mnet_bench_skip_with_error(mnet_bench_state *state, const char *message)
{
    state->st->SkipWithError(message);
}

int mnet_bench_register(const char *name, mnet_bench_fn fn, void *arg,
        const mnet_bench_options *opt)
{
    if (!name || !*name || !fn)
        return -1;
    // Benchmarks created from here on take microseconds as their unit unless told otherwise:
    // mnet's kernels run for microseconds to milliseconds.
    static const bool unit_set = (benchmark::SetDefaultTimeUnit(benchmark::kMicrosecond), true);
    (void)unit_set;

    benchmark::internal::Benchmark *b = benchmark::RegisterBenchmark(name,
        [fn, arg](benchmark::State &st) {
            mnet_bench_state s = { &st, false };
            fn(&s, arg);
            // Google Benchmark aborts if a body returns before its loop has ended; report it
            // as this benchmark's error instead (a body that skipped with an error and never
            // looped lands here too, harmlessly).
            if (!s.finished) {
                if (!st.error_occurred())
                    st.SkipWithError("benchmark body returned before its loop ended");
                while (mnet_bench_keep_running(&s)) {
                }
            }
        });
    if (opt) {
        if (opt->min_time > 0)
            b->MinTime(opt->min_time);
        if (opt->repetitions > 0)
            b->Repetitions(opt->repetitions);
        if (opt->use_real_time)
            b->UseRealTime();
        if (opt->time_unit)
            b->Unit(to_time_unit(opt->time_unit));
    }
    return 0;
}

void mnet_bench_add_context(const char *key, const char *value)
{
    benchmark::AddCustomContext(key, value);
}

int mnet_bench_main(int argc, char **argv)
{
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv))
        return 1;
    const std::string cpu = cpu_name();
    if (!cpu.empty())
        benchmark::AddCustomContext("mnet_cpu", cpu);
    // Google Benchmark's own "library_build_type" (and its "Library was built as DEBUG"
    // warning) describe Debian's libbenchmark, built without NDEBUG; this is mnet's build.
#ifdef NDEBUG
    benchmark::AddCustomContext("mnet_build", "release (NDEBUG)");
#else
    benchmark::AddCustomContext("mnet_build", "debug (assertions on)");
#endif
    const size_t matched = benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return matched > 0 ? 0 : 1;
}

}  // extern "C"
