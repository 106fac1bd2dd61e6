// Blocking trees from (waiter, blocker) pairs: roots, depths, counts, several blockers per
// waiter, cycles (deadlocks in progress), and inputs the server may send (repeated pairs).
#include <gtest/gtest.h>

#include "steps/lock_tree.h"

namespace dbrunbook::steps {
namespace {

std::vector<std::string> Ids(const BlockingTree& tree) {
  std::vector<std::string> ids;
  for (const auto& b : tree.blocked) ids.push_back(b.id);
  return ids;
}

const BlockedTransaction* Find(const BlockingTree& tree, const std::string& id) {
  for (const auto& b : tree.blocked) {
    if (b.id == id) return &b;
  }
  return nullptr;
}

TEST(LockTreeTest, EmptyInputHasNoTrees) { EXPECT_TRUE(BuildBlockingForest({}).empty()); }

TEST(LockTreeTest, ChainOfThreeHasOneRoot) {
  // c waits for b, b waits for a; a waits for nothing.
  const auto forest = BuildBlockingForest({{"b", "a", 12}, {"c", "b", 7}});
  ASSERT_EQ(forest.size(), 1u);
  const BlockingTree& t = forest[0];
  EXPECT_EQ(t.roots, std::vector<std::string>{"a"});
  EXPECT_FALSE(t.cycle);
  EXPECT_EQ(Ids(t), (std::vector<std::string>{"b", "c"}));
  EXPECT_EQ(t.direct, 1u);
  EXPECT_EQ(t.transitive(), 2u);
  EXPECT_DOUBLE_EQ(t.longest_wait_seconds, 12);
  EXPECT_EQ(Find(t, "b")->depth, 1);
  EXPECT_EQ(Find(t, "c")->depth, 2);
  EXPECT_EQ(Find(t, "c")->blocked_by, std::vector<std::string>{"b"});
  EXPECT_DOUBLE_EQ(Find(t, "c")->wait_seconds, 7);
}

TEST(LockTreeTest, RepeatedPairsCountOnceWithTheLongestWait) {
  const auto forest = BuildBlockingForest({{"w", "r", 3}, {"w", "r", 5}, {"w", "r", 4}});
  ASSERT_EQ(forest.size(), 1u);
  EXPECT_EQ(forest[0].transitive(), 1u);
  EXPECT_DOUBLE_EQ(forest[0].blocked[0].wait_seconds, 5);
  EXPECT_EQ(forest[0].blocked[0].blocked_by, std::vector<std::string>{"r"});
}

TEST(LockTreeTest, SelfPairsAndEmptyIdsAreIgnored) {
  EXPECT_TRUE(BuildBlockingForest({{"a", "a", 1}, {"", "b", 1}, {"c", "", 1}}).empty());
}

TEST(LockTreeTest, AWaiterBlockedByTwoRootsIsInBothTrees) {
  const auto forest = BuildBlockingForest({{"w", "r1", 2}, {"w", "r2", 2}, {"x", "r1", 9}});
  ASSERT_EQ(forest.size(), 2u);
  // r1 holds up two transactions, r2 one: r1 first.
  EXPECT_EQ(forest[0].roots, std::vector<std::string>{"r1"});
  EXPECT_EQ(Ids(forest[0]), (std::vector<std::string>{"w", "x"}));
  EXPECT_EQ(forest[1].roots, std::vector<std::string>{"r2"});
  EXPECT_EQ(Ids(forest[1]), std::vector<std::string>{"w"});
  EXPECT_EQ(Find(forest[1], "w")->blocked_by, (std::vector<std::string>{"r1", "r2"}));
}

TEST(LockTreeTest, QueueOfWaitersBehindOneHolder) {
  // What MariaDB 10.11 reported live for four sessions queued on the same rows: a waiter is
  // also "blocked" by every waiter ahead of it in the queue.
  const auto forest = BuildBlockingForest({{"28", "27", 1},
                                           {"28", "25", 1},
                                           {"28", "24", 1},
                                           {"27", "25", 2},
                                           {"27", "24", 2},
                                           {"26", "24", 3},
                                           {"26", "23", 3},
                                           {"25", "24", 3},
                                           {"24", "23", 4}});
  ASSERT_EQ(forest.size(), 1u);
  const BlockingTree& t = forest[0];
  EXPECT_EQ(t.roots, std::vector<std::string>{"23"});
  EXPECT_EQ(t.transitive(), 5u);
  EXPECT_EQ(t.direct, 2u);  // 24 and 26
  EXPECT_EQ(Find(t, "24")->depth, 1);
  EXPECT_EQ(Find(t, "26")->depth, 1);
  EXPECT_EQ(Find(t, "25")->depth, 2);
  EXPECT_EQ(Find(t, "27")->depth, 2);
  EXPECT_EQ(Find(t, "28")->depth, 2);
  EXPECT_DOUBLE_EQ(t.longest_wait_seconds, 4);
  // Ordered by depth, then id.
  EXPECT_EQ(Ids(t), (std::vector<std::string>{"24", "26", "25", "27", "28"}));
}

TEST(LockTreeTest, ACycleIsATreeOfItsOwnWithoutARoot) {
  // a and b wait for each other (innodb_deadlock_detect=OFF); c waits for a.
  const auto forest = BuildBlockingForest({{"a", "b", 20}, {"b", "a", 25}, {"c", "a", 3}});
  ASSERT_EQ(forest.size(), 1u);
  const BlockingTree& t = forest[0];
  EXPECT_TRUE(t.cycle);
  EXPECT_EQ(t.roots, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(Ids(t), std::vector<std::string>{"c"});
  EXPECT_EQ(t.direct, 1u);
  EXPECT_DOUBLE_EQ(t.longest_wait_seconds, 25);  // the members' own waits count
}

TEST(LockTreeTest, ACycleBehindARootIsReportedTwice) {
  // r blocks a; a and b wait for each other.
  const auto forest = BuildBlockingForest({{"a", "r", 5}, {"a", "b", 5}, {"b", "a", 6}});
  ASSERT_EQ(forest.size(), 2u);
  const BlockingTree* root = forest[0].cycle ? &forest[1] : &forest[0];
  const BlockingTree* cycle = forest[0].cycle ? &forest[0] : &forest[1];
  EXPECT_EQ(root->roots, std::vector<std::string>{"r"});
  EXPECT_EQ(Ids(*root), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(cycle->roots, (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(cycle->blocked.empty());
}

TEST(LockTreeTest, ThreeWayCycle) {
  const auto forest = BuildBlockingForest({{"a", "b", 1}, {"b", "c", 1}, {"c", "a", 1}});
  ASSERT_EQ(forest.size(), 1u);
  EXPECT_TRUE(forest[0].cycle);
  EXPECT_EQ(forest[0].roots, (std::vector<std::string>{"a", "b", "c"}));
}

TEST(LockTreeTest, TreesAreOrderedBySizeThenLongestWait) {
  const auto forest =
      BuildBlockingForest({{"x", "small", 100}, {"y", "big", 1}, {"z", "big", 1}, {"q", "mid", 9}});
  ASSERT_EQ(forest.size(), 3u);
  EXPECT_EQ(forest[0].roots[0], "big");
  EXPECT_EQ(forest[1].roots[0], "small");  // same size as "mid", longer wait
  EXPECT_EQ(forest[2].roots[0], "mid");
}

TEST(LockTreeTest, LongChainsDoNotExhaustTheStack) {
  std::vector<LockWaitEdge> edges;
  constexpr int kLength = 5000;
  for (int i = 1; i < kLength; ++i) {
    edges.push_back({std::to_string(i), std::to_string(i - 1), 1});
  }
  auto forest = BuildBlockingForest(edges);
  ASSERT_EQ(forest.size(), 1u);
  EXPECT_EQ(forest[0].transitive(), static_cast<size_t>(kLength - 1));
  // Close the chain into one big cycle.
  edges.push_back({"0", std::to_string(kLength - 1), 1});
  forest = BuildBlockingForest(edges);
  ASSERT_EQ(forest.size(), 1u);
  EXPECT_TRUE(forest[0].cycle);
  EXPECT_EQ(forest[0].roots.size(), static_cast<size_t>(kLength));
}

}  // namespace
}  // namespace dbrunbook::steps
