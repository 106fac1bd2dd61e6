#include "steps/lock_tree.h"

#include <algorithm>
#include <deque>
#include <map>
#include <set>
#include <tuple>
#include <utility>

namespace dbrunbook::steps {
namespace {

struct Graph {
  // waiter -> its blockers; blocker -> its waiters. Sets keep the output deterministic.
  std::map<std::string, std::set<std::string>> blockers_of;
  std::map<std::string, std::set<std::string>> waiters_of;
  std::map<std::string, double> wait_seconds;  // per waiter, the longest reported
  std::set<std::string> nodes;
};

Graph MakeGraph(const std::vector<LockWaitEdge>& edges) {
  Graph g;
  for (const auto& e : edges) {
    if (e.waiter.empty() || e.blocker.empty() || e.waiter == e.blocker) continue;
    g.blockers_of[e.waiter].insert(e.blocker);
    g.waiters_of[e.blocker].insert(e.waiter);
    auto [it, inserted] = g.wait_seconds.emplace(e.waiter, e.wait_seconds);
    if (!inserted) it->second = std::max(it->second, e.wait_seconds);
    g.nodes.insert(e.waiter);
    g.nodes.insert(e.blocker);
  }
  return g;
}

// Strongly connected components of the waits-for graph with more than one member: the wait
// cycles. Iterative Tarjan, so a long chain cannot exhaust the stack.
std::vector<std::vector<std::string>> Cycles(const Graph& g) {
  std::map<std::string, int> index;
  std::map<std::string, int> low;
  std::set<std::string> on_stack;
  std::vector<std::string> stack;
  std::vector<std::vector<std::string>> cycles;
  int next_index = 0;
  static const std::set<std::string> kNone;
  auto successors = [&](const std::string& node) -> const std::set<std::string>& {
    auto it = g.blockers_of.find(node);
    return it == g.blockers_of.end() ? kNone : it->second;
  };

  for (const auto& start : g.nodes) {
    if (index.contains(start)) continue;
    // Frames: node and the iterator to its next successor.
    std::vector<std::pair<std::string, std::set<std::string>::const_iterator>> frames;
    auto visit = [&](const std::string& node) {
      index[node] = low[node] = next_index++;
      stack.push_back(node);
      on_stack.insert(node);
      frames.emplace_back(node, successors(node).begin());
    };
    visit(start);
    while (!frames.empty()) {
      auto& [node, it] = frames.back();
      const auto& next = successors(node);
      if (it != next.end()) {
        const std::string successor = *it;
        ++it;
        if (!index.contains(successor)) {
          visit(successor);
        } else if (on_stack.contains(successor)) {
          low[node] = std::min(low[node], index[successor]);
        }
        continue;
      }
      const std::string done = node;
      frames.pop_back();
      if (!frames.empty()) {
        const std::string& parent = frames.back().first;
        low[parent] = std::min(low[parent], low[done]);
      }
      if (low[done] == index[done]) {
        std::vector<std::string> component;
        while (true) {
          std::string member = stack.back();
          stack.pop_back();
          on_stack.erase(member);
          const bool last = member == done;
          component.push_back(std::move(member));
          if (last) break;
        }
        if (component.size() > 1) {
          std::sort(component.begin(), component.end());
          cycles.push_back(std::move(component));
        }
      }
    }
  }
  return cycles;
}

BlockingTree TreeFrom(const Graph& g, std::vector<std::string> roots, bool cycle) {
  BlockingTree tree;
  tree.cycle = cycle;
  const std::set<std::string> root_set(roots.begin(), roots.end());
  std::map<std::string, int> depth;
  std::deque<std::string> queue;
  for (const auto& r : roots) {
    depth[r] = 0;
    queue.push_back(r);
  }
  while (!queue.empty()) {
    const std::string node = queue.front();
    queue.pop_front();
    auto it = g.waiters_of.find(node);
    if (it == g.waiters_of.end()) continue;
    for (const auto& waiter : it->second) {
      if (depth.contains(waiter)) continue;
      depth[waiter] = depth[node] + 1;
      queue.push_back(waiter);
    }
  }
  for (const auto& [id, d] : depth) {
    auto wait = g.wait_seconds.find(id);
    const double seconds = wait == g.wait_seconds.end() ? 0 : wait->second;
    if (root_set.contains(id)) {
      // Only cycle members wait; a real root never does.
      tree.longest_wait_seconds = std::max(tree.longest_wait_seconds, seconds);
      continue;
    }
    BlockedTransaction b;
    b.id = id;
    b.depth = d;
    auto blockers = g.blockers_of.find(id);
    if (blockers != g.blockers_of.end()) {
      b.blocked_by.assign(blockers->second.begin(), blockers->second.end());
    }
    b.wait_seconds = seconds;
    tree.longest_wait_seconds = std::max(tree.longest_wait_seconds, seconds);
    if (d == 1) ++tree.direct;
    tree.blocked.push_back(std::move(b));
  }
  std::stable_sort(tree.blocked.begin(), tree.blocked.end(),
                   [](const BlockedTransaction& a, const BlockedTransaction& b) {
                     return std::tie(a.depth, a.id) < std::tie(b.depth, b.id);
                   });
  tree.roots = std::move(roots);
  return tree;
}

}  // namespace

std::vector<BlockingTree> BuildBlockingForest(const std::vector<LockWaitEdge>& edges) {
  const Graph g = MakeGraph(edges);
  std::vector<BlockingTree> forest;
  for (const auto& [blocker, waiters] : g.waiters_of) {
    if (!g.blockers_of.contains(blocker)) forest.push_back(TreeFrom(g, {blocker}, false));
  }
  for (auto& cycle : Cycles(g)) forest.push_back(TreeFrom(g, std::move(cycle), true));
  std::stable_sort(forest.begin(), forest.end(), [](const BlockingTree& a, const BlockingTree& b) {
    if (a.transitive() != b.transitive()) return a.transitive() > b.transitive();
    if (a.longest_wait_seconds != b.longest_wait_seconds) {
      return a.longest_wait_seconds > b.longest_wait_seconds;
    }
    return a.roots < b.roots;
  });
  return forest;
}

}  // namespace dbrunbook::steps
