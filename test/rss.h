/* rss.h - the tests' reading of their own resident memory. */
#ifndef MNET_TEST_RSS_H
#define MNET_TEST_RSS_H

#include <stdio.h>
#include <unistd.h>

/* Resident set size in KiB, from /proc/self/statm (0 if it cannot be read). */
static inline long rss_kb(void)
{
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

#endif
