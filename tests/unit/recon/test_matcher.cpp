// Matching rules 1-4 and 6 of DOMAIN.md "Matching a record to a person", each on its own, in order,
// against a real person index in SQLite, with noisy but realistic OH references.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "esrsync/recon/matcher.hpp"
#include "esrsync/store/schema.hpp"
#include "support/capture.hpp"

namespace esrsync::recon {
namespace {

model::Record person(const std::string& number, const std::string& employee, const std::string& ni,
                     const std::string& nhs, const std::string& surname, const std::string& dob) {
  model::Record r;
  r.reset(model::Entity::person);
  r.set("person_number", number);
  r.set("employee_number", employee);
  r.set("ni_number", ni);
  r.set("nhs_number", nhs);
  r.set("surname", surname);
  r.set("forenames", "Ada");
  r.set("date_of_birth", dob);
  return r;
}

class Matcher : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = store::SqliteDb::open((dir_ / "m.db").string());
    ASSERT_TRUE(opened);
    db_.emplace(std::move(*opened));
    ASSERT_TRUE(db_->migrate(store::schema_migrations()));
    index_.emplace(*db_);
    add(person("10000001", "E1", "AB123456C", "9434765919", "O'Brien", "1988-03-14"), "245");
    add(person("10000002", "E2", "CE654321A", "9434766281", "Smith-Jones", "1992-11-02"), "245");
    add(person("10000003", "E3", "JG103759B", "", "Kowalski", "1979-05-30"), "245");
    // Employee numbers are per VPD: E3 exists in VPD 300 too.
    add(person("20000003", "E3", "", "", "Kowalski", "1980-01-01"), "300");
    // Two people sharing an NI number by data error, with different surnames.
    add(person("10000008", "E8", "PR771204A", "", "Nowak", "1970-01-01"), "245");
    add(person("10000009", "E9", "PR771204A", "", "Nowakowska", "1970-01-01"), "245");
  }
  void add(const model::Record& r, const std::string& vpd) {
    ASSERT_TRUE(index_->put(store::PersonKeys::from(r, vpd)));
  }
  static model::Record ref(std::initializer_list<std::pair<const char*, const char*>> fields) {
    model::Record r;
    r.reset(model::Entity::immunisation);
    for (const auto& [k, v] : fields)
      r.set(k, v);
    return r;
  }
  MatchResult match(const model::Record& r) {
    auto m = match_person(r, *index_);
    EXPECT_TRUE(m) << m.error().to_string();
    return std::move(*m);
  }

  test::TempDir dir_;
  std::optional<store::SqliteDb> db_;
  std::optional<store::PersonIndex> index_;
};

TEST_F(Matcher, Rule1PersonNumber) {
  const auto m = match(ref({{"person_number", "10000002"}, {"surname", "Somebody Else"}}));
  EXPECT_TRUE(m.matched);
  EXPECT_EQ(m.person_number, "10000002");
  EXPECT_EQ(m.vpd, "245");
  EXPECT_EQ(m.rule, "match.person_number");
}

TEST_F(Matcher, Rule2EmployeeNumberWhenOnePersonHoldsIt) {
  EXPECT_EQ(match(ref({{"employee_number", "E2"}})).rule, "match.employee_number");
  // E3 is held in two VPDs: rule 2 cannot decide, and nothing else identifies the person.
  const auto shared = match(ref({{"employee_number", "E3"}}));
  EXPECT_FALSE(shared.matched);
  EXPECT_EQ(shared.kind, store::ReconKind::no_match);
  EXPECT_EQ(shared.candidates.size(), 2u);
}

TEST_F(Matcher, Rule3NhsNumberWithNothingElse) {
  const auto m = match(ref({{"nhs_number", "9434766281"}, {"surname", "Smith Jones"}}));
  EXPECT_TRUE(m.matched);
  EXPECT_EQ(m.person_number, "10000002");
  EXPECT_EQ(m.rule, "match.nhs_number");
}

TEST_F(Matcher, Rule4NiDobAndFoldedSurname) {
  for (const char* surname : {"O'Brien", "OBRIEN", "o brien",
                              "O\xE2\x80\x99"
                              "Brien"}) {
    const auto m = match(ref({{"ni_number", "AB123456C"}, {"date_of_birth", "1988-03-14"}, {"surname", surname}}));
    EXPECT_TRUE(m.matched) << surname;
    EXPECT_EQ(m.rule, "match.ni_dob_surname") << surname;
  }
  // Day and month swapped, or another surname: rule 4 does not decide; held with the candidate.
  const auto swapped =
      match(ref({{"ni_number", "AB123456C"}, {"date_of_birth", "1988-14-03"}, {"surname", "O'Brien"}}));
  EXPECT_FALSE(swapped.matched);
  ASSERT_EQ(swapped.candidates.size(), 1u);
  EXPECT_EQ(swapped.candidates[0].person_number, "10000001");
  EXPECT_EQ(swapped.candidates[0].rule, "ni_number");
  // A shared NI number: the surname tells the two apart.
  const auto shared =
      match(ref({{"ni_number", "PR771204A"}, {"date_of_birth", "1970-01-01"}, {"surname", "Nowakowska"}}));
  EXPECT_TRUE(shared.matched);
  EXPECT_EQ(shared.person_number, "10000009");
}

TEST_F(Matcher, Rule6IdentifiersOfTwoPersonsAreAConflictWhateverElseMatches) {
  // Person number of one, NHS number of another.
  const auto m = match(ref({{"person_number", "10000001"}, {"nhs_number", "9434766281"}}));
  EXPECT_FALSE(m.matched);
  EXPECT_EQ(m.kind, store::ReconKind::identifier_conflict);
  EXPECT_EQ(m.rule, "match.identifier_conflict");
  EXPECT_EQ(m.candidates.size(), 2u);
  // NI number of one, employee number of another.
  EXPECT_EQ(match(ref({{"employee_number", "E1"}, {"ni_number", "JG103759B"}})).kind,
            store::ReconKind::identifier_conflict);
  // All identifiers agreeing is no conflict.
  EXPECT_TRUE(match(ref({{"person_number", "10000001"},
                         {"employee_number", "E1"},
                         {"nhs_number", "9434765919"},
                         {"ni_number", "AB123456C"}}))
                  .matched);
}

TEST_F(Matcher, NoIdentifierKnownIsNoMatch) {
  const auto m = match(ref({{"surname", "Achterberg"}, {"date_of_birth", "1990-06-05"}}));
  EXPECT_FALSE(m.matched);
  EXPECT_EQ(m.kind, store::ReconKind::no_match);
  EXPECT_EQ(m.rule, "match.none");
  EXPECT_TRUE(m.candidates.empty());
  // An unknown person number is no match either (and not a guess at someone else).
  EXPECT_FALSE(match(ref({{"person_number", "99999999"}})).matched);
  EXPECT_EQ(candidates_json({{"10000001", 0.5, "ni_number"}}),
            "[{\"person_number\":\"10000001\",\"score\":0.500000,\"rule\":\"ni_number\"}]");
}

}  // namespace
}  // namespace esrsync::recon
