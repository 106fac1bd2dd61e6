// Statements of `dbrunbook mitigate tune`: the InnoDB data size the buffer pool is compared
// with, and reading, setting and persisting the global variables the advice names.
//
// Cost: information_schema.TABLES with sizes opens every table on MySQL 5.7 / MariaDB (see
// resources.h), so the data size is read from it only below a table count (the caller counts
// first with VisibleTableCounts, which opens none); above, from InnoDB's tablespace list (file
// sizes, PROCESS privilege, no table opened). MySQL 8.0 reads TABLES from its dictionary.
//
// SET statements are built only for the variables the tuning rules name (an allow list) and
// for values that are plain unsigned integers or ON/OFF/DEMAND keywords: nothing else can reach
// the server. Empty string: nothing to run (unknown variable, bad value, undetected flavor, or
// RDS/Aurora, where the master user cannot SET GLOBAL: parameter groups instead).
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "dialect/dialect.h"
#include "dialect/resources.h"

namespace dbrunbook::dialect {

// The data size statements (InnodbDataSize, InnodbDataSizeFromTablespaces) are in
// resources.h, beside the other information_schema size reads.

// The variables the tuning rules may change (lower case): innodb_buffer_pool_size,
// max_connections, tmp_table_size, max_heap_table_size, table_open_cache,
// table_definition_cache, thread_cache_size, innodb_log_file_size, innodb_redo_log_capacity,
// innodb_log_buffer_size, query_cache_type, query_cache_size.
const std::vector<std::string_view>& TunableVariables();
bool IsTunableVariable(std::string_view name);

// SHOW GLOBAL VARIABLES WHERE Variable_name IN (...) for tunable `names` (others dropped);
// Variable_name/Value rows. Empty when no name is tunable.
std::string ReadTunableVariables(const std::vector<std::string>& names);

// SET GLOBAL name = value, or SET PERSIST (MySQL-family 8.0+, not RDS/Aurora) when `persist`.
// Empty when not allowed (see the header comment) or when `persist` is asked where the flavor
// has no SET PERSIST.
std::string SetTunableVariable(const Dialect& d, std::string_view name, std::string_view value,
                               bool persist);
// Whether SET PERSIST exists here (MySQL-family 8.0+ self-managed).
bool HasSetPersist(const Flavor& flavor);

}  // namespace dbrunbook::dialect
