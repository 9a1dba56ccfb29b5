#include "cli/commands.h"

namespace helix::cli {

using nlohmann::json;

int report(const CommandContext& ctx, const Error& error, bool usage) {
  ctx.err << "helix: " << error.to_string() << "\n";
  return usage ? 2 : 1;
}

Result<json> fetch_all_pages(const ApiClient& client, const std::string& operation, json request,
                             const std::string& list_key) {
  json all = json::array();
  // A server that hands back the token it was given would loop for ever.
  std::string previous_token;
  for (;;) {
    auto page = client.batch(operation, request);
    if (!page) return fail(page.error());
    auto list = page->find(list_key);
    if (list != page->end() && list->is_array())
      for (auto& item : *list) all.push_back(std::move(item));
    auto token = page->find("nextToken");
    if (token == page->end() || !token->is_string() || token->get<std::string>().empty()) break;
    if (token->get<std::string>() == previous_token)
      return fail(
          Error::corruption("helixd answered " + operation + " with the same nextToken twice"));
    previous_token = token->get<std::string>();
    request["nextToken"] = previous_token;
  }
  return all;
}

}  // namespace helix::cli
