#include "pipelines/engine/definition.h"

#include <set>

namespace helix::asl {
namespace {

class Builder {
 public:
  explicit Builder(StateMachine& machine) : machine_(machine) {}

  void problem(std::string location, std::string message,
               std::string code = "SCHEMA_VALIDATION_FAILED") {
    diagnostics_.push_back(Diagnostic{"ERROR", std::move(code), std::move(message),
                                      location.empty() ? "/" : std::move(location)});
  }

  int flow(const Json& source, const std::string& at, bool parent_jsonata) {
    auto flow = std::make_unique<Flow>();
    int id = static_cast<int>(machine_.flows.size());
    flow->id = id;
    Flow* f = flow.get();
    machine_.flows.push_back(std::move(flow));
    if (!source.is_object()) {
      problem(at, "a state list must be an object");
      return id;
    }
    std::vector<std::string> missing;
    auto states = source.find("States");
    auto start = source.find("StartAt");
    if (states == source.end()) missing.push_back("States");
    if (start == source.end()) missing.push_back("StartAt");
    if (!missing.empty()) {
      std::string list;
      for (const auto& m : missing) list += (list.empty() ? "" : ", ") + m;
      problem(at, "These fields are required: [" + list + "]");
      return id;
    }
    if (!start->is_string()) {
      problem(at + "/StartAt", "StartAt must be a string");
      return id;
    }
    f->start_at = start->get<std::string>();
    if (!states->is_object()) {
      problem(at + "/States", "States must be an object");
      return id;
    }
    for (auto it = states->begin(); it != states->end(); ++it) {
      State s = state(it.key(), it.value(), at + "/States/" + it.key(), parent_jsonata);
      f = machine_.flows[static_cast<size_t>(id)].get();
      f->index[s.name] = f->states.size();
      f->states.push_back(std::move(s));
    }
    if (!f->find(f->start_at))
      problem(at + "/StartAt", "Missing 'Next' target: " + f->start_at,
              "MISSING_TRANSITION_TARGET");
    for (const auto& s : f->states) {
      std::string base = at + "/States/" + s.name;
      auto check = [&](const std::string& target, const std::string& where) {
        if (!target.empty() && !f->find(target))
          problem(base + where, "Missing 'Next' target: " + target, "MISSING_TRANSITION_TARGET");
      };
      check(s.next, "/Next");
      check(s.default_next, "/Default");
      for (size_t i = 0; i < s.choices.size(); ++i)
        check(s.choices[i].next, "/Choices/" + std::to_string(i) + "/Next");
      for (size_t i = 0; i < s.catchers.size(); ++i)
        check(s.catchers[i].next, "/Catch/" + std::to_string(i) + "/Next");
    }
    return id;
  }

  std::shared_ptr<Template> payload(const Json& source, bool jsonata, const std::string& at,
                                    const std::string& field) {
    auto t = jsonata ? Template::compile_jsonata(source) : Template::compile_payload(source);
    if (!t) {
      problem(at, "The value for the field '" + field + "' is invalid: " + t.error());
      return nullptr;
    }
    return std::make_shared<Template>(std::move(*t));
  }

  std::optional<JsonPath> path(const Json& source, const std::string& at) {
    if (!source.is_string()) {
      problem(at, "The value must be a JSONPath string");
      return std::nullopt;
    }
    auto p = JsonPath::parse(source.get<std::string>());
    if (!p) {
      problem(at, "The value for the field must be a valid JSONPath: " + p.error());
      return std::nullopt;
    }
    return std::move(*p);
  }

  OptionalPath optional_path(const Json& s, const char* field, const std::string& at) {
    OptionalPath out;
    auto it = s.find(field);
    if (it == s.end()) return out;
    out.is_present = true;
    if (it->is_null()) {
      out.is_null = true;
      return out;
    }
    out.path = path(*it, at + "/" + field);
    return out;
  }

  std::vector<std::string> error_list(const Json& source, const std::string& at) {
    std::vector<std::string> out;
    if (!source.is_array() || source.empty()) {
      problem(at, "ErrorEquals must be a non-empty array of strings");
      return out;
    }
    for (const auto& e : source) {
      if (e.is_string()) out.push_back(e.get<std::string>());
    }
    return out;
  }

  // A field that is a number in JSONPath and may be "{% %}" in JSONata.
  void number_or_jsonata(const Json& s, const char* field, bool jsonata, const std::string& at,
                         std::optional<double>& number, std::shared_ptr<Template>& expression) {
    auto it = s.find(field);
    if (it == s.end()) return;
    if (it->is_number()) {
      number = it->get<double>();
    } else if (jsonata && it->is_string() && is_jsonata_string(it->get<std::string>())) {
      expression = payload(*it, true, at + "/" + field, field);
    } else {
      problem(at + "/" + field, std::string("The field '") + field + "' must be a number");
    }
  }

  State state(const std::string& name, const Json& s, const std::string& at, bool parent_jsonata) {
    State st;
    st.name = name;
    if (!s.is_object()) {
      problem(at, "a state must be an object");
      return st;
    }
    auto type = s.find("Type");
    static const std::pair<const char*, StateType> kTypes[] = {
        {"Pass", StateType::kPass},         {"Task", StateType::kTask},
        {"Choice", StateType::kChoice},     {"Wait", StateType::kWait},
        {"Succeed", StateType::kSucceed},   {"Fail", StateType::kFail},
        {"Parallel", StateType::kParallel}, {"Map", StateType::kMap}};
    bool known = false;
    if (type != s.end() && type->is_string())
      for (const auto& [n, t] : kTypes)
        if (*type == n) {
          st.type = t;
          known = true;
        }
    if (!known) {
      problem(at, type == s.end() ? "These fields are required: [Type]" : "Unknown state type");
      return st;
    }
    st.is_jsonata = parent_jsonata;
    if (auto q = s.find("QueryLanguage"); q != s.end()) {
      if (*q == "JSONata") {
        st.is_jsonata = true;
      } else if (*q == "JSONPath") {
        if (parent_jsonata && machine_.is_jsonata)
          problem(at,
                  "'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state "
                  "machine");
        st.is_jsonata = false;
      } else {
        problem(at + "/QueryLanguage", "QueryLanguage must be JSONPath or JSONata");
      }
    }
    bool jn = st.is_jsonata;
    if (auto n = s.find("Next"); n != s.end() && n->is_string()) st.next = n->get<std::string>();
    if (auto e = s.find("End"); e != s.end() && e->is_boolean()) st.is_end = e->get<bool>();
    bool terminal = st.type == StateType::kChoice || st.type == StateType::kSucceed ||
                    st.type == StateType::kFail;
    if (!terminal && st.next.empty() && !st.is_end)
      problem(at, "This state must have either a 'Next' or an 'End' field");
    if (!terminal && !st.next.empty() && st.is_end)
      problem(at, "This state can not have both 'Next' and 'End' fields");

    if (!jn) {
      st.input_path = optional_path(s, "InputPath", at);
      st.output_path = optional_path(s, "OutputPath", at);
      st.result_path = optional_path(s, "ResultPath", at);
      if (auto p = s.find("Parameters"); p != s.end())
        st.parameters = payload(*p, false, at + "/Parameters", "Parameters");
      if (auto p = s.find("ResultSelector"); p != s.end())
        st.result_selector = payload(*p, false, at + "/ResultSelector", "ResultSelector");
    } else {
      if (auto p = s.find("Arguments"); p != s.end())
        st.parameters = payload(*p, true, at + "/Arguments", "Arguments");
      if (auto p = s.find("Output"); p != s.end())
        st.output = payload(*p, true, at + "/Output", "Output");
    }
    if (auto p = s.find("Assign"); p != s.end())
      st.assign = payload(*p, jn, at + "/Assign", "Assign");
    if (auto r = s.find("Result"); r != s.end()) {
      st.result = *r;
      st.result_bytes = r->dump().size();
    }

    switch (st.type) {
      case StateType::kTask: {
        auto r = s.find("Resource");
        if (r == s.end() || !r->is_string())
          problem(at, "These fields are required: [Resource]");
        else
          st.resource = r->get<std::string>();
        if (is_express_) {
          // Recorded messages (the second keeps AWS's trailing space).
          if (st.resource.find(".sync") != std::string::npos)
            problem(at + "/Resource",
                    "Express state machine does not support '.sync' service integration");
          else if (st.resource.find(".waitForTaskToken") != std::string::npos)
            problem(
                at + "/Resource",
                "Express state machine does not support '.waitForTaskToken' service integration ");
        }
        if (auto c = s.find("Credentials"); c != s.end()) {
          if (!c->is_object() || (!c->contains("RoleArn") && !c->contains("RoleArn.$")))
            problem(at + "/Credentials", "The field 'RoleArn' is required but was missing");
        }
        number_or_jsonata(s, "TimeoutSeconds", jn, at, st.timeout_seconds, st.timeout_template);
        number_or_jsonata(s, "HeartbeatSeconds", jn, at, st.heartbeat_seconds,
                          st.heartbeat_template);
        if (auto p = s.find("TimeoutSecondsPath"); p != s.end())
          st.timeout_seconds_path = path(*p, at + "/TimeoutSecondsPath");
        if (auto p = s.find("HeartbeatSecondsPath"); p != s.end())
          st.heartbeat_seconds_path = path(*p, at + "/HeartbeatSecondsPath");
        break;
      }
      case StateType::kChoice: {
        auto c = s.find("Choices");
        if (c == s.end() || !c->is_array() || c->empty()) {
          problem(at, "These fields are required: [Choices]");
        } else {
          for (size_t i = 0; i < c->size(); ++i) {
            auto rule = compile_choice_rule((*c)[i], jn, true);
            if (!rule)
              problem(at + "/Choices/" + std::to_string(i), rule.error());
            else
              st.choices.push_back(std::move(*rule));
          }
        }
        if (auto d = s.find("Default"); d != s.end() && d->is_string())
          st.default_next = d->get<std::string>();
        break;
      }
      case StateType::kWait: {
        number_or_jsonata(s, "Seconds", jn, at, st.wait_seconds, st.wait_seconds_template);
        if (auto t = s.find("Timestamp"); t != s.end()) {
          if (jn && t->is_string() && is_jsonata_string(t->get<std::string>())) {
            st.wait_timestamp_template = payload(*t, true, at + "/Timestamp", "Timestamp");
          } else if (!t->is_string() || !parse_timestamp_us(t->get<std::string>())) {
            problem(at + "/Timestamp", "String does not match RFC3339 timestamp");
          } else {
            st.wait_timestamp = t->get<std::string>();
          }
        }
        if (auto p = s.find("SecondsPath"); p != s.end())
          st.wait_seconds_path = path(*p, at + "/SecondsPath");
        if (auto p = s.find("TimestampPath"); p != s.end())
          st.wait_timestamp_path = path(*p, at + "/TimestampPath");
        int forms = st.wait_seconds.has_value() + st.wait_timestamp.has_value() +
                    st.wait_seconds_path.has_value() + st.wait_timestamp_path.has_value() +
                    (st.wait_seconds_template != nullptr) + (st.wait_timestamp_template != nullptr);
        if (forms != 1)
          problem(at,
                  "A Wait state needs exactly one of Seconds, Timestamp, SecondsPath, "
                  "TimestampPath");
        break;
      }
      case StateType::kFail: {
        for (const char* field : {"Error", "Cause"}) {
          auto f = s.find(field);
          if (f == s.end()) continue;
          bool is_error = std::string(field) == "Error";
          if (jn && f->is_string() && is_jsonata_string(f->get<std::string>())) {
            (is_error ? st.error_template : st.cause_template) =
                payload(*f, true, at + "/" + field, field);
          } else if (f->is_string()) {
            (is_error ? st.error : st.cause) = f->get<std::string>();
          } else {
            problem(at + "/" + field, std::string(field) + " must be a string");
          }
        }
        for (const char* field : {"ErrorPath", "CausePath"}) {
          auto p = s.find(field);
          if (p == s.end()) continue;
          auto t = payload(Json{{"v.$", *p}}, false, at + "/" + field, field);
          (std::string(field) == "ErrorPath" ? st.error_path_template : st.cause_path_template) = t;
        }
        break;
      }
      case StateType::kParallel: {
        auto b = s.find("Branches");
        if (b == s.end() || !b->is_array()) {
          problem(at, "These fields are required: [Branches]");
        } else {
          std::vector<int> ids;
          for (size_t i = 0; i < b->size(); ++i)
            ids.push_back(flow((*b)[i], at + "/Branches[" + std::to_string(i) + "]", jn));
          st.branches = ids;
        }
        break;
      }
      case StateType::kMap: {
        auto p = s.find("ItemProcessor");
        if (p == s.end()) p = s.find("Iterator");
        if (p == s.end()) {
          problem(at, "These fields are required: [ItemProcessor]");
        } else {
          if (auto cfg = p->find("ProcessorConfig"); cfg != p->end() && cfg->is_object())
            st.is_distributed = cfg->value("Mode", "INLINE") == "DISTRIBUTED";
          st.processor = flow(*p, at + "/ItemProcessor", jn);
        }
        if (auto ip = s.find("ItemsPath"); ip != s.end())
          st.items_path = path(*ip, at + "/ItemsPath");
        if (auto it = s.find("Items"); it != s.end())
          st.items = payload(*it, true, at + "/Items", "Items");
        auto sel = s.find("ItemSelector");
        if (sel == s.end() && !jn) sel = s.find("Parameters");
        if (sel != s.end())
          st.item_selector = payload(*sel, jn, at + "/ItemSelector", "ItemSelector");
        if (!jn) st.parameters = nullptr;
        if (auto m = s.find("MaxConcurrency"); m != s.end() && m->is_number_integer())
          st.max_concurrency = m->get<int>();
        for (const char* field :
             {"MaxConcurrency", "ToleratedFailureCount", "ToleratedFailurePercentage"}) {
          auto m = s.find(field);
          if (m == s.end() || !jn || !m->is_string() || !is_jsonata_string(m->get<std::string>()))
            continue;
          auto t = payload(*m, true, at + "/" + field, field);
          std::string which(field);
          (which == "MaxConcurrency"          ? st.max_concurrency_template
           : which == "ToleratedFailureCount" ? st.tolerated_count_template
                                              : st.tolerated_percentage_template) = t;
        }
        if (auto m = s.find("MaxConcurrencyPath"); m != s.end())
          st.max_concurrency_path = path(*m, at + "/MaxConcurrencyPath");
        if (auto t = s.find("ToleratedFailurePercentage"); t != s.end() && t->is_number())
          st.tolerated_failure_percentage = t->get<double>();
        if (auto t = s.find("ToleratedFailureCount"); t != s.end() && t->is_number_integer())
          st.tolerated_failure_count = t->get<int>();
        if (auto t = s.find("ToleratedFailurePercentagePath"); t != s.end())
          st.tolerated_failure_percentage_path = path(*t, at + "/ToleratedFailurePercentagePath");
        if (auto t = s.find("ToleratedFailureCountPath"); t != s.end())
          st.tolerated_failure_count_path = path(*t, at + "/ToleratedFailureCountPath");
        if (auto t = s.find("ItemBatcher"); t != s.end()) st.item_batcher = *t;
        for (const char* field : {"ItemReader", "ResultWriter"}) {
          auto t = s.find(field);
          if (t == s.end()) continue;
          if (!t->is_object()) {
            problem(at + "/" + field, std::string(field) + " must be an object");
            continue;
          }
          bool is_reader = std::string(field) == "ItemReader";
          (is_reader ? st.item_reader : st.result_writer) = *t;
          const char* key = jn ? "Arguments" : "Parameters";
          Json params = t->value(key, Json::object());
          (is_reader ? st.item_reader_parameters : st.result_writer_parameters) =
              payload(params, jn, at + "/" + field + "/" + key, key);
        }
        break;
      }
      default:
        break;
    }

    if (auto r = s.find("Retry"); r != s.end() && r->is_array()) {
      for (size_t i = 0; i < r->size(); ++i) {
        const Json& rj = (*r)[i];
        std::string rat = at + "/Retry/" + std::to_string(i);
        Retrier retrier;
        retrier.errors = error_list(rj.value("ErrorEquals", Json()), rat + "/ErrorEquals");
        retrier.interval_seconds = rj.value("IntervalSeconds", 1.0);
        retrier.max_attempts = rj.value("MaxAttempts", 3);
        retrier.backoff_rate = rj.value("BackoffRate", 2.0);
        if (rj.contains("MaxDelaySeconds"))
          retrier.max_delay_seconds = rj["MaxDelaySeconds"].get<double>();
        retrier.is_jitter_full = rj.value("JitterStrategy", "NONE") == "FULL";
        st.retriers.push_back(std::move(retrier));
      }
    }
    if (auto c = s.find("Catch"); c != s.end() && c->is_array()) {
      for (size_t i = 0; i < c->size(); ++i) {
        const Json& cj = (*c)[i];
        std::string cat = at + "/Catch/" + std::to_string(i);
        Catcher catcher;
        catcher.errors = error_list(cj.value("ErrorEquals", Json()), cat + "/ErrorEquals");
        catcher.next = cj.value("Next", "");
        if (catcher.next.empty()) problem(cat, "These fields are required: [Next]");
        if (auto rp = cj.find("ResultPath"); rp != cj.end()) {
          if (rp->is_null())
            catcher.is_result_path_null = true;
          else
            catcher.result_path = path(*rp, cat + "/ResultPath");
        }
        if (auto a = cj.find("Assign"); a != cj.end())
          catcher.assign = payload(*a, jn, cat + "/Assign", "Assign");
        if (auto o = cj.find("Output"); o != cj.end())
          catcher.output = payload(*o, true, cat + "/Output", "Output");
        st.catchers.push_back(std::move(catcher));
      }
    }
    return st;
  }

  std::vector<Diagnostic> diagnostics_;
  bool is_express_ = false;

 private:
  StateMachine& machine_;
};

}  // namespace

const char* state_type_name(StateType type) {
  switch (type) {
    case StateType::kPass:
      return "Pass";
    case StateType::kTask:
      return "Task";
    case StateType::kChoice:
      return "Choice";
    case StateType::kWait:
      return "Wait";
    case StateType::kSucceed:
      return "Succeed";
    case StateType::kFail:
      return "Fail";
    case StateType::kParallel:
      return "Parallel";
    case StateType::kMap:
      return "Map";
  }
  return "Pass";
}

bool has_task_token(const State& state) {
  return state.type == StateType::kTask &&
         (state.resource.find(".sync") != std::string::npos ||
          state.resource.find(".waitForTaskToken") != std::string::npos);
}

tl::expected<std::shared_ptr<const StateMachine>, std::vector<Diagnostic>> parse_state_machine(
    const Json& definition, ParseOptions options) {
  auto machine = std::make_shared<StateMachine>();
  machine->source = definition;
  Builder builder(*machine);
  builder.is_express_ = options.is_express;
  if (!definition.is_object()) {
    builder.problem("/", "The definition must be a JSON object");
    return tl::unexpected(builder.diagnostics_);
  }
  if (auto q = definition.find("QueryLanguage"); q != definition.end())
    machine->is_jsonata = *q == "JSONata";
  if (auto t = definition.find("TimeoutSeconds"); t != definition.end() && t->is_number())
    machine->timeout_seconds = t->get<double>();
  builder.flow(definition, "", machine->is_jsonata);
  if (!builder.diagnostics_.empty()) return tl::unexpected(builder.diagnostics_);
  return std::shared_ptr<const StateMachine>(std::move(machine));
}

std::string invalid_definition_message(const std::vector<Diagnostic>& diagnostics) {
  std::string out = "Invalid State Machine Definition: '";
  for (size_t i = 0; i < diagnostics.size(); ++i) {
    if (i) out += ", ";
    out += diagnostics[i].code + ": " + diagnostics[i].message + " at " + diagnostics[i].location;
  }
  return out + "'";
}

}  // namespace helix::asl
