// The derived per-antigen status (DOMAIN.md: most recent serology wins over older doses; a
// NON_IMMUNE after an IMMUNE is flagged).

#include <gtest/gtest.h>

#include "esrsync/recon/status.hpp"

namespace esrsync::recon {
namespace {

store::PersonEvent ev(const std::string& key, const std::string& antigen, const std::string& kind,
                      const std::string& status, const std::string& date) {
  return store::PersonEvent{key, antigen, kind, status, date};
}

const AntigenStatus& of(const std::vector<AntigenStatus>& all, const std::string& antigen) {
  for (const auto& s : all) {
    if (s.antigen == antigen) return s;
  }
  static const AntigenStatus none;
  return none;
}

TEST(DerivedStatus, MostRecentSerologyWinsOverOlderDoses) {
  const auto all = derive_status({ev("P:1", "HEPB", "vaccination", "COMPLETED", "2025-01-01"),
                                  ev("P:2", "HEPB", "vaccination", "COMPLETED", "2025-02-01"),
                                  ev("P:3", "HEPB", "vaccination", "COMPLETED", "2025-07-01"),
                                  ev("P:4", "HEPB", "serology", "IMMUNE", "2025-09-01")});
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].status, "IMMUNE");
  EXPECT_EQ(all[0].basis, "P:4");
  EXPECT_EQ(all[0].doses, 3);
  EXPECT_FALSE(all[0].flagged);
}

TEST(DerivedStatus, DosesAloneAndDosesAfterANegativeTest) {
  const auto all = derive_status({ev("P:1", "MMR_MEASLES", "vaccination", "COMPLETED", "2001-05-01"),
                                  ev("P:2", "MMR_MEASLES", "vaccination", "COMPLETED", "2004-05-01"),
                                  ev("P:3", "VARICELLA", "serology", "NON_IMMUNE", "2026-01-10"),
                                  ev("P:4", "VARICELLA", "vaccination", "COMPLETED", "2026-02-10")});
  EXPECT_EQ(of(all, "MMR_MEASLES").status, "VACCINATED");
  EXPECT_EQ(of(all, "MMR_MEASLES").doses, 2);
  EXPECT_EQ(of(all, "VARICELLA").status, "VACCINATED");  // vaccinated since the negative test
  EXPECT_EQ(of(all, "VARICELLA").basis, "P:4");
}

TEST(DerivedStatus, RegressionIsFlaggedAndTheLatestResultStands) {
  const auto all = derive_status({ev("P:2", "VARICELLA", "serology", "NON_IMMUNE", "2026-02-01"),
                                  ev("P:1", "VARICELLA", "serology", "IMMUNE", "2025-01-10")});
  EXPECT_EQ(all[0].status, "NON_IMMUNE");
  EXPECT_TRUE(all[0].flagged);
  // The other way round is a conversion, not a regression.
  const auto up = derive_status({ev("P:1", "HEPB", "serology", "NON_IMMUNE", "2025-01-10"),
                                 ev("P:2", "HEPB", "serology", "IMMUNE", "2026-02-01")});
  EXPECT_EQ(up[0].status, "IMMUNE");
  EXPECT_FALSE(up[0].flagged);
}

TEST(DerivedStatus, ScreeningAndRefusals) {
  const auto all = derive_status({ev("P:1", "TB", "screening", "COMPLETED", "2026-07-20"),
                                  ev("P:2", "INFLUENZA", "vaccination", "DECLINED", "2025-10-01")});
  EXPECT_EQ(of(all, "TB").status, "SCREENED");
  EXPECT_EQ(of(all, "INFLUENZA").status, "DECLINED");
  EXPECT_TRUE(derive_status({}).empty());
}

}  // namespace
}  // namespace esrsync::recon
