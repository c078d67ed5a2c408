#include "lib/metrics/steady.h"

#include <cmath>

namespace cabench {

bool SteadyRule::Add(double rate_pct) {
  rates_[0] = rates_[1];
  rates_[1] = rates_[2];
  rates_[2] = rate_pct;
  return rates_[0] >= 0 && std::abs(rates_[2] - rates_[1]) < steady_pct_ &&
         std::abs(rates_[1] - rates_[0]) < steady_pct_;
}

std::optional<size_t> SteadyStart(const std::vector<double>& rates, double steady_pct) {
  SteadyRule rule(steady_pct);
  for (size_t i = 0; i < rates.size(); ++i) {
    if (rule.Add(rates[i])) return i;
  }
  return std::nullopt;
}

}  // namespace cabench
