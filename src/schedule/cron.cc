#include "schedule/cron.h"

#include <array>
#include <bit>
#include <charconv>
#include <vector>

#include "util/text.h"

namespace backspan::schedule {
namespace {

struct FieldSpec {
  const char* name;
  int min, max;
  const char* const* names;  // names[i] is value min+i ... or null
  int names_base;            // the value of names[0]
  int names_count;
};

constexpr const char* kMonthNames[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                       "jul", "aug", "sep", "oct", "nov", "dec"};
constexpr const char* kDayNames[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

constexpr FieldSpec kFields[5] = {
    {"minute", 0, 59, nullptr, 0, 0},
    {"hour", 0, 23, nullptr, 0, 0},
    {"day-of-month", 1, 31, nullptr, 0, 0},
    {"month", 1, 12, kMonthNames, 1, 12},
    {"day-of-week", 0, 7, kDayNames, 0, 7},  // 7 is Sunday too
};

// Whole wall-clock candidates are searched this far back and ahead of
// `after`: more than any DST shift, so that a repeated hour's later instants
// are not missed.
constexpr int64_t kDstSlackMinutes = 180;
constexpr int64_t kHorizonMinutes = int64_t{30} * 366 * 1440;

Result<int> ParseValue(std::string_view token, const FieldSpec& spec, std::string_view field_text) {
  auto bad = [&](const std::string& why) {
    return Status::InvalidArgument(std::string(spec.name) + " field '" + std::string(field_text) + "': " + why);
  };
  if (token.empty()) return bad("a value is missing");
  int value = 0;
  auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), value);
  if (ec != std::errc() || end != token.data() + token.size()) {
    const std::string lower = AsciiLower(token);
    for (int i = 0; i < spec.names_count; ++i)
      if (lower == spec.names[i]) return spec.names_base + i;
    std::string why = "'";  // built by appends: gcc 12 warns falsely on a chain of +
    why.append(token).append("' is not a number").append(spec.names ? " or a name" : "");
    return bad(why);
  }
  if (value < spec.min || value > spec.max)
    return bad(std::to_string(value) + " is out of range " + std::to_string(spec.min) + "-" + std::to_string(spec.max));
  return value;
}

// The set of values a field allows, as bits.
Result<uint64_t> ParseField(std::string_view text, const FieldSpec& spec) {
  auto bad = [&](const std::string& why) {
    return Status::InvalidArgument(std::string(spec.name) + " field '" + std::string(text) + "': " + why);
  };
  uint64_t bits = 0;
  for (std::string_view item : SplitView(text, ',')) {
    std::string_view range = item;
    int step = 1;
    if (size_t slash = item.find('/'); slash != std::string_view::npos) {
      range = item.substr(0, slash);
      std::string_view step_text = item.substr(slash + 1);
      auto [end, ec] = std::from_chars(step_text.data(), step_text.data() + step_text.size(), step);
      if (ec != std::errc() || end != step_text.data() + step_text.size() || step < 1 || step > spec.max)
        return bad("step '" + std::string(step_text) + "' must be a number from 1 to " + std::to_string(spec.max));
    }
    int lo = spec.min, hi = spec.max;
    if (range == "*") {
      if (spec.max == 7) hi = 6;  // "*" in day-of-week: Sunday once
    } else if (size_t dash = range.find('-'); dash != std::string_view::npos) {
      auto a = ParseValue(range.substr(0, dash), spec, text);
      if (!a.ok()) return a.status();
      auto b = ParseValue(range.substr(dash + 1), spec, text);
      if (!b.ok()) return b.status();
      lo = *a, hi = *b;
      if (lo > hi) return bad("range " + std::string(range) + " runs backwards");
    } else {
      auto a = ParseValue(range, spec, text);
      if (!a.ok()) return a.status();
      lo = *a;
      hi = item.find('/') != std::string_view::npos ? spec.max : *a;  // "5/15" is 5-max/15, as cron reads it
    }
    for (int v = lo; v <= hi; v += step) bits |= uint64_t{1} << v;
  }
  if (spec.max == 7 && (bits & (uint64_t{1} << 7))) bits = (bits | 1) & ~(uint64_t{1} << 7);
  if (!bits) return bad("it allows no value");
  return bits;
}

std::string_view Macro(std::string_view text) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 8> kMacros = {{
      {"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"},
      {"@weekly", "0 0 * * 0"}, {"@daily", "0 0 * * *"},    {"@midnight", "0 0 * * *"},
      {"@hourly", "0 * * * *"}, {"", ""},
  }};
  for (const auto& [name, expansion] : kMacros)
    if (!name.empty() && text == name) return expansion;
  return {};
}

// The lowest set bit at or above `from`, or -1.
int NextBit(uint64_t bits, int from) {
  if (from >= 64) return -1;
  const uint64_t rest = bits & (~uint64_t{0} << from);
  return rest ? std::countr_zero(rest) : -1;
}

}  // namespace

Result<CronExpression> CronExpression::Parse(std::string_view input) {
  CronExpression e;
  e.text_ = std::string(Trim(input));
  std::string_view text = e.text_;
  if (!text.empty() && text.front() == '@') {
    text = Macro(AsciiLower(text));
    if (text.empty())
      return Status::InvalidArgument("'" + e.text_ +
                                     "' is not a cron macro (@hourly, @daily, @weekly, @monthly, @yearly)");
  }
  std::vector<std::string_view> fields;
  for (std::string_view f : SplitView(text, ' '))
    if (!f.empty()) fields.push_back(f);
  if (fields.size() != 5)
    return Status::InvalidArgument("cron expression '" + e.text_ + "' has " + std::to_string(fields.size()) +
                                   " fields; it needs 5: minute hour day-of-month month day-of-week");
  std::array<uint64_t, 5> bits{};
  for (size_t i = 0; i < 5; ++i) {
    auto b = ParseField(fields[i], kFields[i]);
    if (!b.ok()) return b.status();
    bits[i] = *b;
  }
  e.minutes_ = bits[0];
  e.hours_ = uint32_t(bits[1]);
  e.days_ = uint32_t(bits[2]);
  e.months_ = uint16_t(bits[3]);
  e.weekdays_ = uint8_t(bits[4]);
  e.day_of_month_star_ = fields[2].front() == '*';
  e.day_of_week_star_ = fields[4].front() == '*';
  e.fixed_time_ = fields[0].front() != '*' && fields[1].front() != '*';
  // 2000-01-01: a span of 30 years holds every day of month in every month.
  if (!e.NextMatchingMinute(CivilMinute{2000, 1, 1, 0, 0, 6}.Ordinal(), kHorizonMinutes))
    return Status::InvalidArgument("cron expression '" + e.text_ + "' never matches a real date");
  return e;
}

bool CronExpression::DayMatches(const CivilMinute& c) const {
  const bool dom = days_ >> c.day & 1, dow = weekdays_ >> c.weekday & 1;
  if (day_of_month_star_ || day_of_week_star_) return dom && dow;
  return dom || dow;
}

bool CronExpression::Matches(const CivilMinute& c) const {
  return (months_ >> c.month & 1) && DayMatches(c) && (hours_ >> c.hour & 1) && (minutes_ >> c.minute & 1);
}

std::optional<int64_t> CronExpression::NextMatchingMinute(int64_t ordinal, int64_t horizon_minutes) const {
  const int64_t limit = ordinal + horizon_minutes;
  while (ordinal <= limit) {
    const CivilMinute c = CivilMinute::FromOrdinal(ordinal);
    const int64_t day_start = ordinal - (c.hour * 60 + c.minute);
    if (!(months_ >> c.month & 1)) {
      CivilMinute next{c.month == 12 ? c.year + 1 : c.year, c.month == 12 ? 1 : c.month + 1, 1, 0, 0};
      ordinal = next.Ordinal();
      continue;
    }
    if (!DayMatches(c)) {
      ordinal = day_start + 1440;
      continue;
    }
    const int hour = NextBit(hours_, c.hour);
    if (hour < 0) {
      ordinal = day_start + 1440;
      continue;
    }
    const int from_minute = hour == c.hour ? c.minute : 0;
    const int minute = NextBit(minutes_, from_minute);
    if (minute < 0) {
      ordinal = day_start + (hour + 1) * 60;
      continue;
    }
    return day_start + hour * 60 + minute;
  }
  return std::nullopt;
}

std::optional<int64_t> CronExpression::Next(int64_t after, const TimeZone& zone) const {
  // Away from DST changes wall-clock order is time order, and the first
  // matching minute after `after` is the answer: the same offset three hours
  // before, at `after` and at the candidate, within a week (changes are
  // months apart), leaves no repeated or skipped time between them.
  const int64_t offset = zone.OffsetAt(after);
  if (auto first = NextMatchingMinute(zone.ToCivil(after).Ordinal() + 1, kHorizonMinutes)) {
    const CivilMapping m = zone.FromCivil(CivilMinute::FromOrdinal(*first));
    if (m.kind == CivilMapping::kUnique && m.first > after && m.first - after <= 7 * 86400 &&
        zone.OffsetAt(m.first) == offset && zone.OffsetAt(after - kDstSlackMinutes * 60) == offset)
      return m.first;
  }
  // Wall-clock candidates in wall-clock order are not in time order across a
  // repeated hour, so look from a little before `after`'s wall time and keep
  // the earliest instant after it.
  int64_t ordinal = zone.ToCivil(after).Ordinal() - kDstSlackMinutes;
  std::optional<int64_t> best;
  int64_t best_ordinal = 0;
  for (;;) {
    auto found = NextMatchingMinute(ordinal, kHorizonMinutes);
    if (!found || (best && *found > best_ordinal + kDstSlackMinutes)) break;
    const CivilMapping m = zone.FromCivil(CivilMinute::FromOrdinal(*found));
    int64_t candidates[2];
    int n = 0;
    if (m.kind != CivilMapping::kSkipped || fixed_time_) candidates[n++] = m.first;
    if (m.kind == CivilMapping::kRepeated && !fixed_time_) candidates[n++] = m.second;
    for (int i = 0; i < n; ++i)
      if (candidates[i] > after && (!best || candidates[i] < *best)) best = candidates[i], best_ordinal = *found;
    ordinal = *found + 1;
  }
  return best;
}

}  // namespace backspan::schedule
