// nodeProperties and nodeOverrides (batch-semantics.md section 9): ranges,
// coverage, nesting, overrides of numNodes, every problem named.
#include "queues/node_properties.h"

#include <gtest/gtest.h>

namespace helix::queues {
namespace {

using nlohmann::json;

json range(const std::string& target, const std::string& command, int vcpus = 1) {
  return {{"targetNodes", target},
          {"container",
           {{"command", {command}},
            {"resourceRequirements", {{{"type", "VCPU"}, {"value", std::to_string(vcpus)}}}}}}};
}

NodeProperties parse(const json& j, Problems& problems) {
  return parse_node_properties(j, "nodeProperties", problems);
}

TEST(NodeProperties, NarrowerRangeWinsAndEveryNodeGetsItsContainer) {
  Problems problems;
  auto props = parse({{"numNodes", 4},
                      {"mainNode", 0},
                      {"nodeRangeProperties", {range("0:", "worker", 2), range("0", "main", 4)}}},
                     problems);
  ASSERT_TRUE(problems.empty()) << problems.to_error().message();
  auto nodes = resolve_node_containers(props, {});
  ASSERT_TRUE(nodes);
  ASSERT_EQ(nodes->size(), 4u);
  EXPECT_EQ((*nodes)[0].command, std::vector<std::string>{"main"});
  EXPECT_EQ((*nodes)[0].resources.vcpus, 4);
  EXPECT_EQ((*nodes)[3].command, std::vector<std::string>{"worker"});
  EXPECT_EQ((*nodes)[3].resources.vcpus, 2);
}

TEST(NodeProperties, EveryProblemIsNamed) {
  Problems problems;
  parse({{"numNodes", 3},
         {"mainNode", 3},
         {"nodeRangeProperties", {range("1:2", "a"), range("x", "b"), range("2:1", "c")}}},
        problems);
  std::string text = problems.to_error().message();
  EXPECT_NE(text.find("nodeProperties.mainNode: 3 is not below numNodes 3"), std::string::npos)
      << text;
  EXPECT_NE(text.find("node 0 is in no range"), std::string::npos) << text;
  EXPECT_NE(text.find("nodeRangeProperties[1].targetNodes: \"x\""), std::string::npos) << text;
  EXPECT_NE(text.find("nodeRangeProperties[2].targetNodes: \"2:1\""), std::string::npos) << text;
}

TEST(NodeProperties, NumNodesOverrideNeedsAnOpenRangeAndKeepsTheMainNode) {
  Problems problems;
  auto open = parse({{"numNodes", 2}, {"mainNode", 0}, {"nodeRangeProperties", {range("0:", "w")}}},
                    problems);
  NodeOverrides more;
  more.num_nodes = 5;
  auto nodes = resolve_node_containers(open, more);
  ASSERT_TRUE(nodes);
  EXPECT_EQ(nodes->size(), 5u);

  auto closed = parse(
      {{"numNodes", 2}, {"mainNode", 1}, {"nodeRangeProperties", {range("0:1", "w")}}}, problems);
  NodeOverrides fewer;
  fewer.num_nodes = 1;
  auto refused = resolve_node_containers(closed, fewer);
  ASSERT_FALSE(refused);
  std::string text = refused.error().message();
  EXPECT_NE(text.find("needs a range with an open end"), std::string::npos) << text;
  EXPECT_NE(text.find("must be above the main node 1"), std::string::npos) << text;
}

TEST(NodeProperties, OverridesReplaceTheCommandOfTheirNodesOnly) {
  Problems problems;
  auto props = parse(
      {{"numNodes", 3}, {"mainNode", 0}, {"nodeRangeProperties", {range("0:", "w")}}}, problems);
  auto overrides = parse_node_overrides(
      {{"nodePropertyOverrides",
        {{{"targetNodes", "1:2"}, {"containerOverrides", {{"command", {"other"}}}}}}}},
      problems);
  ASSERT_TRUE(problems.empty()) << problems.to_error().message();
  auto nodes = resolve_node_containers(props, overrides);
  ASSERT_TRUE(nodes);
  EXPECT_EQ((*nodes)[0].command, std::vector<std::string>{"w"});
  EXPECT_EQ((*nodes)[1].command, std::vector<std::string>{"other"});
  EXPECT_EQ((*nodes)[2].command, std::vector<std::string>{"other"});
}

}  // namespace
}  // namespace helix::queues
