// libsystemd's sd-daemon (readiness, status, watchdog) and sd-journal (structured logging).
// Swift cannot call the variadic sd_journal_send, so the daemon uses sd_journal_sendv.
#ifndef AKUA_DRIFTD_CSYSTEMD_SHIM_H
#define AKUA_DRIFTD_CSYSTEMD_SHIM_H
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>
// setxattr, for the POSIX ACLs that let group adm read /run/akua-driftd (StatusAccess).
#include <sys/xattr.h>
#endif
