// Name folding for matching rule 4 (DOMAIN.md: "normalised surname (case, accents, spaces,
// hyphens, apostrophes folded)").

#include <gtest/gtest.h>

#include "esrsync/model/names.hpp"

namespace esrsync::model {
namespace {

TEST(FoldName, CaseSpacesHyphensAndApostrophesFold) {
  EXPECT_EQ(fold_name("O'Brien"), "obrien");
  EXPECT_EQ(fold_name("o brien"), "obrien");
  EXPECT_EQ(fold_name("OBRIEN"), "obrien");
  EXPECT_EQ(fold_name("O\xE2\x80\x99"
                      "Brien"),
            "obrien");  // typographic apostrophe
  EXPECT_EQ(fold_name("Smith-Jones"), "smithjones");
  EXPECT_EQ(fold_name(" Smith - Jones "), "smithjones");
  EXPECT_EQ(fold_name("St. John"), "stjohn");
}

TEST(FoldName, AccentsFoldToTheirBaseLetters) {
  EXPECT_EQ(fold_name("Zoë"), "zoe");
  EXPECT_EQ(fold_name("ZOË"), "zoe");
  EXPECT_EQ(fold_name("Müller"), "muller");
  EXPECT_EQ(fold_name("Łukasz Wałęsa"), "lukaszwalesa");
  EXPECT_EQ(fold_name("Ødegård"), "odegard");
  EXPECT_EQ(fold_name("Strauß"), "strauss");
  EXPECT_EQ(fold_name("Æthelred"), "aethelred");
  EXPECT_EQ(fold_name("Nuñez-García"), "nunezgarcia");
}

TEST(FoldName, OtherScriptsAndStrayBytesAreKeptNotDropped) {
  // Not guessed at: a name in another script is compared as written.
  EXPECT_EQ(fold_name("Παπαδόπουλος"), "Παπαδόπουλος");
  EXPECT_EQ(fold_name(""), "");
  EXPECT_EQ(fold_name("\xC3"), "\xC3");  // a truncated sequence stays (input was validated upstream)
  EXPECT_NE(fold_name("Smith"), fold_name("Smyth"));
}

}  // namespace
}  // namespace esrsync::model
