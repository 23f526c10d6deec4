// Fast exact Poisson counts for the background input of lifsampling networks
// (Brian2's C++ standalone device only).  Private to lifsampling; used through
// the Brian2 function ``lifsampling_poisson(mean, slot)`` (lifsampling/noise.py).
//
// Random numbers: xoshiro256++ (Blackman & Vigna 2021, ACM Trans. Math. Softw.
// 47, 36), one generator per process, seeded from the environment variable
// LIFSAMPLING_SEED (through splitmix64) when the first table is built, so that a
// compiled binary is re-seeded at run time without recompiling.
//
// Counts: inversion of the Poisson CDF F with 64-bit thresholds,
//   count = #{k : u > floor(F(k) 2^64)},  u uniform on [0, 2^64),
// so P(count = k) is the Poisson probability to within 2^-64 (finer than double
// precision).  A slot's table is rebuilt only when its mean changes (once per
// time step for rhythmic backgrounds).  Header-only (C++11): the state lives in
// static members of a class template, which the linker merges across files.
#ifndef LIFSAMPLING_POISSON_H
#define LIFSAMPLING_POISSON_H

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <random>

namespace lifsampling {

const int TABLE_SIZE = 64;  // thresholds per table: enough for means up to ~25
const int N_SLOTS = 8;      // independent tables, one per stream of counts
const double MAX_TABLE_MEAN = 25.0;

struct PoissonTable {
    double mean;                     // negative: not built yet
    uint64_t threshold[TABLE_SIZE];  // last entry UINT64_MAX (sentinel)
};

template <int Unused = 0>
struct State {
    // Separate scalars (not an array), so that the compiler keeps the words in
    // scalar registers instead of storing the state as a vector after each draw.
    static uint64_t s0, s1, s2, s3;
    static bool seeded;
    static PoissonTable tables[N_SLOTS];
};
template <int U> uint64_t State<U>::s0 = 0;
template <int U> uint64_t State<U>::s1 = 0;
template <int U> uint64_t State<U>::s2 = 0;
template <int U> uint64_t State<U>::s3 = 0;
template <int U> bool State<U>::seeded = false;
template <int U> PoissonTable State<U>::tables[N_SLOTS] = {
    {-1.0, {0}}, {-1.0, {0}}, {-1.0, {0}}, {-1.0, {0}}, {-1.0, {0}}, {-1.0, {0}}, {-1.0, {0}}, {-1.0, {0}}};
typedef State<0> S;

inline uint64_t rotl(const uint64_t x, const int k) { return (x << k) | (x >> (64 - k)); }

inline uint64_t next_u64() {
    const uint64_t result = rotl(S::s0 + S::s3, 23) + S::s0;
    const uint64_t t = S::s1 << 17;
    S::s2 ^= S::s0;
    S::s3 ^= S::s1;
    S::s1 ^= S::s2;
    S::s0 ^= S::s3;
    S::s2 ^= t;
    S::s3 = rotl(S::s3, 45);
    return result;
}

inline uint64_t splitmix64(uint64_t &x) {
    uint64_t z = (x += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

inline void seed_from_environment() {
    const char *text = std::getenv("LIFSAMPLING_SEED");
    // a fixed offset keeps this stream apart from Brian2's own generators
    uint64_t x = (text ? std::strtoull(text, nullptr, 10) : 0ULL) ^ 0x6C696673616D706CULL;
    S::s0 = splitmix64(x);
    S::s1 = splitmix64(x);
    S::s2 = splitmix64(x);
    S::s3 = splitmix64(x);
    S::seeded = true;
}

inline void build_table(PoissonTable &table, const double mean) {
    if (!S::seeded) seed_from_environment();  // before the first draw of the run
    const double two64 = 18446744073709551616.0;  // 2^64
    double p = std::exp(-mean), cdf = p;
    for (int k = 0; k < TABLE_SIZE - 1; k++) {
        const double scaled = cdf * two64;
        table.threshold[k] = (scaled >= two64) ? UINT64_MAX : (uint64_t)scaled;
        p *= mean / (k + 1);
        cdf += p;
    }
    table.threshold[TABLE_SIZE - 1] = UINT64_MAX;
    table.mean = mean;
}

struct Generator {  // xoshiro256++ as a C++ UniformRandomBitGenerator
    typedef uint64_t result_type;
    static constexpr uint64_t min() { return 0; }
    static constexpr uint64_t max() { return UINT64_MAX; }
    uint64_t operator()() { return next_u64(); }
};

inline int32_t large_mean_count(const double mean) {
    if (!S::seeded) seed_from_environment();
    Generator gen;
    std::poisson_distribution<int32_t> dist(mean);
    return dist(gen);
}

// One Poisson(mean) count; `slot` selects the cached table of this stream.
inline int32_t poisson_count(const double mean, const int32_t slot) {
    PoissonTable &table = S::tables[slot];
    if (mean != table.mean) {
        if (mean > MAX_TABLE_MEAN) return large_mean_count(mean);
        build_table(table, mean);
    }
    const uint64_t u = next_u64();
    const uint64_t *T = table.threshold;
    // branch-free for the common counts 0-3, a loop only for the rare tail
    if (__builtin_expect(u > T[3], 0)) {
        int32_t k = 4;
        while (u > T[k]) k++;
        return k;
    }
    return (int32_t)(u > T[0]) + (int32_t)(u > T[1]) + (int32_t)(u > T[2]);
}

}  // namespace lifsampling

#endif
