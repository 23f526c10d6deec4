// exp(x) without a library call, for the membrane update of lifsampling networks
// (Brian2's C++ standalone device only; used as ``lifsampling_exp`` by
// lifsampling/_network.py).  Private to lifsampling.
//
// Cody-Waite range reduction x = n ln2 + r with |r| <= ln2/2, a degree-13 Taylor
// polynomial of e^r (truncation error < 1e-17 relative), and 2^n assembled from
// the exponent bits: accurate to about one unit in the last place, branch-free
// and inlined, where glibc's exp costs a function call per neuron and step.
// Arguments are clamped to [-700, 700] (the exponent range of a double).
#ifndef LIFSAMPLING_EXP_H
#define LIFSAMPLING_EXP_H

#include <cmath>
#include <cstdint>
#include <cstring>

namespace lifsampling {

inline double fast_exp(double x) {
    x = x < -700.0 ? -700.0 : (x > 700.0 ? 700.0 : x);
    const double log2e = 1.4426950408889634074;
    const double ln2_hi = 6.93147180369123816490e-01;  // ln 2 split in two for the reduction
    const double ln2_lo = 1.90821492927058770002e-10;
    const double n = std::nearbyint(x * log2e);
    const double r = (x - n * ln2_hi) - n * ln2_lo;
    double p = 1.0 / 6227020800.0;  // 1/13!
    p = p * r + 1.0 / 479001600.0;
    p = p * r + 1.0 / 39916800.0;
    p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    const int64_t bits = ((int64_t)n + 1023) << 52;
    double scale;
    std::memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

}  // namespace lifsampling

#endif
