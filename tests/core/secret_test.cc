#include "core/secret.h"

#include <gtest/gtest.h>

#include <sstream>

namespace dbrunbook::core {
namespace {

TEST(SecretTest, NeverPrintsItsValue) {
  Secret secret("hunter2");
  std::ostringstream out;
  out << secret;
  EXPECT_EQ(out.str(), "***");
  EXPECT_EQ(fmt::format("password={}", secret), "password=***");
  EXPECT_EQ(secret.Reveal(), "hunter2");
}

TEST(SecretTest, MoveLeavesSourceEmpty) {
  Secret a("s3cret");
  Secret b(std::move(a));
  EXPECT_EQ(b.Reveal(), "s3cret");
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): the point of the test
}

}  // namespace
}  // namespace dbrunbook::core
