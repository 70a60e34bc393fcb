#include "db/hosts_repo.h"

#include "db/tasks_repo.h"
#include "db/volumes_repo.h"

namespace scoria::db {

Result<BackendMove> MoveBackend(Transaction& tx, const std::string& from, const std::string& to) {
  BackendMove moved;
  if (from == to) return moved;
  const std::string to_backend = to.substr(0, to.find('#'));
  const bool to_pool = to_backend != to;
  // The pool suffix is kept in C++: string slicing differs between SQLite and PostgreSQL.
  ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT id, host FROM volumes WHERE host = ? OR host LIKE ?",
                                       {from, from + "#%"}));
  for (const Row& r : rows) {
    const std::string host = r.Str(1);
    if (!HostOnBackend(host, from)) continue;  // LIKE's '_' matches any character
    ASSIGN_OR_RETURN(int64_t n, tx.Exec("UPDATE volumes SET host = ? WHERE id = ?",
                                        {to_pool ? to : to + host.substr(from.size()), r.Str(0)}));
    moved.volumes += n;
  }
  ASSIGN_OR_RETURN(moved.tasks, RetargetTasks(tx, from, to_backend));
  return moved;
}

}  // namespace scoria::db
