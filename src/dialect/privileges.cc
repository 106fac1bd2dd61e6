#include "dialect/privileges.h"

#include "core/strings.h"

namespace dbrunbook::dialect {
namespace {

// The part between "GRANT " and " ON ", or empty when the line has no ON (a role grant:
// "GRANT `app_monitor` TO `monitor`@`%`").
std::string_view PrivilegeList(std::string_view upper_line, std::string_view* on_target) {
  constexpr std::string_view kGrant = "GRANT ";
  if (!upper_line.starts_with(kGrant)) return {};
  const size_t on = upper_line.find(" ON ");
  const size_t to = upper_line.find(" TO ");
  if (on == std::string_view::npos || (to != std::string_view::npos && to < on)) return {};
  std::string_view rest = upper_line.substr(on + 4);
  const size_t end = rest.find(" TO ");
  *on_target = core::Trim(rest.substr(0, end));
  return upper_line.substr(kGrant.size(), on - kGrant.size());
}

bool IsRoleGrant(std::string_view upper_line) {
  return upper_line.starts_with("GRANT ") && upper_line.find(" ON ") == std::string_view::npos &&
         upper_line.find(" TO ") != std::string_view::npos;
}

}  // namespace

std::string ShowGrantsStatement() { return "SHOW GRANTS"; }

PrivilegeState GlobalPrivilege(const std::vector<std::string>& grant_lines,
                               std::string_view privilege) {
  const std::string wanted = core::ToUpper(core::Trim(privilege));
  bool role = false;
  for (const auto& line : grant_lines) {
    const std::string upper = core::ToUpper(core::Trim(line));
    if (IsRoleGrant(upper)) {
      role = true;
      continue;
    }
    std::string_view target;
    const std::string_view list = PrivilegeList(upper, &target);
    if (list.empty() || (target != "*.*" && target != "`*`.`*`")) continue;
    for (const auto& item : core::Split(list, ',')) {
      const std::string_view name = core::Trim(item);
      if (name == wanted || name == "ALL PRIVILEGES" || name == "ALL") {
        return PrivilegeState::kGranted;
      }
    }
  }
  return role ? PrivilegeState::kUnknown : PrivilegeState::kMissing;
}

}  // namespace dbrunbook::dialect
