#include "queues/node_properties.h"

#include <limits>

#include "common/json_reader.h"

namespace helix::queues {

using nlohmann::json;

namespace {

constexpr int kMaxNodes = 1000;
constexpr size_t kMaxRanges = 5;

// "a:b", ":b", "a:", "a" -> range; nullopt (with a problem) otherwise.
std::optional<NodeRange> parse_target(const std::string& text, const std::string& path,
                                      Problems& problems) {
  auto number = [](const std::string& s) -> std::optional<int> {
    if (s.empty() || s.size() > 4 || s.find_first_not_of("0123456789") != std::string::npos)
      return std::nullopt;
    return std::stoi(s);
  };
  NodeRange r;
  auto colon = text.find(':');
  if (colon == std::string::npos) {
    auto n = number(text);
    if (!n)
      return problems.add(path, "\"" + text + "\" is not a node index or range"), std::nullopt;
    r.first = *n;
    r.last = *n;
    return r;
  }
  std::string a = text.substr(0, colon), b = text.substr(colon + 1);
  auto first = a.empty() ? std::optional<int>(0) : number(a);
  auto last = b.empty() ? std::optional<int>() : number(b);
  if (!first || (!b.empty() && !last) || (last && *last < *first)) {
    problems.add(path, "\"" + text + "\" is not a range like 0:3, :3, 4: or 2");
    return std::nullopt;
  }
  r.first = *first;
  r.last = last;
  return r;
}

bool holds(const NodeRange& r, int index) {
  return index >= r.first && (!r.last || index <= *r.last);
}

int width(const NodeRange& r, int num_nodes) { return r.last.value_or(num_nodes - 1) - r.first; }

// The narrowest range holding `index`, or nullptr.
const NodeRange* narrowest(const std::vector<NodeRange>& ranges, int index, int num_nodes) {
  const NodeRange* best = nullptr;
  for (const auto& r : ranges)
    if (holds(r, index) && (!best || width(r, num_nodes) < width(*best, num_nodes))) best = &r;
  return best;
}

std::vector<NodeRange> parse_ranges(const json& array, const std::string& path,
                                    const char* container_key, bool is_override,
                                    Problems& problems) {
  std::vector<NodeRange> out;
  if (array.size() > kMaxRanges)
    problems.add(path, std::to_string(array.size()) + " ranges, the maximum is 5");
  for (size_t i = 0; i < array.size(); ++i) {
    JsonReader r(array[i], json_path_index(path, i), problems);
    if (!r.ok()) continue;
    auto target = r.required_string("targetNodes");
    std::optional<NodeRange> range;
    if (target) range = parse_target(*target, r.field_path("targetNodes"), problems);
    ContainerSpec container;
    if (const json* c = r.optional_object(container_key))
      container = parse_container_spec(*c, r.field_path(container_key), is_override, problems);
    else if (!is_override)
      problems.add(r.field_path(container_key), "is required (it holds the nodes' command)");
    r.unsupported("instanceTypes", "instance types do not exist on-prem");
    r.unsupported("eksProperties", "EKS jobs do not exist on-prem");
    r.unsupported("ecsProperties", "ECS task properties are not supported");
    r.reject_unknown();
    if (range) {
      range->container = std::move(container);
      out.push_back(std::move(*range));
    }
  }
  return out;
}

}  // namespace

std::string NodeRange::target() const {
  return std::to_string(first) + ":" + (last ? std::to_string(*last) : "");
}

NodeProperties parse_node_properties(const json& value, const std::string& path,
                                     Problems& problems) {
  NodeProperties props;
  JsonReader r(value, path, problems);
  if (!r.ok()) return props;
  if (auto n = r.required_int("numNodes", 1, kMaxNodes)) props.num_nodes = static_cast<int>(*n);
  if (auto m = r.required_int("mainNode", 0, kMaxNodes - 1)) props.main_node = static_cast<int>(*m);
  if (const json* ranges = r.optional_array("nodeRangeProperties"))
    props.ranges =
        parse_ranges(*ranges, r.field_path("nodeRangeProperties"), "container", false, problems);
  else
    problems.add(r.field_path("nodeRangeProperties"), "is required");
  r.reject_unknown();
  if (props.main_node >= props.num_nodes)
    problems.add(r.field_path("mainNode"), std::to_string(props.main_node) +
                                               " is not below numNodes " +
                                               std::to_string(props.num_nodes));
  for (const auto& range : props.ranges)
    if (range.first >= props.num_nodes || (range.last && *range.last >= props.num_nodes))
      problems.add(r.field_path("nodeRangeProperties"), "range " + range.target() +
                                                            " reaches past the last node " +
                                                            std::to_string(props.num_nodes - 1));
  if (!props.ranges.empty())
    for (int i = 0; i < props.num_nodes; ++i)
      if (!narrowest(props.ranges, i, props.num_nodes)) {
        problems.add(r.field_path("nodeRangeProperties"),
                     "node " + std::to_string(i) + " is in no range; the ranges must cover 0:" +
                         std::to_string(props.num_nodes - 1));
        break;
      }
  return props;
}

json node_properties_to_wire(const NodeProperties& props) {
  json ranges = json::array();
  for (const auto& r : props.ranges) {
    json c;
    c["command"] = r.container.command;
    c["environment"] = environment_to_wire(r.container.environment);
    c["resourceRequirements"] = resource_requirements_to_wire(r.container.resources);
    ranges.push_back({{"targetNodes", r.target()}, {"container", c}});
  }
  return {{"numNodes", props.num_nodes},
          {"mainNode", props.main_node},
          {"nodeRangeProperties", ranges}};
}

NodeOverrides parse_node_overrides(const json& value, Problems& problems) {
  NodeOverrides out;
  JsonReader r(value, "nodeOverrides", problems);
  if (!r.ok()) return out;
  if (auto n = r.optional_int("numNodes", 1, kMaxNodes)) out.num_nodes = static_cast<int>(*n);
  if (const json* o = r.optional_array("nodePropertyOverrides"))
    out.overrides = parse_ranges(*o, r.field_path("nodePropertyOverrides"), "containerOverrides",
                                 true, problems);
  r.reject_unknown();
  return out;
}

Result<std::vector<ContainerSpec>> resolve_node_containers(const NodeProperties& props,
                                                           const NodeOverrides& overrides) {
  Problems problems;
  int n = props.num_nodes;
  if (overrides.num_nodes) {
    n = *overrides.num_nodes;
    const NodeRange* open = nullptr;
    for (const auto& r : props.ranges)
      if (!r.last) open = &r;
    if (!open)
      problems.add("nodeOverrides.numNodes",
                   "needs a range with an open end (like \"1:\") in the job definition");
    else if (open->first >= n)
      problems.add("nodeOverrides.numNodes",
                   "must be above the open range's start " + std::to_string(open->first));
    if (props.main_node >= n)
      problems.add("nodeOverrides.numNodes",
                   "must be above the main node " + std::to_string(props.main_node));
    for (const auto& r : props.ranges)
      if (r.last && *r.last >= n)
        problems.add("nodeOverrides.numNodes", std::to_string(n) + " nodes cut range " +
                                                   r.target() + " of the job definition");
  }
  if (!problems.empty()) return fail(problems.to_error());
  std::vector<ContainerSpec> out;
  for (int i = 0; i < n; ++i) {
    ContainerSpec c = narrowest(props.ranges, i, n)->container;
    if (const NodeRange* o = narrowest(overrides.overrides, i, n)) {
      if (!o->container.command.empty()) c.command = o->container.command;
      c.environment = merge_environment(c.environment, o->container.environment);
      c.resources = c.resources.overridden_by(o->container.resources);
    }
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace helix::queues
