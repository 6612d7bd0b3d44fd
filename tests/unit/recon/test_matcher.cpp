// Matching rules 1-4 and 6 of DOMAIN.md "Matching a record to a person", each on its own, in order,
// against a real person index in SQLite, with noisy but realistic OH references.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "esrsync/recon/matcher.hpp"
#include "esrsync/store/schema.hpp"
#include "support/capture.hpp"
#include "support/store.hpp"

namespace esrsync::recon {
namespace {

model::Record person(const std::string& number, const std::string& employee, const std::string& ni,
                     const std::string& nhs, const std::string& surname, const std::string& dob,
                     const std::string& forenames = "Ada", const std::string& previous = "",
                     const std::string& postcode = "") {
  model::Record r;
  r.reset(model::Entity::person);
  r.set("person_number", number);
  r.set("employee_number", employee);
  r.set("ni_number", ni);
  r.set("nhs_number", nhs);
  r.set("surname", surname);
  r.set("forenames", forenames);
  r.set("previous_surname", previous);
  r.set("date_of_birth", dob);
  r.set("postcode", postcode);
  return r;
}

class Matcher : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = test::open_migrated_store(dir_ / "m.db");
    ASSERT_TRUE(db_);
    index_.emplace(*db_);
    add(person("10000001", "E1", "AB123456C", "9434765919", "O'Brien", "1988-03-14"), "245");
    add(person("10000002", "E2", "CE654321A", "9434766281", "Smith-Jones", "1992-11-02"), "245");
    add(person("10000003", "E3", "JG103759B", "", "Kowalski", "1979-05-30"), "245");
    // Employee numbers are per VPD: E3 exists in VPD 300 too.
    add(person("20000003", "E3", "", "", "Kowalski", "1980-01-01"), "300");
    // Two people sharing an NI number by data error, with different surnames.
    add(person("10000008", "E8", "PR771204A", "", "Nowak", "1970-01-01"), "245");
    add(person("10000009", "E9", "PR771204A", "", "Nowakowska", "1970-01-01"), "245");
    // For the scored comparison: accents, hyphens, apostrophes, a married name, twins of a kind.
    add(person("30000001", "E31", "", "", "Ní Bhriain", "1991-07-04", "Siobhán", "", "LS6 1AN"), "245");
    add(person("30000002", "E32", "", "", "Okonkwo-Adeyemi", "1985-12-03", "Chidi"), "245");
    add(person("30000003", "E33", "", "", "Hughes", "1983-02-11", "Megan", "D'Arcy", "CF10 1AA"), "245");
    add(person("30000004", "E34", "", "", "Smith", "1980-01-01", "John"), "245");
    add(person("30000005", "E35", "", "", "Smith", "1980-01-01", "John"), "245");
    add(person("30000006", "E36", "", "", "Patel", "1990-05-06", "Priya"), "245");
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

TEST_F(Matcher, Rule5AccentsCaseHyphensAndApostrophes) {
  // The OH system dropped the accents and wrote the name in capitals; no identifiers at all.
  const auto m = match(ref({{"surname", "NI BHRIAIN"}, {"forenames", "SIOBHAN"}, {"date_of_birth", "1991-07-04"}}));
  EXPECT_TRUE(m.matched);
  EXPECT_EQ(m.person_number, "30000001");
  EXPECT_EQ(m.rule, "match.score");
  EXPECT_GE(m.score, 0.92);
  // A hyphenated name written with a space, forename typo.
  const auto h = match(ref({{"surname", "Okonkwo Adeyemi"}, {"forenames", "Chid"}, {"date_of_birth", "1985-12-03"}}));
  EXPECT_TRUE(h.matched);
  EXPECT_EQ(h.person_number, "30000002");
}

TEST_F(Matcher, Rule5PreviousSurnameAndSwappedDateOfBirth) {
  // OH still has her maiden name, which ESR holds as the previous surname.
  const auto maiden = match(ref({{"surname", "D'Arcy"}, {"forenames", "Megan"}, {"date_of_birth", "1983-02-11"}}));
  EXPECT_TRUE(maiden.matched);
  EXPECT_EQ(maiden.person_number, "30000003");
  // Day and month swapped, nothing else wrong: found through the swapped-date index.
  const auto swapped = match(ref({{"surname", "Patel"}, {"forenames", "Priya"}, {"date_of_birth", "1990-06-05"}}));
  EXPECT_TRUE(swapped.matched);
  EXPECT_EQ(swapped.person_number, "30000006");
  // Swapped date and a misspelt surname: close, but for a human.
  const auto both = match(ref({{"surname", "Patil"}, {"forenames", "Priya"}, {"date_of_birth", "1990-06-05"}}));
  EXPECT_FALSE(both.matched);
  EXPECT_EQ(both.kind, store::ReconKind::possible_match);
  ASSERT_FALSE(both.candidates.empty());
  EXPECT_EQ(both.candidates[0].person_number, "30000006");
}

TEST_F(Matcher, Rule5TwoPeopleSharingANameAndDateOfBirthAreNeverGuessed) {
  const auto m = match(ref({{"surname", "Smith"}, {"forenames", "John"}, {"date_of_birth", "1980-01-01"}}));
  EXPECT_FALSE(m.matched);
  EXPECT_EQ(m.kind, store::ReconKind::possible_match);
  ASSERT_EQ(m.candidates.size(), 2u);
  EXPECT_DOUBLE_EQ(m.candidates[0].score, m.candidates[1].score);
  EXPECT_THAT(m.detail, ::testing::HasSubstr("more than one person"));
}

TEST_F(Matcher, Rule5ADifferentNationalNumberSpeaksAgainstTheCandidate) {
  // Same name and date of birth as 30000006, but an NHS number that is not hers (and not known).
  model::Record r = ref({{"surname", "Patel"}, {"forenames", "Priya"}, {"date_of_birth", "1990-05-06"}});
  EXPECT_TRUE(match(r).matched);
  add(person("30000007", "E37", "", "9434766656", "Patel", "1990-05-06", "Priya"), "245");  // a namesake
  // Without the number the two are indistinguishable: for a human.
  EXPECT_EQ(match(r).kind, store::ReconKind::possible_match);
  // With it, the namesake (whose NHS number differs) drops out; the one without a number on file stays.
  r.set("nhs_number", "9434765870");
  const auto m = match(r);
  EXPECT_TRUE(m.matched);
  EXPECT_EQ(m.person_number, "30000006");
  EXPECT_LT(score(r, *index_->get("30000007").value()), 0.6);
}

TEST_F(Matcher, JaroWinklerKnownValues) {
  EXPECT_NEAR(jaro_winkler("martha", "marhta"), 0.961, 0.001);
  EXPECT_NEAR(jaro_winkler("dixon", "dicksonx"), 0.813, 0.001);
  EXPECT_DOUBLE_EQ(jaro_winkler("", ""), 1.0);
  EXPECT_DOUBLE_EQ(jaro_winkler("abc", ""), 0.0);
  EXPECT_DOUBLE_EQ(jaro_winkler("abc", "xyz"), 0.0);
}

TEST_F(Matcher, NoIdentifierKnownIsNoMatch) {
  const auto m = match(ref({{"surname", "Achterberg"}, {"date_of_birth", "1991-08-15"}}));
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
