// Text passes that several of the Percona Toolkit ports need (internal to src/digest).
#pragma once

#include <string>
#include <string_view>

namespace dbrunbook::digest {

// Perl's s/(?:--|#)[^'"\r\n]*(?=[\r\n]|\Z)//g (QueryRewriter::fingerprint's step 7 and
// QueryParser's comment removal): a "--" or "#" whose rest of line holds no quote is removed
// with that rest. Appends the result to `out`.
void StripPtLineComments(std::string_view q, std::string& out);

}  // namespace dbrunbook::digest
