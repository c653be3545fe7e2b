#include "zerodown/flags/bucket.hpp"

#include <fmt/format.h>
#include <murmurhash.h>

#include <charconv>
#include <optional>

namespace zerodown::flags {

std::uint32_t Murmur3X86_32(std::string_view bytes, std::uint32_t seed) {
  // libmurmurhash reads the blocks little-endian on any host, which is what freezes the function
  // across platforms (the reference reads them in host order).
  std::uint32_t out[1] = {0};
  lmmh_x86_32(bytes.data(), static_cast<unsigned int>(bytes.size()), seed, out);
  return out[0];
}

int BucketOfHash(std::uint32_t hash) {
  return static_cast<int>((static_cast<std::uint64_t>(hash) * kBuckets) >> 32);
}

int Bucket(std::string_view flag_name, std::string_view user_id) {
  std::string text;
  text.reserve(flag_name.size() + 1 + user_id.size());
  text.append(flag_name).append(":").append(user_id);
  return BucketOfHash(Murmur3X86_32(text));
}

namespace {

Error BadRollout(std::string_view text, std::string_view why) {
  return Error(ErrorKind::kUsage, fmt::format("rollout \"{}\" {}", text, why),
               "Give a percentage from 0% to 100% in steps of 0.01%, e.g. --rollout 10% or "
               "--rollout 0.25%.");
}

// Whole digits of `text` as a number; none if empty, not all digits or absurdly long.
std::optional<int> Digits(std::string_view text) {
  if (text.empty() || text.size() > 6) return std::nullopt;
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace

Result<int> ParseRollout(std::string_view text) {
  std::string_view number = text;
  if (!number.empty() && number.back() == '%') number.remove_suffix(1);
  std::string_view whole = number.substr(0, number.find('.'));
  std::string_view fraction;
  if (whole.size() < number.size()) fraction = number.substr(whole.size() + 1);
  if (whole.find_first_not_of("0123456789") != std::string_view::npos ||
      fraction.find_first_not_of("0123456789") != std::string_view::npos ||
      (whole.empty() && fraction.empty()) || (whole.size() < number.size() && fraction.empty())) {
    return BadRollout(text, "is not a percentage");
  }
  // Trailing zeros past the hundredths say nothing finer: "0.250%" is 0.25%.
  while (fraction.size() > 2 && fraction.back() == '0') fraction.remove_suffix(1);
  if (fraction.size() > 2) return BadRollout(text, "is finer than the 0.01% a bucket holds");
  std::optional<int> units = whole.empty() ? std::optional<int>(0) : Digits(whole);
  if (!units || *units > 100) return BadRollout(text, "is above 100%");
  std::string hundredths(fraction);
  hundredths.resize(2, '0');
  int basis_points = *units * 100 + *Digits(hundredths);
  if (basis_points > kFullRollout) return BadRollout(text, "is above 100%");
  return basis_points;
}

std::string FormatRollout(int basis_points) {
  int units = basis_points / 100;
  int hundredths = basis_points % 100;
  if (hundredths == 0) return fmt::format("{}%", units);
  if (hundredths % 10 == 0) return fmt::format("{}.{}%", units, hundredths / 10);
  return fmt::format("{}.{:02}%", units, hundredths);
}

}  // namespace zerodown::flags
