// File: lib/clients/own_sessions.h
//
// How the servers tell this process's connections from other clients', so
// that lib/servers can count what other clients did during a run:
//
//   cache     every cabench cache connection names itself with CLIENT SETNAME
//             OwnCacheClientName(), "cabench-<pid>-<8 hex digits>": the same
//             for the process's life, different for every process (the
//             random part covers equal pids on different machines), and
//             shown in the server's CLIENT LIST;
//   database  MariaDB cannot name a session, so every cabench database
//             connection records its session (server and CONNECTION_ID())
//             here when it connects, and IsOwnDbSession() knows every
//             session the process ever had (a server gives each new session
//             a new id until it restarts; a few bytes per connect).
//
// Thread safety: every function is safe to call concurrently.
#ifndef CABENCH_LIB_CLIENTS_OWN_SESSIONS_H_
#define CABENCH_LIB_CLIENTS_OWN_SESSIONS_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace cabench {

// The name this process's cache connections give themselves. Never fails.
const std::string& OwnCacheClientName();

// Records that session `id` on `server` ("host:port", SqlSession::server)
// is this process's.
void AddOwnDbSession(std::string_view server, int64_t id);

// True when AddOwnDbSession(server, id) was called before.
bool IsOwnDbSession(std::string_view server, int64_t id);

}  // namespace cabench

#endif  // CABENCH_LIB_CLIENTS_OWN_SESSIONS_H_
