// The rate and ETA of a long pass over rows (backfill, copy, verify), computed one way for every
// progress report. Arithmetic only: no clock, no I/O.
#pragma once

#include <algorithm>
#include <cstdint>

namespace zerodown {

struct RowRate {
  double rows_per_second = 0;
  double eta_seconds = 0;  // 0 while the rate is unknown
};

// `done` of about `total` rows after `seconds` of this run, `done_at_start` of them already done
// when it (re)started: the rate counts only this run's rows (a resumed pass would otherwise look
// faster than it is); the ETA is never negative, as `total` is an estimate `done` may pass.
inline RowRate RateOf(std::int64_t done_at_start, std::int64_t done, std::int64_t total,
                      double seconds) {
  RowRate rate;
  if (seconds > 0) rate.rows_per_second = static_cast<double>(done - done_at_start) / seconds;
  if (rate.rows_per_second > 0) {
    rate.eta_seconds =
        std::max<double>(0, static_cast<double>(total - done) / rate.rows_per_second);
  }
  return rate;
}

}  // namespace zerodown
