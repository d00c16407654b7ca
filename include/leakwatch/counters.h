/*
 * counters.h — the convention every pipeline stage uses for its named counters.
 *
 * A stage lists its counters once as an X-macro taking (X, P) and writing X(P, name):
 *
 *   #define LW_DEFRAG_COUNTERS(X, P) X(P, reassembled) X(P, overlap) X(P, timeout)
 *   LW_COUNTER_BLOCK(defrag, DEFRAG, LW_DEFRAG_COUNTERS)
 *
 * which declares the enum values LW_DEFRAG_reassembled, ..., LW_DEFRAG__COUNT, the struct
 * lw_defrag_counters { uint64_t c[LW_DEFRAG__COUNT]; } and the name table
 * lw_defrag_counter_names[] (the snake_case names are the JSON keys in `stats` events).
 * Exactly one .c file of the stage instantiates the names:
 *
 *   LW_COUNTER_NAMES(defrag, DEFRAG, LW_DEFRAG_COUNTERS)
 *
 * No malformed field, cap or drop goes uncounted: each one is a named counter.
 */
#ifndef LW_COUNTERS_H
#define LW_COUNTERS_H

#include <stdint.h>

#define LW_COUNTER_ENUM_(P, name) LW_##P##_##name,
#define LW_COUNTER_STR_(P, name) #name,

#define LW_COUNTER_BLOCK(stage, P, LIST)                                                           \
    enum lw_##stage##_counter{LIST(LW_COUNTER_ENUM_, P) LW_##P##__COUNT};                          \
    typedef struct lw_##stage##_counters {                                                         \
        uint64_t c[LW_##P##__COUNT];                                                               \
    } lw_##stage##_counters;                                                                       \
    extern const char *const lw_##stage##_counter_names[LW_##P##__COUNT];

#define LW_COUNTER_NAMES(stage, P, LIST)                                                           \
    const char *const lw_##stage##_counter_names[LW_##P##__COUNT] = {LIST(LW_COUNTER_STR_, P)};

/* Add every counter of one block of a stage into another (sums per-worker blocks). */
#define LW_COUNTERS_ADD(dst, src)                                                                  \
    do {                                                                                           \
        for (unsigned lw_i_ = 0; lw_i_ < sizeof((dst)->c) / sizeof((dst)->c[0]); lw_i_++)          \
            (dst)->c[lw_i_] += (src)->c[lw_i_];                                                    \
    } while (0)

#endif
