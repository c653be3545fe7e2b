// Report arithmetic: windows follow the phase marks, TPS is per second of window, and the
// transactions lost during a change are TPS before × change duration − transactions done.
#include "zerodown/load/report.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace zerodown::load {
namespace {

Tally Steady(std::uint64_t transactions, std::uint64_t micros) {
  Tally tally;
  for (std::uint64_t i = 0; i < transactions; ++i) tally.Record(micros, "");
  return tally;
}

TEST(ReportTest, LostTransactionsAreBeforeRateTimesChangeMinusDone) {
  // 10 s at 100 TPS, a 4 s change at 50 TPS with one 2.5 s stall, 6 s after at 100 TPS.
  Tally during = Steady(200, 5'000);
  during.Record(2'500'000, "");
  during.Record(30'000, "40P01");
  std::vector<Segment> segments = {
      {0, 10, Steady(1000, 4'000)}, {10, 14, during}, {14, 20, Steady(600, 4'000)}};
  std::vector<PhaseMark> marks = {{"start", 10}, {"end", 14}};
  auto report = BuildReport(segments, marks, {}).value();
  ASSERT_TRUE(report.has_change);
  EXPECT_DOUBLE_EQ(report.before.tps, 100);
  EXPECT_DOUBLE_EQ(report.during.duration_s(), 4);
  EXPECT_EQ(report.during.transactions, 201u);
  EXPECT_DOUBLE_EQ(report.lost_transactions, 100.0 * 4 - 201);
  EXPECT_NEAR(report.during_tps_percent, 100.0 * (201 / 4.0) / 100.0, 1e-9);
  EXPECT_EQ(report.during.failed, 1u);
  EXPECT_EQ(report.during.errors.at("40P01"), 1u);
  EXPECT_EQ(report.during.slow, 1u);
  EXPECT_NEAR(report.during.max_ms, 2500, 1e-9);
  EXPECT_DOUBLE_EQ(report.after.tps, 100);
  EXPECT_EQ(report.total.transactions, 1000u + 201 + 600);
  EXPECT_DOUBLE_EQ(report.total.duration_s(), 20);
}

TEST(ReportTest, DuringSpansFirstToLastMarkThroughInnerPhases) {
  std::vector<Segment> segments = {{0, 5, Steady(500, 1000)},
                                   {5, 6, Steady(50, 1000)},
                                   {6, 9, Steady(90, 1000)},
                                   {9, 10, Steady(100, 1000)}};
  std::vector<PhaseMark> marks = {{"start", 5}, {"backfill", 6}, {"end", 9}};
  auto report = BuildReport(segments, marks, {}).value();
  EXPECT_DOUBLE_EQ(report.during.begin_s, 5);
  EXPECT_DOUBLE_EQ(report.during.end_s, 9);
  EXPECT_EQ(report.during.transactions, 140u);
  EXPECT_DOUBLE_EQ(report.lost_transactions, 100.0 * 4 - 140);

  auto backfill = BuildReport(segments, marks, {}, {"backfill", "end"}).value();
  EXPECT_DOUBLE_EQ(backfill.during.duration_s(), 3);
  EXPECT_EQ(backfill.before.transactions, 550u);
  EXPECT_DOUBLE_EQ(backfill.before.tps, 550.0 / 6);
}

TEST(ReportTest, OneMarkMeansTheChangeRunsToTheEnd) {
  std::vector<Segment> segments = {{0, 4, Steady(400, 1000)}, {4, 10, Steady(300, 1000)}};
  auto report = BuildReport(segments, {{"start", 4}}, {}).value();
  EXPECT_DOUBLE_EQ(report.during.duration_s(), 6);
  EXPECT_DOUBLE_EQ(report.after.duration_s(), 0);
  EXPECT_DOUBLE_EQ(report.lost_transactions, 600 - 300);
}

TEST(ReportTest, NoMarksMeansNoChange) {
  auto report = BuildReport({{0, 3, Steady(30, 1000)}}, {}, {}).value();
  EXPECT_FALSE(report.has_change);
  EXPECT_DOUBLE_EQ(report.total.tps, 10);
  EXPECT_DOUBLE_EQ(report.lost_transactions, 0);
}

TEST(ReportTest, UnknownOrReversedMarksAreUsageErrors) {
  std::vector<Segment> segments = {{0, 1, {}}, {1, 2, {}}, {2, 3, {}}};
  std::vector<PhaseMark> marks = {{"start", 1}, {"end", 2}};
  auto missing = BuildReport(segments, marks, {}, {"cutover", ""});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind(), ErrorKind::kUsage);
  EXPECT_FALSE(BuildReport(segments, marks, {}, {"end", "start"}).ok());
  EXPECT_EQ(BuildReport({{0, 1, {}}}, marks, {}).error().kind(), ErrorKind::kInternal);
}

TEST(ReportTest, JsonRoundTripKeepsFigures) {
  std::vector<Segment> segments = {
      {0, 10, Steady(1000, 4'000)}, {10, 12, Steady(50, 9'000)}, {12, 20, Steady(800, 4'000)}};
  SecondStats second;
  second.index = 3;
  second.transactions = 99;
  second.errors["57014"] = 2;
  second.max_ms = 12.5;
  auto report = BuildReport(segments, {{"start", 10}, {"end", 12}}, {second}).value();
  report.label = "(b) native ALTER";
  auto back = ReportFromJson(ToJson(report)).value();
  EXPECT_EQ(back.label, report.label);
  EXPECT_DOUBLE_EQ(back.lost_transactions, report.lost_transactions);
  EXPECT_DOUBLE_EQ(back.during.duration_s(), 2);
  EXPECT_EQ(back.timeline.at(0).errors.at("57014"), 2u);
  EXPECT_EQ(back.phases.at(1).name, "end");
  EXPECT_FALSE(ReportFromJson(nlohmann::json{{"windows", 3}}).ok());
}

TEST(ReportTest, RenderersNameTheFigures) {
  std::vector<Segment> segments = {
      {0, 10, Steady(1000, 4'000)}, {10, 12, Steady(50, 9'000)}, {12, 20, Steady(800, 4'000)}};
  auto report = BuildReport(segments, {{"start", 10}, {"end", 12}}, {}).value();
  report.label = "a<b";
  std::string table = RenderTable(report);
  EXPECT_NE(table.find("transactions lost during the change: 150"), std::string::npos) << table;
  std::string svg = RenderSvg(report);
  EXPECT_NE(svg.find("a&lt;b"), std::string::npos);
  EXPECT_NE(svg.find(">end</text>"), std::string::npos);
  LoadReport missing;
  missing.label = "(e) zerodown, SQL";
  missing.note = "not available yet";
  std::string rows = RenderComparison({report, missing});
  EXPECT_NE(rows.find("not available yet"), std::string::npos) << rows;
}

TEST(ReportTest, TheSlowestTransactionsRoundTripAndNameTheirPhase) {
  std::vector<Segment> segments = {{0, 10, Steady(1000, 4'000)},
                                   {10, 11, Steady(30, 9'000)},
                                   {11, 12, Steady(20, 9'000)},
                                   {12, 20, Steady(800, 4'000)}};
  auto report = BuildReport(segments, {{"start", 10}, {"swap", 11}, {"end", 12}}, {}).value();
  report.label = "(e) zerodown shadow copy";
  report.slowest = {{11.25, 101.5, "UPDATE pgbench_accounts SET abalance = ...", 97.0, ""},
                    {3.5, 40.0, "UPDATE pgbench_branches SET ...", 39.0, "40P01"}};
  auto back = ReportFromJson(ToJson(report)).value();
  ASSERT_EQ(back.slowest.size(), 2u);
  EXPECT_DOUBLE_EQ(back.slowest[0].began_s, 11.25);
  EXPECT_DOUBLE_EQ(back.slowest[0].statement_ms, 97.0);
  EXPECT_EQ(back.slowest[1].sqlstate, "40P01");
  std::string lines = RenderSlowest({back});
  EXPECT_NE(lines.find("(e)"), std::string::npos) << lines;
  EXPECT_NE(lines.find("101.5 ms at  11.25 s (swap): 97.0 ms in UPDATE pgbench_accounts"),
            std::string::npos)
      << lines;
  EXPECT_NE(lines.find("(before the change)"), std::string::npos) << lines;
  EXPECT_NE(lines.find("failed 40P01"), std::string::npos) << lines;
  EXPECT_NE(RenderTable(back).find("slowest transactions"), std::string::npos);
  // Reports saved before the list existed read as having none.
  nlohmann::json old = ToJson(report);
  old.erase("slowest");
  EXPECT_TRUE(ReportFromJson(old).value().slowest.empty());
  EXPECT_EQ(RenderSlowest({ReportFromJson(old).value()}), "");
}

TEST(ReportTest, AStoppedCommandKeepsItsFiguresUnderItsNote) {
  std::vector<Segment> segments = {
      {0, 10, Steady(1000, 4'000)}, {10, 12, Steady(50, 9'000)}, {12, 20, Steady(800, 4'000)}};
  auto stopped = BuildReport(segments, {{"start", 10}, {"end", 12}}, {}).value();
  stopped.label = "(c) pg_repack";
  stopped.note = "did not finish within 2 s (stopped)";
  std::string rows = RenderComparison({stopped});
  std::size_t row = rows.find("(c) pg_repack");
  ASSERT_NE(row, std::string::npos) << rows;
  EXPECT_NE(rows.find("150", row), std::string::npos) << rows;  // its lost transactions
  EXPECT_GT(rows.find("did not finish within 2 s"), row) << rows;
}

// 100 TPS for 10 s, then a change of `seconds` that did `done` transactions of `micros` each,
// then 100 TPS again up to 20 s.
LoadReport ChangeOf(std::string label, double seconds, std::uint64_t done, std::uint64_t micros) {
  double end = 10 + seconds;
  std::vector<Segment> segments = {
      {0, 10, Steady(1000, 4'000)}, {10, end, Steady(done, micros)}, {end, 20, Steady(800, 4'000)}};
  auto report = BuildReport(segments, {{"start", 10}, {"end", end}}, {}).value();
  report.label = std::move(label);
  return report;
}

LoadReport TwoSecondChange(std::string label) { return ChangeOf(std::move(label), 2, 50, 9'000); }

// The line of `table` that starts with `label`.
std::string RowOf(const std::string& table, const std::string& label) {
  std::size_t at = table.find("\n" + label);
  if (at == std::string::npos) return "";
  return table.substr(at + 1, table.find('\n', at + 1) - at - 1);
}

// The application alone: 100 TPS before, 400 TPS in the 2-second window TwoSecondChange's
// change has too.
LoadReport NoChangeBaseline() {
  LoadReport baseline = ChangeOf("(a) no change", 2, 800, 4'000);
  baseline.baseline = true;
  return baseline;
}

TEST(ReportTest, CutoverLockAndRssRoundTripAndAbsentMeansUnknown) {
  LoadReport report = TwoSecondChange("(e) shadow");
  report.cutover_lock_ms = 12.5;
  report.command_max_rss_kb = 30720;
  auto json = ToJson(report);
  EXPECT_DOUBLE_EQ(json.at("cutover_lock_ms").get<double>(), 12.5);
  auto back = ReportFromJson(json).value();
  ASSERT_TRUE(back.cutover_lock_ms.has_value());
  EXPECT_DOUBLE_EQ(*back.cutover_lock_ms, 12.5);
  EXPECT_EQ(back.command_max_rss_kb, 30720);

  // Unknown is written as null and read back as unknown; reports saved before the fields
  // existed have no key at all and read as unknown too.
  LoadReport unknown = TwoSecondChange("(c) pg_repack");
  auto unknown_json = ToJson(unknown);
  EXPECT_TRUE(unknown_json.at("cutover_lock_ms").is_null());
  EXPECT_FALSE(ReportFromJson(unknown_json).value().cutover_lock_ms.has_value());
  unknown_json.erase("cutover_lock_ms");
  unknown_json.erase("command_max_rss_kb");
  auto old = ReportFromJson(unknown_json).value();
  EXPECT_FALSE(old.cutover_lock_ms.has_value());
  EXPECT_FALSE(old.command_max_rss_kb.has_value());
  EXPECT_FALSE(ReportFromJson(nlohmann::json{{"cutover_lock_ms", "soon"}}).ok());
}

TEST(ReportTest, ComparisonHasALockColumnWithDashWhenUnknown) {
  LoadReport alter = TwoSecondChange("(b) ALTER");
  alter.cutover_lock_ms = 2000;
  LoadReport shadow = TwoSecondChange("(e) shadow");
  shadow.cutover_lock_ms = 12.5;
  shadow.command_max_rss_kb = 30720;
  LoadReport repack = TwoSecondChange("(c) pg_repack");
  std::string table = RenderComparison({alter, shadow, repack});
  std::string header = table.substr(0, table.find('\n'));
  EXPECT_NE(header.find("lost tx   lock ms  tool MB"), std::string::npos) << table;
  // The lock column sits under its header: right-aligned at the header's end.
  std::size_t lock_end = header.find("lock ms") + std::string("lock ms").size();
  std::string alter_row = RowOf(table, "(b) ALTER");
  EXPECT_EQ(alter_row.substr(lock_end - 6, 6), "2000.0") << table;
  std::string shadow_row = RowOf(table, "(e) shadow");
  EXPECT_EQ(shadow_row.substr(lock_end - 4, 4), "12.5") << table;
  EXPECT_TRUE(shadow_row.ends_with(" 30")) << table;
  std::string repack_row = RowOf(table, "(c) pg_repack");
  EXPECT_EQ(repack_row.substr(lock_end - 1, 1), "-") << table;
  EXPECT_TRUE(repack_row.ends_with(" -")) << table;

  EXPECT_NE(RenderTable(shadow).find("cut-over: ACCESS EXCLUSIVE held 12.5 ms"), std::string::npos);
  EXPECT_EQ(RenderTable(repack).find("cut-over"), std::string::npos);
}

TEST(ReportTest, ABaselineAddsLostTransactionsAgainstItsSteadyRate) {
  LoadReport baseline = NoChangeBaseline();           // 400 TPS in its 2-second change window
  LoadReport change = TwoSecondChange("(e) shadow");  // 100 TPS before, 50 done in 2 s
  std::string rows = RenderComparison({change, baseline});
  ASSERT_NE(rows.find("lost@base"), std::string::npos) << rows;
  std::string row = RowOf(rows, "(e) shadow");
  // 400 x 2 - 50 against the baseline, beside 100 x 2 - 50 against its own "before".
  EXPECT_NE(row.find(" 750"), std::string::npos) << rows;
  EXPECT_NE(row.find(" 150 "), std::string::npos) << rows;
  EXPECT_TRUE(ReportFromJson(ToJson(baseline)).value().baseline);
  EXPECT_EQ(RenderComparison({change}).find("lost@base"), std::string::npos);
}

TEST(ReportTest, RatiosPutEachChangeAgainstTheReferenceRowOfTheSameRun) {
  // pg_repack: 100 TPS before, 50 done in its 2-s change, max 9 ms (Steady's latency).
  LoadReport repack = TwoSecondChange("(c) pg_repack");
  // A change as long, as costly and with the same latency, and one twice as long that did 150.
  LoadReport same = TwoSecondChange("(e) shadow");
  LoadReport longer = ChangeOf("(f) plain SQL", 4, 150, 18'000);

  std::string own = RenderRatios({repack, same, longer}, "c");
  EXPECT_NE(own.find("against (c) pg_repack in the same run"), std::string::npos) << own;
  EXPECT_NE(own.find("lost tx"), std::string::npos) << own;
  EXPECT_EQ(own.find("max / no-change"), std::string::npos) << own;
  // Lost against its own "before" (100 TPS): (e) 150 against 150, (f) 400 - 150 = 250.
  EXPECT_EQ(RowOf(own, "(e)"), "(e)           1.00x      1.00x    1.00x") << own;
  EXPECT_EQ(RowOf(own, "(f)"), "(f)           2.00x      1.67x    2.00x") << own;
  EXPECT_EQ(RowOf(own, "(c)"), "") << "the reference has no row of its own";

  // With a baseline at 400 TPS: lost@base (e) 800 - 50 = 750 against the same, (f) 1600 - 150.
  LoadReport baseline = NoChangeBaseline();
  std::string based = RenderRatios({repack, same, longer, baseline}, "(c)");
  EXPECT_NE(based.find("lost@base"), std::string::npos) << based;
  EXPECT_NE(based.find("max / no-change"), std::string::npos) << based;
  std::string row = RowOf(based, "(f)");
  EXPECT_NE(row.find(" 1.93x "), std::string::npos) << based;  // 1450 / 750
  EXPECT_TRUE(row.ends_with(fmt::format("{:.2f}x", longer.during.max_ms / baseline.during.max_ms)))
      << based;
  EXPECT_EQ(RowOf(based, "(a)"), "") << "the baseline is the measure, not a change";

  EXPECT_EQ(RenderRatios({same, longer}, "(c)"), "") << "no such row";
}

// Seconds 0-9 before the change (slowest 20 ms), a copy over 10-14 with one 90-ms second, a
// swap mark at 14.4 whose second holds a 60-ms transaction, the end at 14.6.
std::vector<SecondStats> Seconds(const std::map<int, double>& peaks) {
  std::vector<SecondStats> timeline;
  for (int i = 0; i < 20; ++i) {
    SecondStats second;
    second.index = i;
    auto peak = peaks.find(i);
    second.max_ms = peak == peaks.end() ? 20 : peak->second;
    timeline.push_back(second);
  }
  return timeline;
}

TEST(ReportTest, PeaksByPhaseCountTheSecondsEachPhaseOverlapsAboveTheReference) {
  std::vector<Segment> segments = {{0, 10, Steady(1000, 20'000)},
                                   {10, 14.4, Steady(400, 9'000)},
                                   {14.4, 14.6, Steady(10, 9'000)},
                                   {14.6, 20, Steady(500, 4'000)}};
  std::vector<PhaseMark> marks = {{"copy", 10}, {"swap", 14.4}, {"end", 14.6}};
  auto change = BuildReport(segments, marks, Seconds({{12, 90}, {14, 60}})).value();
  change.label = "(e) shadow copy";
  std::string own = RenderPeaksByPhase({change});
  EXPECT_NE(own.find("than the max before the change"), std::string::npos) << own;
  // copy: seconds 10-14, two above 20 ms (the 90 and the 60 its last second shares with swap).
  EXPECT_NE(own.find("(e)       (the whole change)         4.6     2/5        90.0"),
            std::string::npos)
      << own;
  EXPECT_NE(own.find("          copy                       4.4     2/5        90.0"),
            std::string::npos)
      << own;
  EXPECT_NE(own.find("          swap                       0.2     1/1        60.0"),
            std::string::npos)
      << own;

  auto baseline = BuildReport({{0, 10, Steady(1000, 4'000)},
                               {10, 14.6, Steady(4600, 4'000)},
                               {14.6, 20, Steady(1000, 4'000)}},
                              {{"start", 10}, {"end", 14.6}}, Seconds({{11, 70}}))
                      .value();
  baseline.label = "(a) no change";
  baseline.baseline = true;
  baseline.during.max_ms = 70;
  std::string against = RenderPeaksByPhase({baseline, change});
  EXPECT_NE(against.find("than the baseline's max, 70.0 ms"), std::string::npos) << against;
  EXPECT_NE(against.find("copy                       4.4     1/5"), std::string::npos) << against;
  EXPECT_NE(against.find("swap                       0.2     0/1"), std::string::npos) << against;
  EXPECT_EQ(against.find("(a)"), std::string::npos) << "the baseline has no phases of its own";
  EXPECT_EQ(RenderPeaksByPhase({baseline}), "");
}

}  // namespace
}  // namespace zerodown::load
